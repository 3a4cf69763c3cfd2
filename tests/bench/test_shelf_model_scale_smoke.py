"""A small smoke version of the shelf model's scale benchmark: one fit, its planted-taste figures against item-kNN."""
import json

import pytest

pytestmark = pytest.mark.slow


def test_a_small_fit_is_measured_with_planted_tastes_for_head_and_tail_against_item_knn(run_bench):
    results = run_bench("bench.speed.shelf_model_scale", "--sizes", "1000", "--serve", "0")

    fit = json.loads((results / "shelf_model_scale.json").read_text())["fits"][0]
    assert fit["books"] == 1000 and fit["modelled_books"] > 900 and fit["fit_cpu_seconds"] > 0
    planted = fit["planted_tastes"]
    for recommender in ("shelf model", "item-kNN", "popularity"):
        for part in ("head", "tail"):
            assert 0 <= planted[recommender][part]["taste_precision@20"] <= 1
    assert planted["shelf model"]["tail"]["taste_precision@20"] > 2 * planted["random_taste_precision"]
    assert planted["item-kNN"]["tail"]["taste_precision@20"] > 2 * planted["random_taste_precision"]
