"""Shelf recommendation: from the shelf books' nearest neighbours to a ranked list of books to suggest.

``recommend_for_shelf`` ranks by neighbour voting: the web selector's ranking of input books outside the shelf
model, and the evaluation's ``neighbour_recommender``. Its input is what one pgvector query returns: for every shelf book, its nearest books with their cosine
similarity (one row per (shelf book, neighbour)), optionally with each neighbour's popularity.

Each shelf book votes for its neighbours; a vote weighs the shelf book's weight times the similarity
raised to ``similarity_power`` (sharpening: close neighbours count much more than far ones), a
candidate's votes are summed, and the sum is multiplied by popularity**``popularity_power`` (a prior
toward books many readers shelve). Summing per-neighbour votes keeps every interest of a mixed shelf
alive, where the mean of the shelf's vectors lands between interests; see bench/quality/goodbooks.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ShelfScoring:
    """Knobs of the shelf scoring; defaults measured on goodbooks validation users (bench/quality/goodbooks.py)."""

    similarity_power: float = 4.0
    """Votes weigh max(similarity, 0) ** similarity_power."""
    popularity_power: float = 0.5
    """Scores are multiplied by (1 + popularity) ** popularity_power; 0 ignores popularity."""
    max_because: int = 3
    """How many shelf books are named as the reason of each recommendation."""


@dataclass(frozen=True)
class ScoredBook:
    """A suggested book, its score, and the shelf books that contributed most to it (largest first), with each one's
    share of what all shelf books contributed for it (``shares``, aligned with ``because``; 0.62 is 62 %)."""

    book_id: int
    score: float
    because: tuple[int, ...]
    shares: tuple[float, ...] = ()


def recommend_for_shelf(
    shelf_book_ids,
    source_ids,
    neighbour_ids,
    similarities,
    *,
    neighbour_popularity=None,
    shelf_weights=None,
    k: int = 20,
    scoring: ShelfScoring = ShelfScoring(),
) -> list[ScoredBook]:
    """Ranks the neighbours of a shelf's books, best first, leaving out the shelf's own books.

    Row ``i`` of ``source_ids``/``neighbour_ids``/``similarities`` says that ``neighbour_ids[i]`` is a
    nearest neighbour of the shelf book ``source_ids[i]`` with cosine similarity ``similarities[i]``;
    ``neighbour_popularity[i]`` (optional) is that neighbour's popularity (e.g. how many shelves hold it).
    ``shelf_weights`` (optional, aligned with ``shelf_book_ids``) weighs each shelf book's votes, e.g. by
    rating or recency. Returns at most ``k`` recommendations; fewer only when fewer candidates exist.
    """
    shelf = np.asarray(shelf_book_ids, dtype=np.int64).ravel()
    sources = np.asarray(source_ids, dtype=np.int64).ravel()
    candidates = np.asarray(neighbour_ids, dtype=np.int64).ravel()
    sims = np.asarray(similarities, dtype=np.float64).ravel()
    if not (len(sources) == len(candidates) == len(sims)):
        raise ValueError("source_ids, neighbour_ids and similarities must have the same length")
    if len(candidates) == 0 or k <= 0:
        return []

    weights_by_shelf = np.ones(len(shelf)) if shelf_weights is None else np.asarray(shelf_weights, np.float64).ravel()
    if len(weights_by_shelf) != len(shelf):
        raise ValueError("shelf_weights must align with shelf_book_ids")
    shelf_order = np.argsort(shelf)
    at = np.clip(np.searchsorted(shelf, sources, sorter=shelf_order), 0, max(len(shelf) - 1, 0))
    source_weight = np.zeros(len(sources))
    if len(shelf):
        on_shelf = shelf[shelf_order[at]] == sources
        source_weight[on_shelf] = weights_by_shelf[shelf_order[at[on_shelf]]]

    keep = ~np.isin(candidates, shelf) & (source_weight > 0)
    sources, candidates, sims, source_weight = sources[keep], candidates[keep], sims[keep], source_weight[keep]
    if len(candidates) == 0:
        return []
    votes = source_weight * np.maximum(sims, 0.0) ** scoring.similarity_power

    book_ids, row_book = np.unique(candidates, return_inverse=True)
    scores = np.bincount(row_book, weights=votes, minlength=len(book_ids))
    if neighbour_popularity is not None and scoring.popularity_power:
        popularity = np.asarray(neighbour_popularity, np.float64).ravel()[keep]
        book_popularity = np.zeros(len(book_ids))
        book_popularity[row_book] = np.maximum(popularity, 0.0)
        scores = scores * (1.0 + book_popularity) ** scoring.popularity_power

    top = _top_k(scores, k, tie_break=book_ids)
    return [ScoredBook(int(book_ids[b]), float(scores[b]), *_because(b, row_book, sources, votes, scoring.max_because))
            for b in top]


def blend_rankings(rankings: Sequence[tuple[float, Sequence[ScoredBook]]], k: int = 20,
                   max_because: int = ShelfScoring.max_because) -> list[ScoredBook]:
    """One ranking from several, each made from part of a shelf and given with that part's ``share``.

    A book's blended score is the sum over the rankings of share × its score there ÷ that ranking's best
    score, so each ranking speaks for its part of the shelf whatever its scale; its ``because`` books are
    the rankings' reasons, the largest contribution's first, each contributing its share in its ranking of the
    book's blended score there (an equal part where a ranking gives no shares). Empty rankings are left out.
    """
    scores: dict[int, float] = {}
    reasons: dict[int, dict[int, float]] = {}
    for share, ranking in rankings:
        if not ranking:
            continue
        best = max(abs(r.score) for r in ranking) or 1.0
        for r in ranking:
            contribution = share * r.score / best
            scores[r.book_id] = scores.get(r.book_id, 0.0) + contribution
            parts = r.shares or tuple(1.0 / len(r.because) for _ in r.because)
            book_reasons = reasons.setdefault(r.book_id, {})
            for source, part in zip(r.because, parts):
                book_reasons[source] = book_reasons.get(source, 0.0) + contribution * part
    if not scores:
        return []
    book_ids = np.fromiter(scores, np.int64, len(scores))
    top = _top_k(np.fromiter(scores.values(), np.float64, len(scores)), k, tie_break=book_ids)
    blended = []
    for b in top:
        book_id = int(book_ids[b])
        named = sorted(reasons[book_id].items(), key=lambda reason: (-reason[1], reason[0]))[:max_because]
        total = scores[book_id] if scores[book_id] > 0 else 1.0
        blended.append(ScoredBook(book_id, scores[book_id], tuple(source for source, _ in named),
                                  tuple(max(part, 0.0) / total for _, part in named)))
    return blended


def _top_k(scores: np.ndarray, k: int, tie_break: np.ndarray) -> np.ndarray:
    """Indices of the k largest scores, best first, ties broken by smaller id (deterministic)."""
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[part].min()
        part = np.flatnonzero(scores >= threshold)
    else:
        part = np.arange(len(scores))
    order = np.lexsort((tie_break[part], -scores[part]))
    return part[order][:k]


def _because(book: int, row_book: np.ndarray, sources: np.ndarray, votes: np.ndarray,
             limit: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The ``limit`` shelf books whose votes for ``book`` weigh most, and each one's share of all its votes."""
    rows = np.flatnonzero(row_book == book)
    by_source: dict[int, float] = {}
    for source, vote in zip(sources[rows].tolist(), votes[rows].tolist()):
        by_source[source] = by_source.get(source, 0.0) + vote
    total = sum(by_source.values()) or 1.0
    named = sorted(by_source.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return tuple(source for source, _ in named), tuple(vote / total for _, vote in named)
