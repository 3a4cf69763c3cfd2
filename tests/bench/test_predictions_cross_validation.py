"""The prediction benchmark's cross-validation (``bench.quality.predictions``): every labelled book held out once,
each method scored by models that never saw it, and the seeds pooled book by book."""
import numpy as np
import pytest

from bench.quality.predictions import METHODS, cross_validated, pooled_figures
from recommender.training import predictions as stage
from recommender.training.dataset import PairSet


def test_every_labelled_book_is_held_out_once_and_the_seeds_pool_book_by_book():
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(4), 20)
    vectors = stage.normalised((rng.normal(size=(4, 16))[group] + 0.3 * rng.normal(size=(80, 16))).astype(np.float32))
    countries = [[("France", "Japan", "Peru", "Chad")[g]] if i % 20 < 17 else [""] for i, g in enumerate(group)]
    field = stage.FieldLabels.from_values("country", countries, multi_label=False)
    links = PairSet.build(np.arange(80), group, n_books=80, n_links=4)

    figures, books = cross_validated(field, vectors, stage.tfidf_features(links, 80), 4, seed=101)

    assert figures["heldout_books"] == figures["labelled_books"] == 68 and figures["folds"] == 4
    assert figures["model"]["accuracy"] >= 0.9 and figures["majority"]["accuracy"] <= 0.3
    assert set(books) == set(METHODS) and all(outcomes.shape == (1, 68) for outcomes in books.values())
    assert figures["knn"]["accuracy"] == pytest.approx(books["knn"].mean(), abs=1e-4) and "blend_minus_knn" in figures
    pooled = pooled_figures([field], {"country": {method: [outcomes, outcomes] for method, outcomes in books.items()}})
    assert pooled["country"]["model"] == figures["model"]["accuracy"]
    assert pooled["country"]["model_minus_knn"]["difference"] == figures["model_minus_knn"]["difference"]
