"""A small smoke version of the shelf-thinning measurement on the bundled goodbooks sample: every model is
measured on more and on less complete shelves of the same readers, and the ratios between them are written."""
import json

import pytest

from tests.bench.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow


def test_every_model_is_measured_on_whole_and_thinned_shelves(run_bench):
    results = run_bench("bench.shelf_thinning", "--data", str(PROJECT_DIR / "data" / "goodbooks"), "--splits", "2",
                        "--validation-users", "60", "--tuning-users", "20")

    figures = json.loads((results / "shelf_thinning.json").read_text())
    assert len(figures["figures"]) == 4
    for condition in figures["figures"].values():
        assert set(condition) == {"shelf model", "item-kNN", "most popular"}
        assert all(0 <= model["recall@20"] <= 1 and model["readers"] > 0 for model in condition.values())
    thinned = figures["figures"]["training shelves as they are, measured shelves thinned"]["shelf model"]
    whole = figures["figures"]["training shelves as they are, measured shelves as they are"]["shelf model"]
    assert thinned["readers"] <= whole["readers"], "thinning leaves some shelves too short to split"
    ratio = figures["ratios"]["measured shelves (as they are / thinned)"]["shelf model"]["recall@20"]
    assert ratio == pytest.approx(whole["recall@20"] / thinned["recall@20"], abs=1e-3)
    assert figures["sample_evidence"] is None, "the bundled sample has no samples/ of the original files"
