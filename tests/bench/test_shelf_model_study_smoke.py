"""A small smoke version of the shelf-model study on the bundled goodbooks sample: every alternative is
measured on the same held-out readers, and the 4 re-split folds are each trained without their readers."""
import json

import pytest

from tests.bench.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow


def test_every_alternative_is_measured_on_the_same_readers(run_bench):
    results = run_bench("bench.shelf_model_study", "--data", str(PROJECT_DIR / "data" / "goodbooks"),
                        "--validation-users", "60", "--tuning-users", "20", "--fold-readers", "30")

    figures = json.loads((results / "shelf_model_study.json").read_text())
    rows = figures["rows"]
    assert "shelf model (default)" in rows and len(rows) > 15
    assert {row["validation"]["users"] for row in rows.values()} == {60}
    assert {row["tuning"]["users"] for row in rows.values()} == {20}
    assert all(0 <= row["validation"]["recall@20"] <= 1 for row in rows.values())
    folds = figures["folds"]
    assert folds["shelf model, readers with 2+ books"]["readers"] == 4 * 30
    assert folds["most popular, readers with 5+ books"]["readers"] <= 4 * 30
    assert figures["summary"]["best_other_on_tuning_readers"] in rows
