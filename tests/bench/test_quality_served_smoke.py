"""A small smoke version of the served shelf-quality benchmark, on the bundled goodbooks sample: held-out
readers are left out of the import, the product trains, and their shelves are POSTed to the real API."""
import json

import pytest

from tests.support import PROJECT_DIR

pytestmark = pytest.mark.slow


def test_held_out_readers_shelves_are_scored_through_the_api(run_bench):
    results = run_bench(
        "bench.quality.served", "--data", str(PROJECT_DIR / "data" / "goodbooks"),
        "--validation-users", "60", "--tuning-users", "20", "--params", '{"epochs": 1, "embedding_dim": 8}')

    figures = json.loads((results / "quality_served.json").read_text())
    assert figures["readers"] == 60 and figures["http_errors"] == 0
    assert 0 <= figures["served_recall@20"] <= 1 and 0 <= figures["popularity_recall@20"] <= 1
    assert figures["held_out_readers"] == 80 and figures["rows_left_out"] > 0
    assert figures["examples"]["shelves"] and all(shelf["recommended"] for shelf in figures["examples"]["shelves"])
