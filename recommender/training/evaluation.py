"""How good a set of book vectors is, in numbers.

* ``link_auc``: can the vectors tell held-out true (book, link) pairs from non-pairs?
* ``nearest_neighbours`` + ``same_author_precision`` / ``label_knn_accuracy``: are a book's nearest
  books by the same author, of the same genre or country?
* ``split_shelves`` + ``shelf_recall_ndcg``: hide part of unseen readers' shelves and count how many
  hidden books the top-k recommendations find (Recall@k, NDCG@k), for any recommender; ``popularity_recommender``,
  ``centroid_recommender``, ``neighbour_recommender`` (``scoring.recommend_for_shelf``) and
  ``shelf_model_recommender`` (the shelf model) are the ones compared in bench/.

Everything is vectorised NumPy and seeded; nothing here knows about Django.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.training.scoring import ShelfScoring, recommend_for_shelf
from recommender.training.shelf_model import ShelfModel, recommend_from_shelf_model

BLOCK_CELLS = 1 << 24
"""Similarities scored at once (query rows × rows): ~64 MB of float32 and ~130 MB of argpartition's indices whatever
the catalogue's size; a fixed 2,048 query rows would hold ~6 GB at 200,000 books."""


def link_auc(book_vectors: np.ndarray, link_vectors: np.ndarray, heldout, *, known_pairs, seed: int = 0) -> float:
    """AUC of cosine(book, link) separating held-out pairs from negatives.

    Each held-out pair (b, l) is matched with one negative (b, l') whose link l' is drawn uniformly
    among links that ``known_pairs`` (a PairSet holding every true pair) does not pair with b, so the
    score measures which links fit a book, not how popular a link is.
    """
    rng = np.random.default_rng([seed, 3])
    books = heldout.book_index.astype(np.int64)
    known = known_pairs.codes()
    n_links = known_pairs.n_links
    negative_links = rng.integers(0, n_links, len(books))
    for _ in range(100):
        clash = np.isin(books * n_links + negative_links, known)
        if not clash.any():
            break
        negative_links[clash] = rng.integers(0, n_links, int(clash.sum()))
    positive = np.einsum("ij,ij->i", book_vectors[books], link_vectors[heldout.link_index])
    negative = np.einsum("ij,ij->i", book_vectors[books], link_vectors[negative_links])
    return auc(positive, negative)


def auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    scores = np.concatenate([positive_scores, negative_scores])
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    sorted_scores = scores[order]
    # Average the ranks of ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    n_pos, n_neg = len(positive_scores), len(negative_scores)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def block_rows(n: int) -> int:
    """How many query rows to score against ``n`` rows at once: 2,048, fewer where that would pass
    ``BLOCK_CELLS`` similarities."""
    return max(1, min(2048, BLOCK_CELLS // max(n, 1)))


def nearest_neighbours(vectors: np.ndarray, k: int, *, block: int | None = None,
                       rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the k other rows of largest cosine similarity, best first: (ids int64[n,k], sims float32[n,k]).

    ``vectors`` must be L2-normalised (as ``TrainedEmbeddings`` vectors are); this is what an exact
    pgvector cosine query returns, minus the book itself. With ``rows``, only those rows' lists are computed
    (time ∝ len(rows) · n instead of n²); the other rows' ids are -1 and their sims NaN. ``block`` query rows are
    scored at once (default ``block_rows(n)``: memory bounded whatever n is; the lists do not depend on it).
    """
    n = len(vectors)
    k = min(k, n - 1)
    block = block or block_rows(n)
    queries = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    ids = np.full((n, k), -1, np.int64)
    sims = np.full((n, k), np.nan, np.float32)
    for start in range(0, len(queries), block):
        chunk = queries[start:start + block]
        block_sims = vectors[chunk] @ vectors.T
        block_sims[np.arange(len(chunk)), chunk] = -np.inf
        part = np.argpartition(-block_sims, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(block_sims, part, axis=1)
        order = np.argsort(-part_sims, axis=1, kind="stable")
        ids[chunk] = np.take_along_axis(part, order, axis=1)
        sims[chunk] = np.take_along_axis(part_sims, order, axis=1)
    return ids, sims


def same_author_precision(neighbour_ids: np.ndarray, authors: Sequence[str | None], k: int = 5,
                          rows: np.ndarray | None = None) -> float:
    """Mean share of a book's k nearest books written by its author, over books whose author has >= 2 books
    (of ``rows`` only, when given: the books whose neighbour lists were computed)."""
    codes, counts = _label_codes(authors)
    eligible = (codes >= 0) & (counts[np.maximum(codes, 0)] >= 2 if len(counts) else False) & _among(rows, len(codes))
    hits = codes[neighbour_ids[eligible, :k]] == codes[eligible, None]
    return float(hits.mean()) if eligible.any() else float("nan")


def label_knn_accuracy(neighbour_ids: np.ndarray, labels: Sequence[str | None], k: int = 10,
                       rows: np.ndarray | None = None) -> float:
    """Share of labelled books (of ``rows`` only, when given) whose label is the most common one among their k
    nearest labelled books.

    Neighbours without a label are skipped (up to the lists' length); books with no labelled neighbour
    count as misses.
    """
    codes, counts = _label_codes(labels)
    labelled = np.flatnonzero((codes >= 0) & _among(rows, len(codes)))
    if len(labelled) == 0:
        return float("nan")
    neighbour_codes = codes[neighbour_ids[labelled]]
    rank = np.cumsum(neighbour_codes >= 0, axis=1)
    usable = (neighbour_codes >= 0) & (rank <= k)
    n_labels = len(counts)
    votes = np.zeros((len(labelled), n_labels + 1))
    rows = np.repeat(np.arange(len(labelled)), neighbour_codes.shape[1])
    np.add.at(votes, (rows, np.where(usable, neighbour_codes, n_labels).ravel()), 1.0)
    votes = votes[:, :n_labels]
    predicted = np.where(votes.max(axis=1) > 0, votes.argmax(axis=1), -1)
    return float((predicted == codes[labelled]).mean())


def _among(rows: np.ndarray | None, n: int) -> np.ndarray:
    """A mask of ``rows`` among n books (every book when None)."""
    if rows is None:
        return np.ones(n, bool)
    mask = np.zeros(n, bool)
    mask[rows] = True
    return mask


def _label_codes(labels: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of non-empty labels (-1 for missing) and how many books carry each code."""
    names = [label if label else "" for label in labels]
    vocabulary, codes = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    codes = codes.astype(np.int64)
    empty = np.flatnonzero(vocabulary == "")
    if len(empty):
        codes = np.where(codes == empty[0], -1, codes - (codes > empty[0]))
    counts = np.bincount(codes[codes >= 0], minlength=len(vocabulary) - len(empty))
    return codes, counts


@dataclass(frozen=True, eq=False)
class ShelfCase:
    """One validation reader: the shelf the recommender sees and the books it should find."""

    user_id: int
    visible: np.ndarray  # book indices
    hidden: np.ndarray  # book indices


def split_shelves(
    user_ids: np.ndarray,
    book_ids: np.ndarray,
    *,
    n_validation_users: int,
    seed: int,
    visible_fraction: float = 0.8,
) -> tuple[np.ndarray, list[ShelfCase]]:
    """Carves validation readers out of (user, book) shelf rows.

    Validation readers are drawn (seeded) among readers with at least 2 books; their shelf rows are
    removed from the returned training mask entirely. Each validation shelf is shuffled (seeded) and its
    first ``max(1, floor(visible_fraction * n))`` books are visible, the rest hidden.
    Returns (training_row_mask, cases).
    """
    rng = np.random.default_rng([seed, 4])
    users, starts, counts = np.unique(user_ids, return_index=True, return_counts=True)
    eligible = users[counts >= 2]
    chosen = np.sort(rng.choice(eligible, size=min(n_validation_users, len(eligible)), replace=False))
    in_validation = np.isin(user_ids, chosen)

    order = np.argsort(user_ids, kind="stable")
    sorted_users = user_ids[order]
    cases = []
    for user in chosen:
        lo, hi = np.searchsorted(sorted_users, [user, user + 1])
        shelf = rng.permutation(book_ids[order[lo:hi]])
        n_visible = max(1, int(np.floor(visible_fraction * len(shelf))))
        cases.append(ShelfCase(int(user), shelf[:n_visible], shelf[n_visible:]))
    return ~in_validation, cases


Recommender = Callable[[np.ndarray, int], np.ndarray]
"""recommend(visible_shelf_book_indices, k) -> up to k book indices, best first, none of them on the shelf."""


def shelf_recall_ndcg(recommend: Recommender, cases: Sequence[ShelfCase], k: int = 20) -> dict[str, float]:
    """Mean Recall@k (hidden found / min(hidden, k)) and NDCG@k over cases with hidden books."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    recalls, ndcgs = [], []
    for case in cases:
        if len(case.hidden) == 0:
            continue
        recommended = np.asarray(recommend(case.visible, k))[:k]
        hits = np.isin(recommended, case.hidden)
        ideal = min(len(case.hidden), k)
        recalls.append(hits.sum() / ideal)
        ndcgs.append((discounts[: len(hits)] * hits).sum() / discounts[:ideal].sum())
    return {f"recall@{k}": float(np.mean(recalls)), f"ndcg@{k}": float(np.mean(ndcgs)), "users": len(recalls)}


def popularity_recommender(popularity: np.ndarray) -> Recommender:
    """Recommends the most popular books not on the shelf."""
    ranking = np.lexsort((np.arange(len(popularity)), -popularity))

    def recommend(shelf: np.ndarray, k: int) -> np.ndarray:
        head = ranking[: k + len(shelf)]
        return head[~np.isin(head, shelf)][:k]

    return recommend


def centroid_recommender(book_vectors: np.ndarray) -> Recommender:
    """The baseline: the books nearest to the mean of the shelf's vectors."""

    def recommend(shelf: np.ndarray, k: int) -> np.ndarray:
        centroid = book_vectors[shelf].mean(axis=0)
        sims = book_vectors @ centroid
        sims[shelf] = -np.inf
        top = np.argpartition(-sims, k)[:k]
        return top[np.argsort(-sims[top], kind="stable")]

    return recommend


def shelf_model_recommender(model: ShelfModel) -> Recommender:
    """The shelf model's recommendations (``recommend_from_shelf_model``, what the serving query returns)."""

    def recommend(shelf: np.ndarray, k: int) -> np.ndarray:
        return recommend_from_shelf_model(model, shelf, k)

    return recommend


def neighbour_recommender(
    neighbour_ids: np.ndarray,
    neighbour_sims: np.ndarray,
    *,
    popularity: np.ndarray | None = None,
    scoring: ShelfScoring = ShelfScoring(),
) -> Recommender:
    """The product's recommender: ``scoring.recommend_for_shelf`` fed with each shelf book's neighbour list."""
    width = neighbour_ids.shape[1]

    def recommend(shelf: np.ndarray, k: int) -> np.ndarray:
        candidates = neighbour_ids[shelf].ravel()
        result = recommend_for_shelf(
            shelf,
            np.repeat(shelf, width),
            candidates,
            neighbour_sims[shelf].ravel(),
            neighbour_popularity=None if popularity is None else popularity[candidates],
            k=k,
            scoring=scoring,
        )
        return np.array([r.book_id for r in result], dtype=np.int64)

    return recommend
