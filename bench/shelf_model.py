"""The shelf model (a studied alternative, not in the product): book vectors trained for the shelf task itself.

Measured in bench/quality_shelf_model.py against the product's book–link vectors with neighbour voting:
on goodbooks validation readers it reaches Recall@20 0.169 / NDCG@20 0.103 against the product's 0.160 /
0.107 and item-kNN's 0.165 / 0.111 — no clear win, so the product keeps one model; this stays here with
its figures for the next attempt at the quality bar.

A linear multinomial denoising autoencoder (Liang et al. 2018, "Variational Autoencoders for
Collaborative Filtering", the Mult-DAE with identity activation). Each training reader's shelf is a set
of books; during training a random share of the shelf is hidden (input dropout) and the model must give
the whole shelf high probability under a softmax over every book:

    reader vector   u      = sum(input_vector[i] for i in visible shelf) / sqrt(len(visible shelf))
    book score      s_j    = u . output_vector[j] + bias[j]
    loss                   = - mean over readers of sum(log softmax(s)[j] for j in shelf)

Serving is the same arithmetic: the reader vector comes from the shelf books' input vectors, and the
books ranked by ``u . output_vector[j] + bias[j]`` are one maximum-inner-product query, because
``[u, 1] . [output_vector[j], bias[j]] = s_j``. pgvector stores ``serving_vector = [output_vector, bias]``
(``ShelfVectors.serving_vectors``) and orders by ``<#>`` (negative inner product).

``recommend_from_shelf_vectors`` is the NumPy reference of exactly what the SQL does, and names the
shelf books that explain each recommendation: the score decomposes into one term per shelf book
(``input_vector[i] . output_vector[j] / sqrt(n)``), and the largest terms are the reasons.

Content links (goodbooks tags, Wikipedia links) can feed the model too (``link_weight``): a book's
input and output vectors are its own free vector plus ``link_weight`` times the mean of its links'
vectors, so books that share tags start close and books with few shelves borrow from their tags.
Books on no training shelf (and without links) get no vector: ``ShelfVectors.trained`` says which.

Pure TensorFlow/NumPy; nothing here knows about Django.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

ProgressCallback = Callable[[int, int, int, float], None]
"""on_progress(epoch, step, steps_per_epoch, loss): epoch from 1, step within the epoch from 1, mean recent loss."""


@dataclass(frozen=True)
class ShelfModelParams:
    """Knobs of the shelf model; defaults chosen on goodbooks tuning readers (bench/quality_shelf_model.py)."""

    embedding_dim: int = 256
    """Size of the input and output vectors (the served vector has one more component, the bias)."""
    tied: bool = True
    """True: one vector per book serves as both input and output vector (half the storage; measured better)."""
    dropout: float = 0.5
    """Share of each training shelf hidden from the input at every step."""
    epochs: int = 30
    """Passes over the training readers."""
    batch_size: int = 512
    """Readers per optimisation step."""
    learning_rate: float = 0.005
    """Adam's initial step size."""
    cosine_decay: bool = True
    """The step size decays to 0 along a cosine over the run (steadier final vectors than a constant rate)."""
    l2: float = 0.01
    """L2 penalty on the vectors of the books in a batch, per reader (0.01 measured best of 0, 0.01, 0.05, 0.2)."""
    link_weight: float = 0.0
    """How much a book's content links (mean of their vectors) add to its own vector; 0 ignores links."""
    kept_target_weight: float = 0.0
    """Weight in the loss of the shelf books the input kept (the dropped ones weigh 1). 0 trains the model only
    to find hidden books, which is the serving task; 1 is Liang et al.'s Mult-DAE."""
    min_shelf: int = 2
    """Readers with fewer books are not trained on (a one-book shelf teaches nothing about co-shelving)."""
    seed: int = 42
    """Seeds NumPy and TensorFlow: the same seed and data give the same vectors."""
    threads: int = 0
    """CPU threads TensorFlow may use; 0 lets TensorFlow use every core."""

    def __post_init__(self) -> None:
        checks = {
            "embedding_dim": _is_int(self.embedding_dim) and 2 <= self.embedding_dim <= 1999,
            "tied": isinstance(self.tied, bool),
            "dropout": _is_number(self.dropout) and 0 <= self.dropout < 1,
            "epochs": _is_int(self.epochs) and 1 <= self.epochs <= 10_000,
            "batch_size": _is_int(self.batch_size) and 1 <= self.batch_size <= 1_000_000,
            "learning_rate": _is_number(self.learning_rate) and 0 < self.learning_rate <= 10,
            "cosine_decay": isinstance(self.cosine_decay, bool),
            "l2": _is_number(self.l2) and self.l2 >= 0,
            "link_weight": _is_number(self.link_weight) and self.link_weight >= 0,
            "kept_target_weight": _is_number(self.kept_target_weight) and 0 <= self.kept_target_weight <= 1,
            "min_shelf": _is_int(self.min_shelf) and self.min_shelf >= 1,
            "seed": _is_int(self.seed) and 0 <= self.seed < 2**32,
            "threads": _is_int(self.threads) and 0 <= self.threads <= 1024,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid shelf model parameter(s): {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_dict`` turns back into an equal record."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShelfModelParams:
        """Builds params from a (possibly partial) dict; unknown or invalid fields raise ValueError."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown shelf model parameter(s): {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True, eq=False)
class ShelfVectors:
    """A trained shelf model, indexed like the books given to ``train_shelf_model``.

    ``serving_vectors`` (float32[n_books, dim + 1]) is what pgvector stores per book and ranks by inner
    product; ``input_vectors`` (float32[n_books, dim]) build the reader vector (the same array as
    ``output_vectors`` when the model is tied). Rows of untrained books are zero.
    """

    input_vectors: np.ndarray  # float32[n_books, dim]
    output_vectors: np.ndarray  # float32[n_books, dim]
    bias: np.ndarray  # float32[n_books]
    trained: np.ndarray  # bool[n_books]: on a training shelf or carrying a link
    history: list[float]  # mean loss of each epoch
    seconds: float  # wall time of the optimisation loop
    n_readers: int  # training readers used
    n_shelf_rows: int  # (reader, book) rows used

    @property
    def serving_vectors(self) -> np.ndarray:
        """``[output_vector, bias]`` per book: ``[reader_vector, 1] . serving_vector`` is the book's score."""
        return np.concatenate([self.output_vectors, self.bias[:, None]], axis=1).astype(np.float32)


def reader_vector(shelf_book_indices, input_vectors: np.ndarray) -> np.ndarray:
    """The reader vector of a shelf: the sum of its books' input vectors divided by sqrt(shelf size).

    Books without a vector (zero rows) count in neither the sum nor the size.
    """
    shelf = np.unique(np.asarray(shelf_book_indices, dtype=np.int64).ravel())
    rows = input_vectors[shelf]
    rows = rows[np.any(rows != 0, axis=1)]
    if len(rows) == 0:
        return np.zeros(input_vectors.shape[1], np.float32)
    return (rows.sum(axis=0, dtype=np.float64) / math.sqrt(len(rows))).astype(np.float32)


@dataclass(frozen=True)
class ShelfRecommendation:
    """A suggested book, its score (``[u, 1] . serving_vector``) and the shelf books that explain it, largest first."""

    book_index: int
    score: float
    because: tuple[int, ...]


def recommend_from_shelf_vectors(
    shelf_book_indices,
    vectors: ShelfVectors,
    *,
    k: int = 20,
    max_because: int = 3,
) -> list[ShelfRecommendation]:
    """The k books of largest score not on the shelf, best first, as the serving SQL returns them.

    Scores are ``[u, 1] . serving_vector`` over trained books (exact search; the SQL's HNSW index
    approximates it). ``because`` lists up to ``max_because`` shelf books with the largest positive
    term ``input_vector[i] . output_vector[j]`` in the score, ties broken by smaller index.
    """
    shelf = np.unique(np.asarray(shelf_book_indices, dtype=np.int64).ravel())
    u = reader_vector(shelf, vectors.input_vectors)
    scores = (vectors.serving_vectors.astype(np.float64) @ np.append(u, 1.0).astype(np.float64))
    candidate = vectors.trained.copy()
    candidate[shelf] = False
    ids = np.flatnonzero(candidate)
    if len(ids) == 0 or k <= 0:
        return []
    order = np.lexsort((ids, -scores[ids]))[:k]
    top = ids[order]
    shelf_known = shelf[vectors.trained[shelf]]
    terms = vectors.input_vectors[shelf_known].astype(np.float64) @ vectors.output_vectors[top].T.astype(np.float64)
    result = []
    for column, book in enumerate(top):
        contribution = terms[:, column]
        ranked = np.lexsort((shelf_known, -contribution))
        reasons = tuple(int(shelf_known[r]) for r in ranked if contribution[r] > 0)[:max_because]
        result.append(ShelfRecommendation(int(book), float(scores[book]), reasons))
    return result


def train_shelf_model(
    reader_index,
    book_index,
    n_books: int,
    params: ShelfModelParams | None = None,
    *,
    link_book_index=None,
    link_index=None,
    n_links: int = 0,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ShelfVectors:
    """Trains the shelf model on (reader, book) shelf rows; optional (book, link) content pairs.

    ``reader_index``/``book_index`` are aligned arrays (any integer reader ids; books in ``[0, n_books)``);
    repeated rows count once. ``on_progress`` is called after every step; ``should_stop`` is polled as
    often and, when it returns True, training stops with ``TrainingCancelled`` (from the trainer module).
    """
    import tensorflow as tf

    from recommender.training.trainer import TrainingCancelled

    params = params or ShelfModelParams()
    tf.keras.utils.set_random_seed(params.seed)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(params.threads)
        tf.config.threading.set_inter_op_parallelism_threads(params.threads)
    except RuntimeError:
        pass  # TensorFlow already initialised its thread pools in this process.

    shelves = _shelves(reader_index, book_index, n_books, params.min_shelf)
    n_readers = len(shelves.indptr) - 1
    if n_readers == 0:
        raise ValueError("no reader has enough books on the shelf to train on")
    rng = np.random.default_rng([params.seed, 7])
    dim = params.embedding_dim
    scale = 1.0 / math.sqrt(dim)
    on_shelf = np.bincount(shelves.indices, minlength=n_books) > 0
    trained = on_shelf.copy()

    own_in = tf.Variable(rng.normal(0, scale, (n_books, dim)).astype(np.float32), name="input_vectors")
    own_out = own_in if params.tied else tf.Variable(rng.normal(0, scale, (n_books, dim)).astype(np.float32),
                                                     name="output_vectors")
    bias = tf.Variable(np.zeros(n_books, np.float32), name="bias")
    variables = [own_in, bias] if params.tied else [own_in, own_out, bias]
    link_matrix = None
    if params.link_weight > 0 and link_index is not None and n_links > 0:
        link_matrix = _mean_link_matrix(link_book_index, link_index, n_books, n_links)
        trained |= np.asarray(link_matrix.sum(axis=1)).ravel() > 0
        link_in = tf.Variable(rng.normal(0, scale, (n_links, dim)).astype(np.float32), name="link_input_vectors")
        link_out = link_in if params.tied else tf.Variable(
            rng.normal(0, scale, (n_links, dim)).astype(np.float32), name="link_output_vectors")
        variables += [link_in] if params.tied else [link_in, link_out]
        coo = link_matrix.tocoo()
        link_sparse = tf.sparse.reorder(tf.SparseTensor(
            np.stack([coo.row, coo.col], axis=1).astype(np.int64), coo.data.astype(np.float32), coo.shape))
        weight = tf.constant(params.link_weight, tf.float32)

        def book_matrices():
            tags_in = tf.sparse.sparse_dense_matmul(link_sparse, link_in)
            tags_out = tags_in if params.tied else tf.sparse.sparse_dense_matmul(link_sparse, link_out)
            return own_in + weight * tags_in, own_out + weight * tags_out
    else:
        def book_matrices():
            return own_in, own_out

    steps = -(-n_readers // params.batch_size)
    rate = params.learning_rate
    if params.cosine_decay:
        rate = tf.keras.optimizers.schedules.CosineDecay(params.learning_rate, decay_steps=steps * params.epochs)
    optimizer = tf.keras.optimizers.Adam(learning_rate=rate)
    optimizer.build(variables)
    l2 = tf.constant(params.l2, tf.float32)
    spec_idx = tf.TensorSpec(shape=(None, 2), dtype=tf.int64)
    spec_val = tf.TensorSpec(shape=(None,), dtype=tf.float32)

    @tf.function(input_signature=[spec_idx, spec_val, spec_idx, spec_val, tf.TensorSpec(shape=(), dtype=tf.int64)])
    def step(input_indices, input_values, target_indices, target_weights, n_rows):
        with tf.GradientTape() as tape:
            q, p = book_matrices()
            inputs = tf.SparseTensor(input_indices, input_values, tf.stack([n_rows, n_books]))
            u = tf.sparse.sparse_dense_matmul(inputs, q)
            logits = tf.matmul(u, p, transpose_b=True) + bias
            log_probabilities = tf.nn.log_softmax(logits)
            picked = tf.gather_nd(log_probabilities, target_indices)
            loss = -tf.reduce_sum(picked * target_weights) / tf.cast(n_rows, tf.float32)
            if params.l2 > 0:
                books = tf.unique(target_indices[:, 1]).y
                penalty = tf.reduce_sum(tf.square(tf.gather(q, books))) + tf.reduce_sum(tf.square(tf.gather(p, books)))
                loss_total = loss + l2 * penalty / tf.cast(n_rows, tf.float32)
            else:
                loss_total = loss
        optimizer.apply_gradients(zip(tape.gradient(loss_total, variables), variables))
        return loss

    history: list[float] = []
    started = time.perf_counter()
    for epoch in range(1, params.epochs + 1):
        order = rng.permutation(n_readers)
        total = 0.0
        for s in range(steps):
            if should_stop is not None and should_stop():
                raise TrainingCancelled(f"cancelled in epoch {epoch} at step {s}")
            batch = _batch(shelves, order[s * params.batch_size:(s + 1) * params.batch_size], params.dropout,
                           params.kept_target_weight, rng)
            loss = float(step(*batch))
            total += loss
            if on_progress is not None:
                on_progress(epoch, s + 1, steps, loss)
        history.append(total / steps)
    seconds = time.perf_counter() - started

    q, p = (m.numpy() for m in book_matrices())
    zero = ~trained
    q[zero], p[zero] = 0.0, 0.0
    b = bias.numpy()
    b[zero] = 0.0
    return ShelfVectors(
        input_vectors=q.astype(np.float32),
        output_vectors=q.astype(np.float32) if params.tied else p.astype(np.float32),
        bias=b.astype(np.float32),
        trained=trained,
        history=history,
        seconds=seconds,
        n_readers=n_readers,
        n_shelf_rows=int(shelves.nnz),
    )


def _shelves(reader_index, book_index, n_books: int, min_shelf: int):
    """Distinct shelf rows as a reader x book CSR matrix, readers with fewer than ``min_shelf`` books dropped."""
    import scipy.sparse as sp

    readers = np.asarray(reader_index).ravel()
    books = np.asarray(book_index, dtype=np.int64).ravel()
    if len(readers) != len(books):
        raise ValueError("reader_index and book_index must have the same length")
    if len(books) and (books.min() < 0 or books.max() >= n_books):
        raise ValueError(f"book_index must lie in [0, {n_books})")
    _, rows = np.unique(readers, return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, books)),
                           shape=(int(rows.max()) + 1 if len(rows) else 0, n_books))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    sizes = np.diff(matrix.indptr)
    matrix = matrix[sizes >= min_shelf]
    matrix.sort_indices()
    return matrix


def _mean_link_matrix(link_book_index, link_index, n_books: int, n_links: int):
    """book x link CSR matrix whose rows average a book's distinct links (rows of books without links are empty)."""
    import scipy.sparse as sp

    books = np.asarray(link_book_index, dtype=np.int64).ravel()
    links = np.asarray(link_index, dtype=np.int64).ravel()
    matrix = sp.csr_matrix((np.ones(len(books), np.float32), (books, links)), shape=(n_books, n_links))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    counts = np.diff(matrix.indptr)
    matrix.data /= np.repeat(np.maximum(counts, 1), counts).astype(np.float32)
    return matrix


def _batch(shelves, readers: np.ndarray, dropout: float, kept_target_weight: float, rng: np.random.Generator):
    """Sparse input (the shelf after dropout, divided by sqrt(kept)) and weighted targets (the whole shelf)."""
    block = shelves[readers]
    rows = np.repeat(np.arange(len(readers)), np.diff(block.indptr))
    cols = block.indices.astype(np.int64)
    keep = rng.random(len(cols)) >= dropout
    kept_per_row = np.bincount(rows[keep], minlength=len(readers))
    values = 1.0 / np.sqrt(np.maximum(kept_per_row[rows[keep]], 1)).astype(np.float32)
    return (
        np.stack([rows[keep], cols[keep]], axis=1),
        values.astype(np.float32),
        np.stack([rows, cols], axis=1),
        np.where(keep, np.float32(kept_target_weight), np.float32(1.0)).astype(np.float32),
        np.int64(len(readers)),
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)
