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
(``ShelfModel.book_index``); at most ``params.shelf_model_max_books`` of the most shelved books are, because
the inversion is cubic in their number. Pure NumPy; nothing here knows about Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

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
    sparse = params.shelf_model_solver == "neighbourhood"
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
        weights = solve_neighbourhood_weights(shelf_book_matrix(position, shelves, len(modelled)), links, params,
                                              on_stage=stage)
        return ShelfModel(book_index=modelled, shelf_vectors=weights)

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


GRAM_BLOCK_BYTES = 128 * 2**20
"""Memory of one block of Gram rows while the neighbourhoods are picked (dense float32 rows)."""
SOLVE_BATCH = 64
"""Books whose neighbourhood systems are solved in one batched LAPACK call."""


def solve_neighbourhood_weights(shelf_matrix: sp.csr_matrix, links: sp.csr_matrix | None, params: TrainingParams,
                                on_stage: StageCallback | None = None) -> sp.csr_matrix:
    """B of the neighbourhood solver (sparse float32 n × n): the exact solver's column regressions, each on its
    book's ``shelf_model_neighbours`` nearest books only, each row then cut to its ``shelf_model_out_neighbours``
    largest weights.

    Column ``j`` of EASE is the ridge regression of book ``j``'s column on all other books: with
    ``G = XᵀX + link_weight · T Tᵀ`` and ``Λ`` as in ``solve_shelf_weights``, ``B[S, j] = (G[S, S] + Λ[S])⁻¹ G[S, j]``
    with ``S`` every other book — the closed form's ``−P[:, j] / P[j, j]`` is that, by block inversion. Here ``S``
    is the ``m`` books with the largest ``G[j, ·]`` (those it shares most shelves and links with), so each column
    costs one m × m solve and the whole fit ``n · m³`` time and ``n · m`` memory (SLIM's and SANSA's sparsity,
    with EASE's loss). ``G`` is never held whole: its rows are made a block at a time and only each row's ``m``
    largest entries are kept; ``G[S, S]`` is read from those lists (an entry neither book lists is taken as 0,
    SANSA's sparsified Gram).
    """
    stage = on_stage or (lambda description: None)
    n = shelf_matrix.shape[1]
    m = int(min(params.shelf_model_neighbours, n - 1))
    by_book = shelf_matrix.T.tocsr()
    link_weight = params.shelf_model_link_weight if links is not None else 0.0
    links_t = links.T.tocsr() if links is not None else None
    neighbours = np.zeros((n, m), np.int32)
    gram_values = np.zeros((n, m), np.float32)
    diagonal = np.zeros(n, np.float64)
    block = max(1, GRAM_BLOCK_BYTES // (4 * n))
    for start in range(0, n, block):
        stop = min(start + block, n)
        rows = (by_book[start:stop] @ shelf_matrix).astype(np.float32)
        if link_weight:
            rows = rows + link_weight * (links[start:stop] @ links_t).astype(np.float32)
        dense = rows.toarray()
        local = np.arange(stop - start)
        diagonal[start:stop] = dense[local, local + start]
        dense[local, local + start] = -np.inf
        top = np.argpartition(-dense, m - 1, axis=1)[:, :m]
        values = np.take_along_axis(dense, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        neighbours[start:stop] = np.take_along_axis(top, order, axis=1)
        gram_values[start:stop] = np.take_along_axis(values, order, axis=1)
        if start // block % 50 == 0:
            stage(f"shelf model: neighbourhoods of {stop:,} of {n:,} books")

    dropout = params.shelf_model_dropout
    penalty = params.shelf_model_regularisation + dropout / (1 - dropout) * diagonal
    where = np.full(n, -1, np.int64)
    columns = np.zeros((n, m), np.float32)
    systems = np.zeros((SOLVE_BATCH, m, m), np.float64)
    flat = np.arange(m)
    for start in range(0, n, SOLVE_BATCH):
        stop = min(start + SOLVE_BATCH, n)
        for row, book in enumerate(range(start, stop)):
            chosen = neighbours[book]
            where[chosen] = flat
            at = where[neighbours[chosen]]  # m × m: position in ``chosen`` of each listed neighbour's neighbours
            listed = at >= 0
            system = systems[row]
            system.fill(0.0)
            system[np.nonzero(listed)[0], at[listed]] = gram_values[chosen][listed]
            np.maximum(system, system.T, out=system)  # G is symmetric: an entry either book lists is exact
            system[flat, flat] = diagonal[chosen] + penalty[chosen]
            where[chosen] = -1
        count = stop - start
        columns[start:stop] = np.linalg.solve(systems[:count], gram_values[start:stop, :, None].astype(np.float64))[
            :, :, 0]
        if start // SOLVE_BATCH % 200 == 0:
            stage(f"shelf model: solved {stop:,} of {n:,} books")

    # B[neighbours[j], j] = columns[j]; each row keeps its largest weights (what serving sums).
    rows = neighbours.ravel().astype(np.int64)
    cols = np.repeat(np.arange(n, dtype=np.int64), m)
    weights = columns.ravel()
    order = np.lexsort((-weights, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    starts = np.searchsorted(rows, np.arange(n))
    rank = np.arange(len(rows)) - starts[rows]
    keep = (rank < params.shelf_model_out_neighbours) & (weights > 0)
    return sp.csr_matrix((weights[keep], (rows[keep], cols[keep])), shape=(n, n), dtype=np.float32)
