"""A smoke version of the served similar-books benchmark on the bundled Wikipedia books: the product imports
and trains them, and every book's similar books are asked of the real API."""
import json

import pytest

from tests.support import PROJECT_DIR

pytestmark = pytest.mark.slow


def test_every_books_similar_books_are_scored_through_the_api(run_bench):
    results = run_bench(
        "bench.quality.wikipedia_served", "--data", str(PROJECT_DIR / "data" / "wikipedia" / "p15_books.ndjson"),
        "--params", '{"epochs": 1, "min_steps": 0, "embedding_dim": 8}')

    figures = json.loads((results / "quality_wikipedia_served.json").read_text())
    assert figures["books"] == 1411 and figures["http_errors"] == 0
    assert figures["books_scored"] > 500 and figures["books_without_vector"] < 10
    assert 0 <= figures["served_same_author_precision@5"] <= 1
