"""A run's quality metrics (``recommender.training.evaluation`` applied to the database's books) and the quality gate.

Metric names, stored on the run and its version:

* ``heldout_auc``: link-prediction AUC of held-out (book, link/reader) pairs;
* ``same_author_precision@5`` / ``@10``: share of a book's nearest books by its author (authors with 2+ books);
  with books from several sources, also per source (``wikipedia:same_author_precision@5`` ...), counting
  only that source's books and authors;
* ``genre_knn_accuracy@10`` / ``country_knn_accuracy@10``: where books have a genre / country;
* ``shelf_recall@20`` / ``shelf_ndcg@20`` over ``shelf_users`` validation readers, with the same figures of
  the most-popular baseline as ``popularity_recall@20`` / ``popularity_ndcg@20`` and, when the shelf model
  serves shelves, of neighbour voting on the book vectors as ``votes_recall@20`` / ``votes_ndcg@20``.
"""
from __future__ import annotations

import math

import numpy as np

from recommender.training.data import TrainingData
from recommender.training.evaluation import (
    label_knn_accuracy,
    nearest_neighbours,
    neighbour_recommender,
    popularity_recommender,
    same_author_precision,
    shelf_model_recommender,
    shelf_recall_ndcg,
)
from recommender.training.shelf_model import ShelfModel

NEIGHBOURS = 100
"""Neighbours per shelf book, as the serving selector's pgvector query fetches them."""
EVALUATED_BOOKS = 10_000
"""The nearest-book figures are measured on at most this many books (a seeded sample; every book below it) plus the
validation readers' shelf books: exact neighbours of every book cost n² (at 200,000 books, minutes), of a sample
s·n, and a sample of 10,000 puts a precision within about ±0.01."""
GATED_METRICS = ("shelf_recall@20", "votes_recall@20", "same_author_precision@5", "heldout_auc")
"""The main metrics: a new version clearly worse than the live one on any of them is not activated by itself.
``votes_recall@20`` is the book vectors' own shelf figure (``shelf_recall@20`` is the shelf model's, which the
book vectors do not change): the vectors answer shelves of books outside the shelf model."""
GATE_RELATIVE_DROP = 0.10
GATE_ABSOLUTE_DROP = 0.02
METRIC_ORDER = (
    "heldout_auc", "same_author_precision@5", "same_author_precision@10", "genre_knn_accuracy@10",
    "country_knn_accuracy@10", "shelf_recall@20", "shelf_ndcg@20", "popularity_recall@20", "popularity_ndcg@20",
    "votes_recall@20", "votes_ndcg@20", "shelf_users",
)
"""The order the metrics are shown in: the book–link embeddings' figures, then the shelves'."""


def metrics_in_order(metrics: dict) -> list[tuple[str, float | int]]:
    """A run's or version's figures as shown: ``METRIC_ORDER``, then the per-source ones ("wikipedia:…") by
    name; nested tables (the training data's counts, the live version's figures) are left out."""
    per_source = sorted(name for name in metrics if ":" in name)
    return [(name, metrics[name]) for name in (*METRIC_ORDER, *per_source)
            if name in metrics and not isinstance(metrics[name], dict)]


def embeddings_evaluate(*, data: TrainingData, book_vectors: np.ndarray, heldout_auc: float | None,
                        shelf_model: ShelfModel | None = None) -> dict:
    """Every metric above that the data allows, as a JSON-ready dict (missing ones left out).

    The shelf figures are those of the shelf model when there is one, on the validation readers' books it knows
    (serving blends in neighbour votes for shelf books outside it, which these figures leave out); neighbour
    voting on the book vectors is reported beside them as ``votes_recall@20`` / ``votes_ndcg@20``. A neighbourhood
    shelf model's tail blend and scale, as its fit chose them, are kept as ``shelf_model_tail_blend`` / ``_scale``.
    """
    metrics: dict[str, float | int] = {}
    if heldout_auc is not None:
        metrics["heldout_auc"] = heldout_auc
    if len(book_vectors) < 2:
        return metrics
    sample = _evaluated_books(len(book_vectors))
    shelf_books = [case.visible for case in data.shelf_cases]
    rows = None if sample is None else np.union1d(sample, np.concatenate(shelf_books) if shelf_books else sample)
    ids, sims = nearest_neighbours(book_vectors, NEIGHBOURS, rows=rows)
    for k in (5, 10):
        metrics[f"same_author_precision@{k}"] = same_author_precision(ids, data.authors, k=k, rows=sample)
    sources = sorted(set(data.sources))
    if len(sources) > 1:
        for source in sources:
            authors = [a if s == source else "" for a, s in zip(data.authors, data.sources)]
            for k in (5, 10):
                metrics[f"{source}:same_author_precision@{k}"] = same_author_precision(ids, authors, k=k, rows=sample)
    metrics["genre_knn_accuracy@10"] = label_knn_accuracy(ids, data.genres, k=10, rows=sample)
    metrics["country_knn_accuracy@10"] = label_knn_accuracy(ids, data.countries, k=10, rows=sample)
    if data.shelf_cases:
        votes = shelf_recall_ndcg(neighbour_recommender(ids, sims, popularity=data.shelf_popularity),
                                  data.shelf_cases, k=20)
        shelf = votes if shelf_model is None else shelf_recall_ndcg(
            shelf_model_recommender(shelf_model), data.shelf_cases, k=20)
        popular = shelf_recall_ndcg(popularity_recommender(data.shelf_popularity), data.shelf_cases, k=20)
        metrics.update({
            "shelf_recall@20": shelf["recall@20"], "shelf_ndcg@20": shelf["ndcg@20"], "shelf_users": shelf["users"],
            "popularity_recall@20": popular["recall@20"], "popularity_ndcg@20": popular["ndcg@20"],
        })
        if shelf_model is not None:
            metrics.update({"votes_recall@20": votes["recall@20"], "votes_ndcg@20": votes["ndcg@20"]})
    if shelf_model is not None and shelf_model.is_sparse:
        # What the fit chose for its tail (choose_tail_blend), kept with the version's figures it explains.
        metrics.update({"shelf_model_tail_blend": shelf_model.tail_blend,
                        "shelf_model_tail_scale": shelf_model.tail_scale})
    return {name: value for name, value in metrics.items() if not _missing(value)}


def _evaluated_books(n: int) -> np.ndarray | None:
    """The seeded sample of books the nearest-book figures are measured on (None: all n)."""
    if n <= EVALUATED_BOOKS:
        return None
    return np.sort(np.random.default_rng(0).choice(n, EVALUATED_BOOKS, replace=False))


def quality_gate(*, new: dict, live: dict | None) -> tuple[bool, list[str]]:
    """(passes, reasons): fails when a main metric fell by more than 10 % and more than 0.02 from the live one."""
    if not live:
        return True, []
    reasons = []
    for name in GATED_METRICS:
        if _missing(new.get(name)) or _missing(live.get(name)):
            continue
        drop = live[name] - new[name]
        if drop > GATE_ABSOLUTE_DROP and drop > GATE_RELATIVE_DROP * abs(live[name]):
            reasons.append(f"{name} {new[name]:.3f} is clearly below the live version's {live[name]:.3f}")
    return not reasons, reasons


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
