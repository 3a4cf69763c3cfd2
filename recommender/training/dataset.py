"""What training learns from: (book, link) pairs as plain NumPy arrays, and the batches drawn from them.

The Django side reads pairs from PostgreSQL, maps its ids to dense indices and hands over a ``PairSet``:

* content pairs: a book and one of its links (a Wikipedia wikilink target, a goodbooks tag);
* shelf pairs: a book and a reader whose shelf holds it, the reader being one more "link" entity.

``PairSet.combine(content, shelves)`` puts both in one index space (readers after the content links),
``split_holdout`` keeps a few pairs back for link-prediction AUC, and ``BatchSampler`` draws whole
epochs of batches at once: true pairs sampled by weight, negatives corrupting one side of each true pair
with a popularity-aware distribution, and every negative that happens to be a true pair redrawn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender.training.params import TrainingParams

CONTENT = 0
SHELF = 1


def normalise_link_name(name: str) -> str:
    """Lower-cases a link name and folds runs of whitespace into one space ("Science  Fiction" -> "science fiction")."""
    return " ".join(name.split()).lower()


def removed_link_matcher(params: TrainingParams):
    """A predicate telling whether a normalised link name is on the run's removal list or matches a removal pattern."""
    names = frozenset(normalise_link_name(name) for name in params.removed_links)
    pattern = re.compile("|".join(f"(?:{p})" for p in params.removed_link_patterns)) if params.removed_link_patterns else None

    def is_removed(name: str) -> bool:
        return name in names or (pattern is not None and pattern.fullmatch(name) is not None)

    return is_removed


def links_to_keep(link_names: Sequence[str], books_per_link: np.ndarray, params: TrainingParams) -> np.ndarray:
    """Boolean mask over links: not removed by name and used by at least ``params.min_books_per_link`` books.

    ``link_names`` must already be normalised; ``books_per_link`` counts distinct books per link.
    """
    books_per_link = np.asarray(books_per_link)
    if len(link_names) != len(books_per_link):
        raise ValueError("link_names and books_per_link must have the same length")
    is_removed = removed_link_matcher(params)
    not_removed = np.fromiter((not is_removed(name) for name in link_names), dtype=bool, count=len(link_names))
    return not_removed & (books_per_link >= params.min_books_per_link)


@dataclass(frozen=True, eq=False)
class PairSet:
    """Distinct (book, link) pairs with a sampling weight and a kind (CONTENT or SHELF) each.

    Build it with ``PairSet.build``, which validates the arrays and merges duplicate pairs.
    """

    book_index: np.ndarray  # int32[n_pairs]
    link_index: np.ndarray  # int32[n_pairs]
    weight: np.ndarray  # float32[n_pairs], > 0: a content pair's count, a shelf pair's sampling weight
    kind: np.ndarray  # uint8[n_pairs], CONTENT or SHELF
    n_books: int
    n_links: int

    @classmethod
    def build(
        cls,
        book_index,
        link_index,
        *,
        n_books: int,
        n_links: int,
        weight=None,
        kind: int | np.ndarray = CONTENT,
    ) -> PairSet:
        """Validates the arrays and merges repeated pairs (keeping the largest weight).

        Raises ValueError when lengths differ, an index is out of range or a weight is not positive.
        """
        books = np.asarray(book_index, dtype=np.int64).ravel()
        links = np.asarray(link_index, dtype=np.int64).ravel()
        n = len(books)
        weights = np.ones(n, np.float32) if weight is None else np.asarray(weight, dtype=np.float32).ravel()
        kinds = np.broadcast_to(np.asarray(kind, dtype=np.uint8), (n,))
        if len(links) != n or len(weights) != n:
            raise ValueError("book_index, link_index and weight must have the same length")
        if n and (books.min() < 0 or books.max() >= n_books):
            raise ValueError(f"book_index must lie in [0, {n_books})")
        if n and (links.min() < 0 or links.max() >= n_links):
            raise ValueError(f"link_index must lie in [0, {n_links})")
        if not np.all(np.isfinite(weights)) or (n and weights.min() <= 0):
            raise ValueError("weight must be finite and positive")
        if not np.isin(kinds, (CONTENT, SHELF)).all():
            raise ValueError("kind must be CONTENT or SHELF")

        codes = books * n_links + links
        order = np.lexsort((-weights, codes))  # by pair, largest weight first
        first = np.ones(n, bool)
        first[1:] = codes[order][1:] != codes[order][:-1]
        keep = order[first]
        return cls(
            book_index=books[keep].astype(np.int32),
            link_index=links[keep].astype(np.int32),
            weight=weights[keep],
            kind=np.ascontiguousarray(kinds[keep]),
            n_books=int(n_books),
            n_links=int(n_links),
        )

    @classmethod
    def combine(cls, content: PairSet, shelves: PairSet) -> PairSet:
        """One pair set with the shelf pairs' links (readers) numbered after the content links, kind SHELF."""
        if content.n_books != shelves.n_books:
            raise ValueError("content and shelf pairs must share the same books")
        return cls.build(
            np.concatenate([content.book_index, shelves.book_index]),
            np.concatenate([content.link_index, shelves.link_index.astype(np.int64) + content.n_links]),
            n_books=content.n_books,
            n_links=content.n_links + shelves.n_links,
            weight=np.concatenate([content.weight, shelves.weight]),
            kind=np.concatenate([np.full(len(content), CONTENT, np.uint8), np.full(len(shelves), SHELF, np.uint8)]),
        )

    def __len__(self) -> int:
        return len(self.book_index)

    def codes(self) -> np.ndarray:
        """Each pair as one int64 ``book * n_links + link`` (sorted, since ``build`` sorts pairs)."""
        return self.book_index.astype(np.int64) * self.n_links + self.link_index

    def subset(self, mask_or_index: np.ndarray) -> PairSet:
        """The pairs selected by a boolean mask or an index array, same books and links."""
        return PairSet(
            book_index=self.book_index[mask_or_index],
            link_index=self.link_index[mask_or_index],
            weight=self.weight[mask_or_index],
            kind=self.kind[mask_or_index],
            n_books=self.n_books,
            n_links=self.n_links,
        )

    def with_content_weighting(self, count_power: float, idf_power: float) -> PairSet:
        """Content pairs' weights turned into sampling weights: weight**count_power * idf(link)**idf_power.

        A content pair's weight is read as its count (how many times the book's article links the page);
        idf = ln(books with content pairs / books using the link), at least 0.01. The new weights are scaled
        to average 1 over the content pairs, so their share against shelf pairs does not change.
        """
        content = self.kind == CONTENT
        if not content.any() or (count_power == 0 and idf_power == 0):
            return self
        weight = self.weight.astype(np.float64)
        scaled = np.where(content, weight ** count_power, weight)
        if idf_power:
            books_per_link = np.bincount(self.link_index[content], minlength=self.n_links)
            n_books = len(np.unique(self.book_index[content]))
            idf = np.maximum(np.log(n_books / np.maximum(books_per_link, 1)), 0.01)
            scaled = np.where(content, scaled * idf[self.link_index] ** idf_power, scaled)
        scaled[content] /= scaled[content].mean()
        return PairSet(self.book_index, self.link_index, scaled.astype(np.float32), self.kind, self.n_books,
                       self.n_links)

    def with_shelf_weight(self, shelf_weight: float) -> PairSet:
        """Shelf pairs' weights multiplied by ``shelf_weight``; pairs whose weight becomes 0 are dropped."""
        weight = np.where(self.kind == SHELF, self.weight * np.float32(shelf_weight), self.weight).astype(np.float32)
        scaled = PairSet(self.book_index, self.link_index, weight, self.kind, self.n_books, self.n_links)
        return scaled.subset(weight > 0)


def split_holdout(pairs: PairSet, fraction: float, seed: int) -> tuple[PairSet, PairSet]:
    """Splits pairs into (train, held out) with about ``fraction`` held out, seeded.

    A pair is only held out when its book and its link both keep at least one training pair, so every
    held-out pair can be scored by vectors that training actually moved.
    """
    n = len(pairs)
    n_held = int(round(n * fraction))
    if n_held == 0:
        return pairs, pairs.subset(np.zeros(n, bool))
    rng = np.random.default_rng([seed, 1])
    candidates = rng.permutation(n)[:n_held]
    held = np.zeros(n, bool)
    held[candidates] = True
    # Give back held pairs whose book or link would have no training pair left.
    for index, size in ((pairs.book_index, pairs.n_books), (pairs.link_index, pairs.n_links)):
        train_degree = np.bincount(index[~held], minlength=size)
        orphaned = held & (train_degree[index] == 0)
        if orphaned.any():
            rows = np.flatnonzero(orphaned)
            _, first = np.unique(index[rows], return_index=True)
            held[rows[first]] = False
    return pairs.subset(~held), pairs.subset(held)


class BatchSampler:
    """Draws whole epochs of training batches from a pair set, deterministically for a seed.

    Each batch is ``batch_size`` true pairs (sampled with probability proportional to weight, without
    replacement within an epoch when all weights are equal) followed by ``negatives_per_positive`` negatives
    per true pair. Negative ``j`` of a true pair (b, l) keeps b and draws a new link when ``j`` is even,
    keeps l and draws a new book when odd; new books and links are drawn with probability
    weighted-degree**``negative_power``. A negative that is a training pair is redrawn.
    """

    def __init__(self, pairs: PairSet, params: TrainingParams, rng: np.random.Generator):
        if len(pairs) == 0:
            raise ValueError("no pairs to train on")
        self.pairs = pairs
        self.rng = rng
        self.batch_size = params.batch_size
        self.negatives = params.negatives_per_positive
        self.steps_per_epoch = max(1, -(-len(pairs) // params.batch_size))
        self._true_codes = pairs.codes()  # sorted and unique (see PairSet.build)
        if not np.all(self._true_codes[1:] > self._true_codes[:-1]):
            self._true_codes = np.unique(self._true_codes)
        if len(self._true_codes) >= 0.9 * pairs.n_books * pairs.n_links and self.negatives:
            raise ValueError("too few non-pairs to draw negatives from")
        weight = pairs.weight.astype(np.float64)
        self._uniform = bool(np.all(weight == weight[0]))
        self._pair_cdf = _cdf(weight)
        self._book_cdf = _cdf(np.bincount(pairs.book_index, weight, pairs.n_books) ** params.negative_power
                              * (np.bincount(pairs.book_index, minlength=pairs.n_books) > 0)
                              if params.negative_power > 0 else np.ones(pairs.n_books))
        self._link_cdf = _cdf(np.bincount(pairs.link_index, weight, pairs.n_links) ** params.negative_power
                              * (np.bincount(pairs.link_index, minlength=pairs.n_links) > 0)
                              if params.negative_power > 0 else np.ones(pairs.n_links))

    def epoch(self) -> tuple[np.ndarray, np.ndarray]:
        """One epoch as (books, links), each int32[steps_per_epoch, batch_size * (1 + negatives)].

        Row ``s`` is step ``s``: its first ``batch_size`` entries are true pairs, the rest negatives.
        """
        n_true = self.steps_per_epoch * self.batch_size
        chosen = self._positive_indices(n_true)
        books = self.pairs.book_index[chosen].astype(np.int64)
        links = self.pairs.link_index[chosen].astype(np.int64)
        neg_books = np.repeat(books, self.negatives).reshape(n_true, self.negatives)
        neg_links = np.repeat(links, self.negatives).reshape(n_true, self.negatives)
        new_link = np.zeros(neg_books.shape, bool)
        new_link[:, 0::2] = True
        neg_books, neg_links = neg_books.ravel(), neg_links.ravel()
        new_link = new_link.ravel()
        redraw = np.ones(len(neg_books), bool)
        for _ in range(100):
            rows = np.flatnonzero(redraw)
            if len(rows) == 0:
                break
            swap_link = rows[new_link[rows]]
            swap_book = rows[~new_link[rows]]
            neg_links[swap_link] = _draw(self._link_cdf, len(swap_link), self.rng)
            neg_books[swap_book] = _draw(self._book_cdf, len(swap_book), self.rng)
            redraw[:] = False
            redraw[rows] = self.is_true_pair(neg_books[rows], neg_links[rows])
            # A pair whose side cannot be corrupted (a book holding every popular link) gets the other side.
            new_link[rows[redraw[rows]]] ^= True
        else:
            raise RuntimeError("could not draw negatives that are not true pairs")
        shape = (self.steps_per_epoch, self.batch_size)
        neg_shape = (self.steps_per_epoch, self.batch_size * self.negatives)
        return (
            np.concatenate([books.reshape(shape), neg_books.reshape(neg_shape)], axis=1).astype(np.int32),
            np.concatenate([links.reshape(shape), neg_links.reshape(neg_shape)], axis=1).astype(np.int32),
        )

    def is_true_pair(self, books: np.ndarray, links: np.ndarray) -> np.ndarray:
        """Vectorised membership test of (book, link) pairs in the training pairs."""
        codes = books.astype(np.int64) * self.pairs.n_links + links
        at = np.searchsorted(self._true_codes, codes)
        at[at == len(self._true_codes)] = 0
        return self._true_codes[at] == codes

    def _positive_indices(self, n_true: int) -> np.ndarray:
        n = len(self.pairs)
        if not self._uniform:
            return _draw(self._pair_cdf, n_true, self.rng)
        rounds = -(-n_true // n)
        return np.concatenate([self.rng.permutation(n) for _ in range(rounds)])[:n_true]


def _cdf(weight: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weight, dtype=np.float64)
    return cdf / cdf[-1]


def _draw(cdf: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)
