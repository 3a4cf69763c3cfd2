"""What training learns from: (book, link) pairs as plain NumPy arrays, and the batches drawn from them.

The Django side reads pairs from PostgreSQL, maps its ids to dense indices and hands over a ``PairSet``:

* content pairs: a book and one of its links (a Wikipedia wikilink target, a goodbooks tag);
* catalogue pairs: a book and one of the catalogue's entities (an author, a genre), whatever source described it;
* shelf pairs: a book and a reader whose shelf holds it, the reader being one more "link" entity.

``PairSet.combine(content, shelves)`` puts both in one index space (readers after the content links),
``split_holdout`` keeps a few pairs back for link-prediction AUC, and ``BatchSampler`` draws whole
epochs of steps at once: true pairs sampled by weight, in groups that serve as one another's negatives,
and for each group books and links drawn as further negatives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from books.text import normalise_link_name
from recommender.training.params import TrainingParams

CONTENT = 0
SHELF = 1
CATALOGUE = 2


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
    """Distinct (book, link) pairs with a sampling weight and a kind (CONTENT, CATALOGUE or SHELF) each.

    Build it with ``PairSet.build``, which validates the arrays and merges duplicate pairs.
    """

    book_index: np.ndarray  # int32[n_pairs]
    link_index: np.ndarray  # int32[n_pairs]
    weight: np.ndarray  # float32[n_pairs], > 0: a content pair's count, a shelf pair's sampling weight
    kind: np.ndarray  # uint8[n_pairs], CONTENT, CATALOGUE or SHELF
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
        if not np.isin(kinds, (CONTENT, CATALOGUE, SHELF)).all():
            raise ValueError("kind must be CONTENT, CATALOGUE or SHELF")

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
        """One pair set with the shelf pairs' links (readers) numbered after the content links, kind SHELF; the
        content pairs keep their kinds (CONTENT, CATALOGUE)."""
        if content.n_books != shelves.n_books:
            raise ValueError("content and shelf pairs must share the same books")
        return cls.build(
            np.concatenate([content.book_index, shelves.book_index]),
            np.concatenate([content.link_index, shelves.link_index.astype(np.int64) + content.n_links]),
            n_books=content.n_books,
            n_links=content.n_links + shelves.n_links,
            weight=np.concatenate([content.weight, shelves.weight]),
            kind=np.concatenate([content.kind, np.full(len(shelves), SHELF, np.uint8)]),
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
        Catalogue pairs are weighted apart, by idf**idf_power among the catalogue pairs (a person's few books
        say more than a genre's thousand), also scaled to average 1 over them: ``with_catalogue_weight`` then
        sets how much they count.
        """
        if count_power == 0 and idf_power == 0:
            return self
        scaled = self.weight.astype(np.float64)
        for kind, power in ((CONTENT, count_power), (CATALOGUE, 0.0)):
            of_kind = self.kind == kind
            if not of_kind.any():
                continue
            scaled[of_kind] = scaled[of_kind] ** power
            if idf_power:
                books_per_link = np.bincount(self.link_index[of_kind], minlength=self.n_links)
                n_books = len(np.unique(self.book_index[of_kind]))
                idf = np.maximum(np.log(n_books / np.maximum(books_per_link, 1)), 0.01)
                scaled[of_kind] *= idf[self.link_index[of_kind]] ** idf_power
            scaled[of_kind] /= scaled[of_kind].mean()
        return PairSet(self.book_index, self.link_index, scaled.astype(np.float32), self.kind, self.n_books,
                       self.n_links)

    def with_catalogue_weight(self, catalogue_weight: float) -> PairSet:
        """Catalogue pairs' weights multiplied by ``catalogue_weight``; pairs whose weight becomes 0 are dropped."""
        weight = np.where(self.kind == CATALOGUE, self.weight * np.float32(catalogue_weight),
                          self.weight).astype(np.float32)
        scaled = PairSet(self.book_index, self.link_index, weight, self.kind, self.n_books, self.n_links)
        return scaled.subset(weight > 0)

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


@dataclass(frozen=True, eq=False)
class EpochBatches:
    """One epoch of training steps; row ``s`` of every array is step ``s``.

    The true pairs of a step, ``books[s, i]`` with ``links[s, i]``, come in consecutive groups of the
    sampler's ``group_size``; group ``g`` of step ``s`` also gets the drawn negatives
    ``drawn_links[s, g * drawn_negatives:(g + 1) * drawn_negatives]`` (and as many ``drawn_books``).
    """

    books: np.ndarray  # int32[steps, pairs_per_step]
    links: np.ndarray  # int32[steps, pairs_per_step]
    drawn_books: np.ndarray  # int32[steps, groups_per_step * drawn_negatives]
    drawn_links: np.ndarray  # int32[steps, groups_per_step * drawn_negatives]
    # With ``reject_true_pairs``, which negatives count (False where book and link are a true pair),
    # flattened per step from [groups, group_size, group_size + drawn_negatives]: pair i's book against the
    # group's links, then the drawn links (the diagonal, pair i itself, is a true pair and so False) ...
    book_negatives: np.ndarray | None = None  # bool[steps, pairs_per_step * (group_size + drawn_negatives)]
    # ... and from [groups, group_size, drawn_negatives]: pair i's link against the drawn books.
    link_negatives: np.ndarray | None = None  # bool[steps, pairs_per_step * drawn_negatives]


class BatchSampler:
    """Draws whole epochs of training steps from a pair set, deterministically for a seed.

    A step is ``batch_size`` true pairs (rounded up to whole groups of ``group_size``). They are sampled in
    proportion to weight by systematic sampling: over an epoch a pair comes up its expected number of times
    rounded down or up, so with equal weights every pair comes once an epoch. Negatives are not drawn pair by
    pair: the trainer scores each book of a group against the links of the group's other pairs (and each link
    against their books), and against ``drawn_negatives`` links and as many books drawn here for the group
    with probability weighted-degree**``negative_power``. With ``reject_true_pairs`` every (book, link)
    negative of an epoch is looked up at once in a bitmap of the true pairs (``TruePairs``), and masks say
    which ones count; without it (the default, see ``TrainingParams.reject_true_pairs``) the few true
    pairs among the negatives stay, as in word2vec.
    """

    def __init__(self, pairs: PairSet, params: TrainingParams, rng: np.random.Generator):
        if len(pairs) == 0:
            raise ValueError("no pairs to train on")
        self.pairs = pairs
        self.rng = rng
        self.group_size = min(params.group_size, params.batch_size)
        self.groups_per_step = -(-params.batch_size // self.group_size)
        self.pairs_per_step = self.groups_per_step * self.group_size
        self.drawn_negatives = params.drawn_negatives
        self.steps_per_epoch = max(1, -(-len(pairs) // self.pairs_per_step))
        self._pair_cdf = _cdf(pairs.weight.astype(np.float64))
        power = params.negative_power
        self._draw_book = AliasTable(_drawing_weight(pairs.book_index, pairs.weight, pairs.n_books, power))
        self._draw_link = AliasTable(_drawing_weight(pairs.link_index, pairs.weight, pairs.n_links, power))
        self.true_pairs = TruePairs(pairs) if params.reject_true_pairs else None

    def epoch(self) -> EpochBatches:
        """The next epoch's steps (see ``EpochBatches``)."""
        chosen = self._positive_indices(self.steps_per_epoch * self.pairs_per_step)
        steps, size, drawn = self.steps_per_epoch, self.group_size, self.drawn_negatives
        groups = steps * self.groups_per_step
        books = self.pairs.book_index[chosen].reshape(groups, size)
        links = self.pairs.link_index[chosen].reshape(groups, size)
        drawn_books = self._draw_book(groups * drawn, self.rng).reshape(groups, drawn)
        drawn_links = self._draw_link(groups * drawn, self.rng).reshape(groups, drawn)
        batches = EpochBatches(books=books.reshape(steps, -1), links=links.reshape(steps, -1),
                               drawn_books=drawn_books.reshape(steps, -1), drawn_links=drawn_links.reshape(steps, -1))
        if self.true_pairs is None:
            return batches
        candidate_links = np.concatenate([links, drawn_links], axis=1)  # [groups, size + drawn]
        return replace(
            batches,
            book_negatives=~self.true_pairs.contain(books[:, :, None], candidate_links[:, None, :]).reshape(steps, -1),
            link_negatives=~self.true_pairs.contain(drawn_books[:, None, :], links[:, :, None]).reshape(steps, -1),
        )

    def _positive_indices(self, n_true: int) -> np.ndarray:
        """``n_true`` pair indices, shuffled: pair i comes floor or ceil of n_true * its weight share times."""
        ends = np.floor(self._pair_cdf * n_true + self.rng.random()).astype(np.int64)
        counts = np.diff(ends, prepend=0)
        chosen = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        self.rng.shuffle(chosen)
        return chosen


_BIT = (1 << np.arange(8)).astype(np.uint8)


class TruePairs:
    """Set membership of (book, link) pairs for whole arrays at once: one bit per possible pair.

    Exact while books × links fits in ``MAX_BITS`` (512 MiB of bits; 37,020 books × 41,758 links take 193
    MiB); beyond that pairs share bits by their code modulo a prime, so a few other pairs (about pairs /
    ``MAX_BITS`` of them) read as true too, which only drops that share of negatives. True pairs always
    read as true.
    """

    MAX_BITS = 2**32
    _PRIME_BITS = 4_294_967_291  # the largest prime below 2**32

    def __init__(self, pairs: PairSet):
        self.n_links = pairs.n_links
        space = pairs.n_books * pairs.n_links
        self.exact = space <= self.MAX_BITS
        self.slots = space if self.exact else self._PRIME_BITS
        self.bits = np.zeros((self.slots + 7) // 8, np.uint8)
        slot = self._slot(pairs.book_index, pairs.link_index)
        np.bitwise_or.at(self.bits, slot >> 3, np.take(_BIT, slot & 7))

    def contain(self, book_index: np.ndarray, link_index: np.ndarray) -> np.ndarray:
        """bool array (the arguments broadcast together): which (book, link) are true pairs."""
        slot = self._slot(book_index, link_index)
        byte = np.take(self.bits, slot >> 3)
        slot &= 7
        return (byte & np.take(_BIT, slot)) != 0

    def _slot(self, book_index: np.ndarray, link_index: np.ndarray) -> np.ndarray:
        dtype = np.uint32 if self.exact else np.uint64  # 32-bit arithmetic is quicker, and exact below 2**32
        codes = (np.asarray(book_index).astype(dtype, copy=False) * dtype(self.n_links)
                 + np.asarray(link_index).astype(dtype, copy=False))
        return codes if self.exact else codes % self.slots


class AliasTable:
    """Draws indices with probability proportional to ``weight`` in constant time each (Walker's alias method).

    Slot i of n is drawn uniformly; it keeps i with probability ``keep[i]`` and otherwise gives ``alias[i]``.
    About four times quicker than inverting the CDF by binary search, which took most of an epoch's sampling.
    """

    def __init__(self, weight: np.ndarray):
        n = len(weight)
        scaled = (np.asarray(weight, np.float64) * (n / np.sum(weight))).tolist()
        keep = [1.0] * n
        alias = list(range(n))
        small = [i for i, w in enumerate(scaled) if w < 1.0]
        large = [i for i, w in enumerate(scaled) if w >= 1.0]
        while small and large:
            short, tall = small.pop(), large[-1]
            keep[short], alias[short] = scaled[short], tall
            scaled[tall] -= 1.0 - scaled[short]
            if scaled[tall] < 1.0:
                small.append(large.pop())
        self.keep = np.array(keep)
        self.alias = np.array(alias, np.int32)

    def __call__(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` indices, int32."""
        slots = rng.random(size) * len(self.keep)
        slot = slots.astype(np.int32)
        return np.where(slots - slot < self.keep[slot], slot, self.alias[slot])


def _drawing_weight(index: np.ndarray, weight: np.ndarray, size: int, power: float) -> np.ndarray:
    """weighted-degree**power of each entity; 0 (never drawn) for entities without pairs."""
    degree = np.bincount(index, weight, size)
    return np.where(degree > 0, degree ** power, 0.0)


def _cdf(weight: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weight, dtype=np.float64)
    return cdf / cdf[-1]
