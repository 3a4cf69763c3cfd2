"""A small smoke version of the whole-catalogue benchmark, on the bundled goodbooks sample and Wikipedia
books: both imported, one run in a real Celery worker, similar books listed for well-known books."""
import json

import pytest

from tests.support import PROJECT_DIR

pytestmark = pytest.mark.slow


def test_both_data_sets_are_imported_trained_by_a_worker_and_served(run_bench):
    results = run_bench(
        "bench.speed.full_catalogue", "--goodbooks", str(PROJECT_DIR / "data" / "goodbooks"),
        "--wikipedia", str(PROJECT_DIR / "data" / "wikipedia" / "p15_books.ndjson"),
        "--params", '{"epochs": 1, "embedding_dim": 8}')

    figures = json.loads((results / "full_catalogue.json").read_text())
    assert set(figures["import_seconds"]) == {"goodbooks", "wikipedia"}
    assert figures["summary"]["worker_peak_rss_mib"] > 0 and figures["params"]["epochs"] == 1
    assert "wikipedia:same_author_precision@5" in figures["metrics"]
    assert {"The Son of Tarzan", "Dragonsdawn", "King Conan"} <= set(figures["similar_books"])
    assert all(len(similar) == 5 for similar in figures["similar_books"].values())
