"""The shelf model: book vectors learned for "books for your shelf" itself, from readers' shelves and links.

The book–link embeddings (``trainer.py``) place similar books close together, which is what "books like
this one" and the map need. A shelf is a different question — which books go with *this set* of books —
and on real goodbooks shelves a model trained for it directly recommends better (bench/quality/goodbooks.py).

It is a shallow linear autoencoder of shelves with content links as side information (EASE, Steck 2019,
"Embarrassingly Shallow Autoencoders for Sparse Data"): book ``j`` scores ``sum(B[i, j] for i in shelf)``,
where the book × book weights ``B`` minimise

    || X - X B ||² + link_weight · || T'(I - B) ||² + || Λ^½ B ||²,   diag(B) = 0

``X`` being the training readers' shelves (shelf × book, 1 when shelved; a shelf that counts ``w`` times
as much, √w) and ``T'`` the books' content
links (link × book: L2-normalised TF-IDF rows of each book, weights log(1 + count) · idf), so books that
share tags or wikilinks predict each other even when few readers shelved them together. The solution is
closed-form: with the Gram matrix ``G = XᵀX + link_weight · T Tᵀ``, ``P = (G + Λ)⁻¹`` and
``B = −P / diag(P)`` — training is one matrix inversion, exact and deterministic, no epochs. ``Λ`` is
diagonal, ``regularisation + dropout / (1 − dropout) · G_jj`` for book ``j``: the L2 penalty that training
with a ``dropout`` share of each shelf hidden amounts to (Steck 2020, "Autoencoders that don't overfit
towards the identity", EDLAE), which regularises popular books more.

To serve it from pgvector each modelled book keeps its row of ``B`` as its *shelf vector*: one component
per modelled book (``ShelfModel.book_index`` gives their order), how much having this book on a shelf
says for each other book. A shelf's scores are the sum of its books' shelf vectors (pgvector's ``sum``)
and each shelf book's share of a suggestion's score is its own component, which names the books that
explain it. ``B`` is served exactly: factorising it into 1,024-d vectors lost 3 % of Recall@20 on
goodbooks (bench/quality/goodbooks.py), and summing a shelf's rows reads less than scanning every book.

Books on fewer than ``params.shelf_model_min_shelves`` training shelves (each counting its weight) are not in
the model
(``ShelfModel.book_index``); with the exact solver at most ``params.shelf_model_max_books`` of the most shelved
books are, because the inversion is cubic in their number and a dense row quadratic in storage.

The neighbourhood solver (``params.shelf_model_solver = "neighbourhood"``, and "auto" beyond that cap;
``solve_neighbourhood_weights``) has no such cap: it solves each book's column of ``B`` on its ``shelf_model_neighbours`` nearest books only (the same loss,
SLIM/SANSA's sparsity), so every book on enough shelves is modelled in time and memory linear in the catalogue,
and keeps each row's ``shelf_model_out_neighbours`` largest weights: a neighbour list, whose length — what serving
reads — does not grow with the catalogue. On goodbooks it scores within 2 % of the exact solver (BENCHMARKS.md §16).
Its *tail blend* adds item-kNN's votes for the tail books to those lists, and its *tail scale* can scale the tail's
columns down, so the votes reorder the tail without pushing head books out of a shelf's suggestions. Whether they
help depends on the catalogue, so they are chosen per fit (``choose_tail_blend``) on a fifth of some training
readers' shelves held out of it (``shelf_model_tail_selection_readers``). Where a tail book's tags say only its
genre (the planted catalogue of ``bench.speed.shelf_model_scale``), its column — a ridge regression on its few
shelves, dominated by the penalty and the links — finds the genre but not which of its books go with a shelf, and
the cosine of two books' shelves, which normalises popularity away, finds them as well as item-kNN; where the tags
describe the books (goodbooks), EASE's tail columns find the held-out books better than item-kNN's votes, and no
blend is chosen (BENCHMARKS.md §16).
Pure NumPy; nothing here knows about Django.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recommender.training.dataset import PairSet
from recommender.training.params import TrainingParams

StageCallback = Callable[[str], None]
"""on_stage(description): called as the model moves from one step to the next (for live status)."""


@dataclass(frozen=True, eq=False)
class ShelfModel:
    """One shelf vector for each modelled book: score(book j | shelf) = sum of the shelf's vectors' j-th component."""

    book_index: np.ndarray  # int64[n]: which books (indices of the training data) the model covers, in order
    shelf_vectors: np.ndarray | sp.csr_matrix
    """B, row i the shelf vector of book_index[i]: float32[n, n] (the exact solver) or a sparse float32 n × n
    matrix holding each row's largest weights (the neighbourhood solver)."""
    tail_blend: float = 0.0
    """The neighbourhood solver's tail blend and scale (``solve_neighbourhood_weights``; 0 and 1: none)."""
    tail_scale: float = 1.0

    def __len__(self) -> int:
        return len(self.book_index)

    @property
    def is_sparse(self) -> bool:
        """Whether the vectors are neighbour lists (``shelf_model_solver="neighbourhood"``)."""
        return sp.issparse(self.shelf_vectors)


def train_shelf_model(
    *,
    shelves: PairSet,
    content: PairSet | None,
    params: TrainingParams,
    on_stage: StageCallback | None = None,
) -> ShelfModel | None:
    """Fits the shelf model on training readers' shelves and the books' content links.

    ``shelves`` pairs each book with the training readers' shelves that hold it (shelves as links; a pair's
    weight is how much its shelf counts);
    ``content`` (same books) pairs books with their links, a pair's weight being how many times the book
    has the link. Returns None when fewer than two books are on enough training shelves.
    """
    stage = on_stage or (lambda description: None)
    n_books = shelves.n_books
    shelved = np.bincount(shelves.book_index, weights=shelves.weight, minlength=n_books)
    modelled = np.flatnonzero(shelved >= params.shelf_model_min_shelves)
    sparse = params.shelf_model_solver == "neighbourhood" or (
        params.shelf_model_solver == "auto" and len(modelled) > params.shelf_model_max_books)
    if not sparse and len(modelled) > params.shelf_model_max_books:
        most_shelved = np.argsort(-shelved[modelled], kind="stable")[: params.shelf_model_max_books]
        modelled = np.sort(modelled[most_shelved])
    if len(modelled) < 2:
        return None
    position = np.full(n_books, -1, np.int64)
    position[modelled] = np.arange(len(modelled))

    if sparse:
        stage(f"shelf model: neighbourhoods of {len(modelled):,} books")
        links = None
        if params.shelf_model_link_weight > 0 and content is not None and len(content):
            links = link_rows(position, content, len(modelled))
        shelf_matrix, selection = shelf_book_matrix(position, shelves, len(modelled)), None
        if params.shelf_model_tail_selection_readers:
            shelf_matrix, selection = hold_out_shelves(shelf_matrix, params.shelf_model_tail_selection_readers,
                                                       params.seed)
        weights, (blend, scale) = solve_neighbourhood_weights(shelf_matrix, links, params, on_stage=stage,
                                                              selection=selection)
        return ShelfModel(book_index=modelled, shelf_vectors=weights, tail_blend=blend, tail_scale=scale)

    stage(f"shelf model: Gram matrix of {len(modelled):,} books")
    shelf_matrix = shelf_book_matrix(position, shelves, len(modelled))
    gram = (shelf_matrix.T @ shelf_matrix).toarray()
    if params.shelf_model_link_weight > 0 and content is not None and len(content):
        gram += params.shelf_model_link_weight * link_gram(position, content, len(modelled))

    stage(f"shelf model: solving for {len(modelled):,} books")
    return ShelfModel(book_index=modelled, shelf_vectors=solve_shelf_weights(gram, params))


def solve_shelf_weights(gram: np.ndarray, params: TrainingParams) -> np.ndarray:
    """B (float32) from the (symmetric) Gram matrix of the modelled books, inverted in its own memory."""
    dropout = params.shelf_model_dropout
    gram[np.diag_indices_from(gram)] += params.shelf_model_regularisation + dropout / (1 - dropout) * np.diag(gram)
    # Its transpose is the same matrix in Fortran order, which LAPACK inverts in place instead of copying.
    inverse = scipy.linalg.inv(gram.T, overwrite_a=True, check_finite=False)
    inverse /= -np.diag(inverse).copy()  # in place: B[i, j] = -P[i, j] / P[j, j]
    np.fill_diagonal(inverse, 0.0)
    return inverse.astype(np.float32, order="C")


def recommend_from_shelf_model(model: ShelfModel, shelf: np.ndarray, k: int,
                               weights: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` best modelled books for ``shelf`` (book indices), best first, none of them on the shelf.

    The NumPy twin of the serving query; shelf books the model does not cover are ignored.
    """
    position = np.searchsorted(model.book_index, shelf)
    position = np.clip(position, 0, len(model.book_index) - 1)
    covered = model.book_index[position] == shelf
    if not covered.any():
        return np.zeros(0, np.int64)
    shelf_weights = np.ones(len(shelf)) if weights is None else np.asarray(weights, np.float64)
    if model.is_sparse:
        scores = np.asarray(model.shelf_vectors[position[covered]].T @ shelf_weights[covered]).ravel()
    else:
        scores = shelf_weights[covered].astype(np.float32) @ model.shelf_vectors[position[covered]]
    scores[position[covered]] = -np.inf
    k = min(k, len(scores) - int(covered.sum()))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((top, -scores[top]))][:k]
    return model.book_index[top]


def shelf_book_matrix(position: np.ndarray, shelves: PairSet, n: int) -> sp.csr_matrix:
    """X: training shelf × modelled book (``position`` of each book, -1 if not modelled): √(the pair's
    weight) when shelved, so that XᵀX counts each shelf as much as its weight says."""
    at = position[shelves.book_index]
    keep = at >= 0
    return sp.csr_matrix((np.sqrt(shelves.weight[keep].astype(np.float64)), (shelves.link_index[keep], at[keep])),
                         shape=(shelves.n_links, n))


def link_gram(position: np.ndarray, content: PairSet, n: int) -> np.ndarray:
    """T Tᵀ of the modelled books' L2-normalised TF-IDF link rows (weights log(1 + count) · idf)."""
    rows = link_rows(position, content, n)
    return (rows @ rows.T).toarray()


def link_rows(position: np.ndarray, content: PairSet, n: int) -> sp.csr_matrix:
    """T: the modelled books' L2-normalised TF-IDF link rows (book × link, weights log(1 + count) · idf)."""
    at = position[content.book_index]
    keep = at >= 0
    n_links = content.n_links
    rows = sp.csr_matrix((np.log1p(content.weight[keep].astype(np.float64)), (at[keep], content.link_index[keep])),
                         shape=(n, n_links))
    books_per_link = np.bincount(rows.indices, minlength=n_links)
    rows = rows @ sp.diags(np.log((n + 1.0) / (books_per_link + 1.0)))
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    return (sp.diags(1.0 / np.maximum(norms, 1e-12)) @ rows).tocsr()


GRAM_BLOCK_ENTRIES = 8_000_000
"""Gram entries held at once while the neighbourhoods are picked (a block of rows, sparse; one block a thread)."""
SOLVE_BATCH = 64
"""Books whose neighbourhood systems are solved in one batched LAPACK call."""
COMMON_LINK_BOOKS = 1000
"""A link on more books than this is left out of picking the neighbourhoods (a tag such as "fiction" pairs
nearly every two books: the Gram's rows would be dense, quadratic in the catalogue) but kept in every system."""
COMMON_LINK_COMPONENTS = 32
"""The common links' part of the Gram, ``U Uᵀ`` (``U`` their n × c columns), enters every system as its best
approximation of this rank (``U``'s leading singular directions), the rest of its diagonal kept exactly: a system
costs the same however many common links the catalogue has (their number grows with it)."""


def solver_threads() -> int:
    """Threads that pick neighbourhoods and solve systems at once: the CPUs this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


def solve_neighbourhood_weights(shelf_matrix: sp.csr_matrix, links: sp.csr_matrix | None, params: TrainingParams,
                                on_stage: StageCallback | None = None, selection: HeldOutShelves | None = None,
                                ) -> tuple[sp.csr_matrix, tuple[float, float]]:
    """B of the neighbourhood solver (sparse float32 n × n): the exact solver's column regressions, each on its
    book's ``shelf_model_neighbours`` nearest books only, their positive weights, each row then cut to its
    ``shelf_model_out_neighbours`` largest; and the tail blend and scale it used (below).

    Column ``j`` of EASE is the ridge regression of book ``j``'s column on all other books: with
    ``G = XᵀX + link_weight · T Tᵀ`` and ``Λ`` as in ``solve_shelf_weights``, ``B[S, j] = (G[S, S] + Λ[S])⁻¹ G[S, j]``
    with ``S`` every other book — the closed form's ``−P[:, j] / P[j, j]`` is that, by block inversion. Here ``S``
    is the ``m`` books with the largest ``G[j, ·]`` (those it shares most shelves and links with; fewer when fewer
    share any), so each column costs one m × m solve: the fit takes ``n · (m³ + 32 m²)`` time (the common links'
    components below) and ``n · m`` memory besides
    the Gram's sparse rows, which are made a block at a time and cut to their ``m`` largest entries (time in
    proportion to the Gram's non-zeros: pairs of books sharing a shelf or a link). ``G[S, S]`` is read from those
    lists (an entry neither book lists is taken as 0: SANSA's sparsified Gram), except the part of links on more
    than ``COMMON_LINK_BOOKS`` books, which is left out of the lists and added to each system whole (exactly while
    there are at most ``COMMON_LINK_COMPONENTS`` such links, else folded into that many components). Blocks and
    batches run on ``solver_threads()`` threads (NumPy, SciPy and LAPACK release the GIL), one BLAS thread each;
    ``on_stage`` is called from the calling thread only.

    With a tail blend α > 0, ``B[i, j]`` gains α · cos(i, j) — the cosine of the two books' shelf columns — for
    each tail book ``j`` (``tail_books``) among book ``i``'s ``shelf_model_tail_neighbours`` most similar books
    (item-kNN's list), picked from the same blocks of the shelf Gram; then every tail book's column is multiplied
    by the tail scale, before the rows are cut (``blended_weights``). Both are chosen on ``selection``'s held-out
    books (``choose_tail_blend``) when it is given, else they are ``shelf_model_tail_blend`` and
    ``shelf_model_tail_scale``.
    """
    stage = on_stage or (lambda description: None)
    n = shelf_matrix.shape[1]
    m = int(min(params.shelf_model_neighbours, n - 1))
    by_book = shelf_matrix.T.tocsr()
    link_weight = params.shelf_model_link_weight if links is not None else 0.0
    # Row n is a sentinel: the neighbour of a book with fewer than m, with no Gram entry and a unit diagonal.
    folded, folded_out = np.zeros((n + 1, 0)), np.zeros(n + 1)
    common_diagonal = np.zeros(n + 1)
    if link_weight:
        books_per_link = np.bincount(links.indices, minlength=links.shape[1])
        is_common = books_per_link > COMMON_LINK_BOOKS
        if is_common.any():
            folded, common_diagonal = common_link_components(np.sqrt(link_weight) * links[:, is_common],
                                                             COMMON_LINK_COMPONENTS)
            folded = np.vstack([folded, np.zeros((1, folded.shape[1]))])
            common_diagonal = np.append(common_diagonal, 0.0)
            folded_out = common_diagonal - np.einsum("ij,ij->i", folded, folded)
        links = links[:, ~is_common].tocsr()
    links_t = links.T.tocsr() if link_weight else None
    neighbours = np.full((n + 1, m), n, np.int32)
    # The tail blend: the tail books among each book's shelf_model_tail_neighbours most cosine-similar books (by
    # shelves alone), with their cosines: item-kNN's lists, kept for the tail.
    voting = selection is not None or params.shelf_model_tail_blend > 0
    k_tail = int(min(params.shelf_model_tail_neighbours, n - 1))
    shelf_counts = np.asarray(shelf_matrix.multiply(shelf_matrix).sum(axis=0), np.float64).ravel()
    is_tail = tail_books(shelf_counts)
    tail_ids = np.full((n, k_tail if voting else 0), n, np.int32)
    tail_cosines = np.zeros(tail_ids.shape, np.float32)

    def pick_tail_cosines(block: sp.csr_matrix, start: int) -> None:
        """The tail books among rows ``start:``'s ``k_tail`` most cosine-similar books (ties by position), from
        their shelf Gram."""
        block = block.tocsr()
        block.sort_indices()
        rows = np.repeat(np.arange(block.shape[0], dtype=np.uint64), np.diff(block.indptr))
        cols = block.indices
        keep = rows.astype(np.int64) + start != cols
        rows, cols = rows[keep], cols[keep]
        cosines = (block.data[keep] / np.sqrt(shelf_counts[rows.astype(np.int64) + start] * shelf_counts[cols])
                   ).astype(np.float32)
        # As in pick: one stable sort by (row, cosine descending), ties in column order.
        order = np.argsort((rows << np.uint64(32)) | (~cosines.view(np.uint32)).astype(np.uint64), kind="stable")
        rows, cols, cosines = rows[order].astype(np.int64), cols[order], cosines[order]
        rank = np.arange(len(rows)) - np.concatenate([[0], np.cumsum(np.bincount(rows))])[rows]
        top = (rank < k_tail) & is_tail[cols]
        tail_ids[rows[top] + start, rank[top]] = cols[top]
        tail_cosines[rows[top] + start, rank[top]] = cosines[top]

    gram_values = np.zeros((n + 1, m), np.float32)
    diagonal = np.ones(n + 1, np.float64)

    def pick(bounds: tuple[int, int]) -> int:
        """Rows ``start:stop``'s m largest Gram entries (other books, ties by position) and their diagonal."""
        start, stop = bounds
        block = by_book[start:stop] @ shelf_matrix
        if voting:
            pick_tail_cosines(block, start)
        block = block.astype(np.float32)
        if link_weight:
            block = block + link_weight * (links[start:stop] @ links_t).astype(np.float32)
        block = block.tocsr()
        block.sort_indices()
        rows = np.repeat(np.arange(stop - start, dtype=np.uint64), np.diff(block.indptr))
        cols, values = block.indices, block.data
        own = rows.astype(np.int64) + start == cols
        diagonal[start + rows[own].astype(np.int64)] = values[own]
        rows, cols, values = rows[~own], cols[~own], values[~own]
        # One stable sort by (row, value descending), ties in column order: the Gram's entries are ≥ 0, so their
        # float32 bits order as they do, and their complement orders them descending.
        order = np.argsort((rows << np.uint64(32)) | (~values.view(np.uint32)).astype(np.uint64), kind="stable")
        rows, cols, values = rows[order].astype(np.int64), cols[order], values[order]
        rank = np.arange(len(rows)) - np.concatenate([[0], np.cumsum(np.bincount(rows))])[rows]
        top = rank < m
        neighbours[rows[top] + start, rank[top]] = cols[top]
        gram_values[rows[top] + start, rank[top]] = values[top]
        return stop

    blocks, start = [], 0
    while start < n:
        # Rows per block: as many as keep about GRAM_BLOCK_ENTRIES shelf pairs (an estimate of their entries).
        pairs = np.cumsum(np.diff(by_book.indptr[start:]) * 64 + n // 64 + 1)
        stop = min(n, start + max(1, int(np.searchsorted(pairs, GRAM_BLOCK_ENTRIES))))
        blocks.append((start, stop))
        start = stop

    dropout = params.shelf_model_dropout
    threads = solver_threads()
    columns = np.zeros((n, m), np.float32)
    flat = np.arange(m)
    row_starts = (np.arange(SOLVE_BATCH * m, dtype=np.int32) * (m + 1)).reshape(SOLVE_BATCH, m, 1)
    local = threading.local()

    def solve(start: int) -> int:
        """Columns ``start:start + SOLVE_BATCH``: each book's system on its neighbourhood, solved."""
        stop = min(start + SOLVE_BATCH, n)
        count = stop - start
        if not hasattr(local, "where"):
            # where[row, book]: the position of ``book`` in the neighbourhood of the batch's row-th book, else m.
            local.where = np.full((SOLVE_BATCH, n + 1), m, np.int16 if m < 2**15 else np.int32)
        where = local.where
        chosen = neighbours[start:stop]  # count × m
        batch = np.arange(count, dtype=np.int32)[:, None]
        where[batch, chosen] = flat
        where[:count, n] = m
        # at[b, i, k]: where book b's system holds its i-th neighbour's k-th neighbour (column m: a spare one).
        at = where.ravel().take(neighbours[chosen] + (batch * (n + 1))[:, :, None]) + row_starts[:count]
        where[batch, chosen] = m
        systems = np.zeros((count, m, m + 1), np.float64)
        systems.ravel()[at.ravel()] = gram_values[chosen].ravel()
        systems = systems[:, :, :m]
        systems = np.maximum(systems, systems.transpose(0, 2, 1))  # G is symmetric: an entry either lists is exact
        systems[:, flat, flat] = system_diagonal[chosen]
        right = gram_values[start:stop].astype(np.float64)
        if folded.shape[1]:
            shared = folded[chosen]  # count × m × components
            systems += shared @ shared.transpose(0, 2, 1)
            right += (shared @ folded[start:stop, :, None])[:, :, 0]
        columns[start:stop] = np.linalg.solve(systems, right[:, :, None])[:, :, 0]
        return stop

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        reported = 0
        for stop in pool.map(pick, blocks):
            if stop - reported >= n // 10 or stop == n:
                reported = stop
                stage(f"shelf model: neighbourhoods of {stop:,} of {n:,} books")
        penalty = params.shelf_model_regularisation + dropout / (1 - dropout) * (diagonal + common_diagonal)
        penalty[n] = 0.0  # the whole Gram's diagonal, regularised; the sentinel's stays 1
        system_diagonal = diagonal + folded_out + penalty
        reported = 0
        for stop in pool.map(solve, range(0, n, SOLVE_BATCH)):
            if stop - reported >= n // 10 or stop == n:
                reported = stop
                stage(f"shelf model: solved {stop:,} of {n:,} books")

    # B[neighbours[j], j] = columns[j], its positive weights; the tail's votes beside it, then the blend.
    rows, cols, weights = neighbours[:n].ravel(), np.repeat(np.arange(n, dtype=np.int64), m), columns.ravel()
    keep = (weights > 0) & (rows < n)
    ease = sp.csr_matrix((weights[keep], (rows[keep], cols[keep])), shape=(n, n), dtype=np.float32)
    listed = tail_ids < n
    votes = sp.csr_matrix((tail_cosines[listed], (np.nonzero(listed)[0], tail_ids[listed])), shape=(n, n),
                          dtype=np.float32)
    if selection is not None:
        blend, scale = choose_tail_blend(ease, votes, is_tail, selection)
        stage(f"shelf model: tail blend {blend:g}, tail scale {scale:g} chosen on {selection.visible.shape[0]:,} "
              "readers' held-out books")
    else:
        blend, scale = params.shelf_model_tail_blend, params.shelf_model_tail_scale
    return cut_rows(blended_weights(ease, votes, is_tail, blend, scale), params.shelf_model_out_neighbours), (
        blend, scale)


def blended_weights(ease: sp.csr_matrix, votes: sp.csr_matrix, is_tail: np.ndarray, blend: float,
                    scale: float) -> sp.csr_matrix:
    """``(ease + blend · votes)``, every tail book's column then multiplied by ``scale`` (votes are for tail books
    only): below 1 a tail book ranks under the head's unless its votes are strong, so the blend reorders the tail
    without pushing the head out of a shelf's suggestions."""
    weights = (ease + np.float32(blend) * votes) if blend else ease.copy()
    if scale != 1:
        weights = weights @ sp.diags(np.where(is_tail, scale, 1.0).astype(np.float32))
    return weights.tocsr()


def cut_rows(weights: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Each row's ``keep`` largest positive weights (ties by position): the neighbour lists serving sums."""
    weights = weights.tocoo()
    rows, cols, values = weights.row.astype(np.int64), weights.col.astype(np.int64), weights.data
    positive = values > 0
    rows, cols, values = rows[positive], cols[positive], values[positive]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    kept = np.arange(len(rows)) - np.concatenate([[0], np.cumsum(np.bincount(rows))])[rows] < keep
    return sp.csr_matrix((values[kept], (rows[kept], cols[kept])), shape=weights.shape, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class HeldOutShelves:
    """Some training readers' shelves with part of each held out of the fit: what the tail blend is chosen on."""

    visible: sp.csr_matrix  # reader × modelled book, 1 where the book stayed in the fit
    hidden: sp.csr_matrix  # reader × modelled book, 1 where it was held out


MIN_SELECTION_READERS = 100
"""Fewer held-out readers than this choose nothing (their recall is noise): the fixed blend and scale apply."""


def hold_out_shelves(shelf_matrix: sp.csr_matrix, readers: int,
                     seed: int) -> tuple[sp.csr_matrix, HeldOutShelves | None]:
    """Holds out a fifth (at least one book, rounded down) of ``readers`` training shelves, drawn (seeded) among
    the full-weight shelves of at least 5 books and at most a tenth of them: the shelf matrix without those
    entries, and the held-out shelves (None, and the matrix whole, when that leaves fewer than
    ``MIN_SELECTION_READERS``). The fit loses a small share of its entries (2,000 readers' ~4 books of ~1 M on
    goodbooks)."""
    matrix = shelf_matrix.tocsr()
    lengths = np.diff(matrix.indptr)
    entry_rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    full = np.bincount(entry_rows[matrix.data != 1], minlength=matrix.shape[0]) == 0
    eligible = np.flatnonzero(full & (lengths >= 5))
    if min(readers, len(eligible) // 10) < MIN_SELECTION_READERS:
        return shelf_matrix, None
    rng = np.random.default_rng([seed, 11])
    chosen = np.sort(rng.choice(eligible, min(readers, len(eligible) // 10), replace=False))
    held = np.zeros(matrix.nnz, bool)
    for row in chosen:
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        held[start + rng.permutation(stop - start)[: max(1, (stop - start) // 5)]] = True
    picked = np.full(matrix.shape[0], -1)
    picked[chosen] = np.arange(len(chosen))

    def shelves(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((np.ones(mask.sum(), np.float32), (picked[entry_rows[mask]], matrix.indices[mask])),
                             shape=(len(chosen), matrix.shape[1]))

    chosen_entry = picked[entry_rows] >= 0
    fitted = sp.csr_matrix((matrix.data[~held], (entry_rows[~held], matrix.indices[~held])), shape=matrix.shape)
    return fitted, HeldOutShelves(visible=shelves(chosen_entry & ~held), hidden=shelves(held))


TAIL_BLENDS = (0.0, 0.5, 1.0)
"""The tail blends ``choose_tail_blend`` picks from, the first none."""
TAIL_SCALES = (1.0, 0.3, 0.1)
"""The tail scales ``choose_tail_blend`` picks from, the first none."""
SELECTION_K = 20
"""Recommendations a held-out reader gets while the tail blend is chosen (the goodbooks bar's Recall@20)."""
SELECTION_STANDARD_ERRORS = 2.0
"""How clearly a tail blend or scale must find more held-out books than none to be chosen (``choose_tail_blend``)."""
SELECTION_BLOCK_ENTRIES = 4_000_000
"""Held-out readers' scores of every book held at once while the tail blend is chosen (float32, a block of readers)."""


def choose_tail_blend(ease: sp.csr_matrix, votes: sp.csr_matrix, is_tail: np.ndarray,
                      held_out: HeldOutShelves) -> tuple[float, float]:
    """The (blend, scale) of ``TAIL_BLENDS`` × ``TAIL_SCALES`` whose ``blended_weights`` find the held-out books
    best, counting for each held-out reader Recall@20 among all books (what a reader is served) plus Recall@20
    among the tail books ranked apart (whether the tail's own order finds them; 0 for a reader with no tail book
    held out). A pair is chosen over none (blend 0, scale 1) only if its mean gain over none is more than
    ``SELECTION_STANDARD_ERRORS`` standard errors of the readers' paired gains: a near-tie keeps the plain solver
    (on goodbooks a blend of 0.1 came out first on one draw of held-out readers in four, for 0.979× the exact
    solver's Recall@20 on the validation readers). Unlike a blend fixed for every catalogue, this keeps EASE's tail
    where its columns are good (goodbooks, whose tags describe the books: EASE finds tail books better than item-kNN
    there) and takes item-kNN's votes where they are not (planted tastes, whose tags say only the genre). A reader's
    20 among all books are the best of its head's 20 and its tail's 20 (scaled), so each blend ranks the head once
    and the tail once; memory: a few blocks of readers × books, dense, ``SELECTION_BLOCK_ENTRIES`` each."""
    n = ease.shape[1]
    k = min(SELECTION_K, n - 1)
    head, tail = np.flatnonzero(~is_tail), np.flatnonzero(is_tail)
    readers = held_out.visible.shape[0]
    found = np.zeros((readers, len(TAIL_BLENDS), len(TAIL_SCALES)))  # each reader's two recalls, summed
    block = max(1, SELECTION_BLOCK_ENTRIES // n)
    for start in range(0, readers, block):
        visible = held_out.visible[start:start + block]
        hidden = held_out.hidden[start:start + block].toarray() > 0
        own = np.asarray((visible @ ease).todense())
        own[visible.toarray() > 0] = -np.inf
        voted = np.asarray((visible @ votes).todense())[:, tail]
        ideal = np.minimum(hidden.sum(axis=1), k)
        tail_ideal = np.maximum(np.minimum(hidden[:, tail].sum(axis=1), k), 1)
        head_ids, head_scores = best(own[:, head], head, k)
        head_hits = np.take_along_axis(hidden, head_ids, axis=1)
        for b, blend in enumerate(TAIL_BLENDS):
            tail_ids, tail_scores = best(own[:, tail] + np.float32(blend) * voted if blend else own[:, tail], tail, k)
            tail_hits = np.take_along_axis(hidden, tail_ids, axis=1)
            found[start:start + block, b] += (tail_hits.sum(axis=1) / tail_ideal)[:, None]
            for s, scale in enumerate(TAIL_SCALES):
                scores = np.hstack([head_scores, np.float32(scale) * tail_scores])
                top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
                hits = np.take_along_axis(np.hstack([head_hits, tail_hits]), top, axis=1)
                found[start:start + block, b, s] += hits.sum(axis=1) / ideal
    gain = (found - found[:, :1, :1]).reshape(readers, -1)  # over none: TAIL_BLENDS[0], TAIL_SCALES[0]
    mean = gain.mean(axis=0)
    error = gain.std(axis=0, ddof=1) / np.sqrt(readers) if readers > 1 else np.zeros_like(mean)
    clear = np.where(mean > SELECTION_STANDARD_ERRORS * error, mean, 0.0)
    b, s = np.unravel_index(int(np.argmax(clear)), found.shape[1:])
    return TAIL_BLENDS[b], TAIL_SCALES[s]


def best(scores: np.ndarray, columns: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` largest ``scores`` (all of them when fewer), in no order: which of ``columns`` and their
    scores."""
    if scores.shape[1] > k:
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    return columns[top], np.take_along_axis(scores, top, axis=1)


def tail_books(shelf_counts: np.ndarray) -> np.ndarray:
    """Which books are in the tail (bool per book): all but the head, the most shelved books that together hold
    half the shelf entries (ties by position)."""
    order = np.argsort(-shelf_counts, kind="stable")
    head_size = int(np.searchsorted(np.cumsum(shelf_counts[order]), shelf_counts.sum() / 2)) + 1
    tail = np.ones(len(shelf_counts), bool)
    tail[order[:head_size]] = False
    return tail


def common_link_components(common: sp.csr_matrix, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """``F`` (n × at most ``rank``) whose ``F Fᵀ`` is the best approximation of that rank to ``U Uᵀ`` (``U`` the
    common links' weighted columns, sparse), and ``U Uᵀ``'s exact diagonal."""
    whole_diagonal = np.asarray(common.multiply(common).sum(axis=1), np.float64).ravel()
    if common.shape[1] <= rank:
        return common.toarray().astype(np.float64), whole_diagonal
    # U Uᵀ's leading eigenvectors are U's left singular vectors: U V with V the leading eigenvectors of Uᵀ U (c × c).
    _, directions = np.linalg.eigh((common.T @ common).toarray().astype(np.float64))
    return np.asarray(common @ directions[:, -rank:], np.float64), whole_diagonal
