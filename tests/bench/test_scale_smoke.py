"""The scale benchmark's generator, imported and trained through the product at a tiny size (CI's smoke of
``make bench-scale``: the generator, the goodbooks import, every stage of a training run, sampled evaluation)."""
import json

import numpy as np
import pytest
from django.core.management import call_command

from bench.scale.generate import GENRES, generate
from books.importers.goodbooks import GENRE_OF_TAG
from books.models import Book, ShelfEntry
from recommender.models import TrainingRun
from recommender.selectors import active_version
from recommender.services.training_pipeline import RUN_STAGES, training_run_execute
from recommender.services.training_runs import training_run_request
from recommender.training import quality
from tests.recommender.planted import FAST_PARAMS

pytestmark = pytest.mark.slow


def test_the_generator_is_seeded_and_writes_its_planted_truth(tmp_path):
    first = generate(120, tmp_path / "a", seed=5)
    again = generate(120, tmp_path / "b", seed=5)
    for name in ("books.csv", "tags.csv", "book_tags.csv", "to_read.csv", "ratings.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first.readers == 600 and first.shelf_entries == again.shelf_entries > 0
    truth = np.load(tmp_path / "a" / "truth.npz")
    assert len(truth["book_genre"]) == 120 and truth["reader_weights"].sum(axis=1) == pytest.approx(1.0)
    assert json.loads((tmp_path / "a" / "truth.json").read_text())["genres_by_index"][0] == GENRES[0][0]


@pytest.mark.django_db(transaction=True)
def test_a_generated_catalogue_imports_and_trains_through_every_stage(tmp_path, monkeypatch):
    figures = generate(60, tmp_path, seed=1)
    call_command("import_goodbooks", str(tmp_path), verbosity=0)
    assert Book.objects.count() == 60
    assert ShelfEntry.objects.count() == figures.shelf_entries
    truth = np.load(tmp_path / "truth.npz")
    book = Book.objects.get(external_id="goodbooks:1")
    assert book.genre.split(", ")[0] == GENRE_OF_TAG[GENRES[truth["book_genre"][0]][0]]  # the planted genre, read back

    monkeypatch.setattr(quality, "EVALUATED_BOOKS", 30)  # the sampled evaluation a large catalogue gets
    run = training_run_request(trigger="command", params={**FAST_PARAMS, "epochs": 3, "batch_size": 256},
                               enqueue=False)
    run = training_run_execute(run_id=run.pk)

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert set(RUN_STAGES) <= set(run.timings)
    assert run.metrics["data"]["readers"] > 200 and run.metrics["same_author_precision@5"] >= 0
    assert active_version().book_count == 60
