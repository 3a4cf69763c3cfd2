"""Training runs end to end on a real database and real TensorFlow (tiny planted catalogue)."""
import threading
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from books.models import Book, BookLink, Link
from recommender.models import BookVector, EmbeddingVersion, LinkVector, ShelfVector, TrainingRun
from recommender.selectors import active_version, similar_books
from recommender.services.training_pipeline import _Progress, training_run_execute
from recommender.services.training_runs import (
    WORKER_STOPPED,
    TrainingParamsInvalid,
    TrainingRunConflict,
    TrainingRunError,
    training_run_cancel,
    training_run_request,
    training_runs_fail_dead,
)
from recommender.training import sources
from recommender.vectors import book_index_name, link_index_name
from tests.recommender.planted import FAST_PARAMS, planted_catalogue

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%%USING hnsw%%'")
        return {name for (name,) in cursor.fetchall()}


def train(params=None, **kwargs) -> TrainingRun:
    run = training_run_request(trigger="command", params={**FAST_PARAMS, **(params or {})}, enqueue=False)
    return training_run_execute(run_id=run.pk, **kwargs)


def test_a_run_publishes_an_active_indexed_checked_version():
    catalogue = planted_catalogue()
    seen = []

    run = train(on_progress=lambda *args: seen.append(args))

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = active_version()
    assert version is not None and version.training_run_id == run.pk and version.is_ready
    assert {book_index_name(version.pk), link_index_name(version.pk)} <= index_names()
    assert version.ann_recall_at_10 is not None and version.ann_recall_at_10 >= 0.9
    assert BookVector.objects.filter(version=version).count() == len(catalogue.books) == version.book_count
    assert LinkVector.objects.filter(version=version).count() == len(catalogue.links) == version.link_count
    assert not BookVector.objects.filter(version=version, map_x__isnull=True).exists()
    assert version.layout_method == "umap"
    # Progress, timings, parameters and metrics are recorded on the run.
    assert run.epoch == FAST_PARAMS["epochs"] and run.step == run.steps_per_epoch > 0
    assert len(run.loss_history) == FAST_PARAMS["epochs"] and seen
    assert run.params["embedding_dim"] == 8 and "removed_links" in run.params
    assert {"read_pairs", "train", "shelf_model", "evaluate", "layout", "publish", "predict", "index_books",
            "index_links"} <= set(run.timings)
    # Shelves are served by the shelf model, fitted on the training readers' shelves.
    assert ShelfVector.objects.filter(version=version).count() == version.shelf_model_book_count > 0
    for name in ("heldout_auc", "same_author_precision@5", "genre_knn_accuracy@10", "shelf_recall@20",
                 "popularity_recall@20", "votes_recall@20"):
        assert name in run.metrics and name in version.metrics
    assert run.metrics["data"]["shelf_pairs"] > 0 and run.metrics["data"]["validation_readers"] == 2
    assert run.metrics["quality_gate"] == {"passed": True, "activated": True, "reasons": []}
    # The planted groups were learnt: a book's nearest books are of its group.
    same_group = [
        catalogue.group_of_book[neighbour.book.pk] == catalogue.group_of_book[book.pk]
        for book in catalogue.books for neighbour in similar_books(book=book, k=5)
    ]
    assert len(same_group) == 5 * len(catalogue.books) and sum(same_group) / len(same_group) >= 0.9


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_book_index_is_built_on_its_own_connection_while_the_run_predicts():
    planted_catalogue()
    threads_before = {thread.name for thread in threading.enumerate()}

    run = train()

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = active_version()
    assert version.training_run_id == run.pk and version.is_ready and version.ann_recall_at_10 >= 0.9
    assert {book_index_name(version.pk), link_index_name(version.pk)} <= index_names()
    assert run.metrics["ann_recall@10"] == version.ann_recall_at_10
    assert {"publish", "predict", "index_books"} <= set(run.timings)
    assert {thread.name for thread in threading.enumerate()} <= threads_before, "the build's thread has ended"


def test_a_second_request_is_refused_while_one_is_open():
    first = training_run_request(trigger="admin", params=FAST_PARAMS, enqueue=False)

    with pytest.raises(TrainingRunConflict, match=f"Run {first.pk} is already queued"):
        training_run_request(trigger="api", enqueue=False)
    assert TrainingRun.objects.count() == 1


def test_invalid_parameters_are_refused_naming_the_field():
    with pytest.raises(TrainingParamsInvalid, match="epochs"):
        training_run_request(trigger="admin", params={"epochs": 0}, enqueue=False)
    with pytest.raises(TrainingParamsInvalid, match="unknown training parameter.*colour"):
        training_run_request(trigger="admin", params={"colour": "red"}, enqueue=False)
    assert not TrainingRun.objects.exists()


def test_a_run_with_nothing_to_train_on_fails_and_the_live_version_keeps_serving():
    planted_catalogue()
    live = train().embedding_version
    before = set(EmbeddingVersion.objects.values_list("pk", flat=True))

    failed = train({"min_books_per_link": 10_000, "shelf_weight": 0})

    assert failed.status == TrainingRun.Status.FAILED
    assert failed.error.startswith("NoTrainingData: nothing to train on")
    assert failed.finished_at is not None
    assert active_version().pk == live.pk
    assert set(EmbeddingVersion.objects.values_list("pk", flat=True)) == before


def test_a_small_catalogue_runs_more_epochs_than_asked_and_the_run_says_how_many():
    planted_catalogue()

    run = train({"epochs": 2, "min_steps": 60})

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.steps_per_epoch < 30, "the planted catalogue must be small for this test"
    assert run.params["epochs"] == 2 and run.params["min_steps"] == 60
    assert run.epochs == run.epoch == len(run.loss_history) == -(-60 // run.steps_per_epoch) > 2


def test_an_error_while_training_leaves_no_half_written_version():
    planted_catalogue()
    first = train()

    def explode(epoch, epochs, step, steps, loss):
        if epoch == 2:
            raise RuntimeError("disk on fire")

    failed = train(on_progress=explode)

    assert failed.status == TrainingRun.Status.FAILED and failed.error == "RuntimeError: disk on fire"
    assert failed.epoch >= 1 and failed.loss_history, "progress up to the failure is kept"
    assert active_version().training_run_id == first.pk
    assert EmbeddingVersion.objects.count() == 1


def test_cancelling_a_queued_run_is_immediate_and_the_worker_then_skips_it():
    run = training_run_request(trigger="admin", params=FAST_PARAMS, enqueue=False)

    training_run_cancel(run=run)
    executed = training_run_execute(run_id=run.pk)

    assert executed.status == TrainingRun.Status.CANCELLED and executed.started_at is None
    with pytest.raises(TrainingRunError, match=f"^Run {run.pk} has already been cancelled; only a queued or running"):
        training_run_cancel(run=executed)


def test_cancelling_a_running_run_stops_it_at_the_next_progress_report():
    planted_catalogue()
    # Far more epochs than can pass before the worker reads the request (at most a second later).
    run = training_run_request(trigger="admin", params={**FAST_PARAMS, "epochs": 5000}, enqueue=False)

    def cancel_in_epoch_two(epoch, epochs, step, steps, loss):
        if epoch == 2 and step == steps:
            training_run_cancel(run=TrainingRun.objects.get(pk=run.pk))

    done = training_run_execute(run_id=run.pk, on_progress=cancel_in_epoch_two)

    assert done.status == TrainingRun.Status.CANCELLED and done.cancel_requested
    assert done.epoch < 5000
    assert not EmbeddingVersion.objects.exists()


def test_between_stages_a_cancel_is_read_at_once_not_up_to_a_second_later():
    run = training_run_request(trigger="admin", params=FAST_PARAMS, enqueue=False)
    progress = _Progress(run, also=None)
    assert not progress.should_stop()  # the trainer's check: the row is read, then not again for a second

    training_run_cancel(run=run)

    assert progress.should_stop(fresh=True) and progress.stop_reason == "cancelled"


def test_runs_whose_worker_died_are_marked_failed_and_a_new_request_then_works():
    old = timezone.now() - timedelta(minutes=10)
    stale = TrainingRun.objects.create(trigger="admin", status="running", started_at=old)
    TrainingRun.objects.filter(pk=stale.pk).update(heartbeat_at=old)

    run = training_run_request(trigger="admin", enqueue=False)

    stale.refresh_from_db()
    assert stale.status == TrainingRun.Status.FAILED and stale.error == WORKER_STOPPED
    assert run.status == TrainingRun.Status.QUEUED


def test_a_starting_worker_fails_its_own_running_run_even_with_a_fresh_heartbeat():
    now = timezone.now()
    mine = TrainingRun.objects.create(trigger="admin", status="running", started_at=now, heartbeat_at=now,
                                      worker="training@host")

    assert training_runs_fail_dead(worker="training@other-host") == []
    assert training_runs_fail_dead(worker="training@host") == [mine.pk]
    mine.refresh_from_db()
    assert mine.status == TrainingRun.Status.FAILED and mine.error == WORKER_STOPPED


def test_a_queued_run_older_than_the_time_limit_is_failed_as_lost(settings):
    settings.TRAINING_TIME_LIMIT = 60
    lost = TrainingRun.objects.create(trigger="admin")
    TrainingRun.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    fresh_enough = training_runs_fail_dead()

    lost.refresh_from_db()
    assert fresh_enough == [lost.pk] and lost.status == TrainingRun.Status.FAILED
    assert "task was lost" in lost.error


def test_a_run_past_the_time_limit_stops_and_fails(settings):
    planted_catalogue()
    settings.TRAINING_TIME_LIMIT = 0

    run = train()

    assert run.status == TrainingRun.Status.FAILED and "time limit of 0 s exceeded" in run.error
    assert not EmbeddingVersion.objects.exists()


def _two_source_catalogue(topics: int = 4, books_per_topic: int = 25) -> dict[int, int]:
    """``MIN_SOURCE_BOOKS`` Wikipedia and as many goodbooks books on shared topics: each source's books link to its
    own vocabulary's links of their topic (wikilinks, reader tags), and every book to one link of its topic both
    sources use (as a genre is). Returns each book's topic."""
    rng = np.random.default_rng(1)
    topic_of_book = {}
    shared = Link.objects.bulk_create([Link(name=f"shared {t}", display_name=f"Shared {t}", kind=Link.Kind.TAG)
                                       for t in range(topics)])
    for source, kind in (("wikipedia", Link.Kind.WIKILINK), ("goodbooks", Link.Kind.TAG)):
        own = Link.objects.bulk_create([Link(name=f"{source} {t}-{j}", display_name=f"{source} {t}-{j}", kind=kind)
                                        for t in range(topics) for j in range(6)])
        books = Book.objects.bulk_create([
            Book(external_id=f"{source}:{source} {t}-{i}", source=source, title=f"{source} {t}-{i}")
            for t in range(topics) for i in range(books_per_topic)])
        links = []
        for index, book in enumerate(books):
            topic_of_book[book.pk] = topic = index // books_per_topic
            links.append(BookLink(book=book, link=shared[topic]))
            links += [BookLink(book=book, link=own[topic * 6 + j]) for j in rng.choice(6, 4, replace=False)]
        BookLink.objects.bulk_create(links)
    return topic_of_book


def _source_gap(version) -> float:
    """How far apart the two sources' mean published vectors are."""
    rows = BookVector.objects.filter(version=version).values_list("book__source", "embedding")
    vectors = {source: np.array([np.asarray(v) for s, v in rows if s == source]) for source in ("wikipedia", "goodbooks")}
    return float(np.linalg.norm(vectors["wikipedia"].mean(axis=0) - vectors["goodbooks"].mean(axis=0)))


def test_each_sources_books_are_centred_on_their_own_mean(monkeypatch):
    assert sources.MIN_SOURCE_BOOKS == 100
    _two_source_catalogue()
    monkeypatch.setattr(sources, "MIN_SOURCE_BOOKS", 10**6)  # as the code before: no source is centred
    kept = train()
    gap_kept = _source_gap(EmbeddingVersion.objects.get(training_run=kept))
    monkeypatch.undo()

    taken_out = train()

    assert kept.metrics["data"]["sources_centred"] == []
    assert taken_out.status == TrainingRun.Status.SUCCEEDED
    assert taken_out.metrics["data"]["sources_centred"] == ["goodbooks", "wikipedia"]
    version = EmbeddingVersion.objects.get(training_run=taken_out)
    assert _source_gap(version) < 0.2 * gap_kept, (gap_kept, _source_gap(version))
    links = np.array([np.asarray(v) for v in LinkVector.objects.filter(version=version)
                      .values_list("embedding", flat=True)])
    assert np.allclose(np.linalg.norm(links, axis=1), 1, atol=1e-4), "links are centred and normalised too"
