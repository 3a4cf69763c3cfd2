"""Training: pairs in, L2-normalised book and link vectors out.

``train_embeddings`` is the one entry point. It holds out pairs for link-prediction AUC, draws a whole epoch
of steps at a time with NumPy (``BatchSampler``, in a thread, while the epoch before trains), and runs
``progress_every_steps`` optimisation steps per call of one TensorFlow function compiled by XLA (once per run:
the chunk's bounds are tensors XLA does not compile in), reporting progress and checking for cancellation
between calls. A step gathers the embedding rows of its pairs and
drawn negatives, takes the gradient of ``model.step_loss`` with respect to those rows only, and subtracts it
from them in place (``scatter_sub``): plain gradient descent, which keeps no optimiser state to read and
write. (The cosine's gradient is orthogonal to a row and shrinks as the row grows, so every step lengthens
the rows it moves and the rows moved most take the smallest turns: the scale-free schedule Adam was used for
before, at a fraction of the cost.) Given the same pairs and params (seed included) it returns the same
vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass

import numpy as np
import tensorflow as tf

from recommender.training.dataset import BatchSampler, PairSet, split_holdout
from recommender.training.evaluation import link_auc
from recommender.training.model import EmbeddingModel, step_loss
from recommender.training.params import TrainingParams

ProgressCallback = Callable[[int, int, int, int, float], None]
"""on_progress(epoch, epochs, step, steps_per_epoch, loss): epoch from 1 of ``epochs``, step within the epoch
from 1, mean recent loss."""


class TrainingCancelled(Exception):
    """Raised by ``train_embeddings`` when ``should_stop()`` returned True."""


@dataclass(frozen=True, eq=False)
class TrainedEmbeddings:
    """The result of a run: vectors (rows L2-normalised, indexed like the PairSet) and how it went."""

    book_vectors: np.ndarray  # float32[n_books, dim]
    link_vectors: np.ndarray  # float32[n_links, dim]
    history: list[float]  # mean loss of each epoch
    epochs: int  # epochs run: params.epochs, or more to reach params.min_steps
    heldout_auc: float | None  # link-prediction AUC on held-out pairs; None when nothing was held out
    pairs_per_second: float  # true pairs trained per second (each comes with its negatives)
    seconds: float  # wall time of the optimisation loop
    cpu_seconds: float  # CPU time of this process (every thread) during the loop: what the loop costs, whatever the load
    n_train_pairs: int
    n_heldout_pairs: int


def train_embeddings(
    pairs: PairSet,
    params: TrainingParams,
    *,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedEmbeddings:
    """Learns book and link vectors from ``pairs`` as ``params`` say.

    Content pairs are sampled by count**``link_count_power`` * idf**``link_idf_power`` (a content pair's
    weight is its count); catalogue pairs (authors, genres) by idf**``link_idf_power``, counting
    ``params.catalogue_link_weight`` times a content pair; shelf pairs count ``params.shelf_weight`` times a content
    pair (0 leaves either out). It runs ``epochs_to_run`` epochs. ``on_progress`` is called every ``params.progress_every_steps``
    steps and at the end of each epoch; ``should_stop`` is polled as often and, when it returns True,
    training stops with ``TrainingCancelled``.
    """
    _configure_tensorflow(params)
    weighted = pairs.with_content_weighting(params.link_count_power, params.link_idf_power).with_shelf_weight(
        params.shelf_weight).with_catalogue_weight(params.catalogue_link_weight)
    train, heldout = split_holdout(weighted, params.holdout_fraction, params.seed)
    sampler = BatchSampler(train, params, np.random.default_rng([params.seed, 2]))

    model = EmbeddingModel(pairs.n_books, pairs.n_links, params)
    steps = sampler.steps_per_epoch
    epochs = epochs_to_run(params, steps)
    run_steps = _compiled_steps(model, sampler, params, epochs)
    chunk = params.progress_every_steps
    history: list[float] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bookvec-sampler") as sampling:
        next_epoch = sampling.submit(sampler.epoch)  # each epoch is drawn while the one before trains
        for epoch in range(1, epochs + 1):
            batches = [tf.constant(array) for array in astuple(next_epoch.result()) if array is not None]
            if epoch < epochs:
                next_epoch = sampling.submit(sampler.epoch)
            epoch_loss = 0.0
            for start in range(0, steps, chunk):
                if should_stop is not None and should_stop():
                    raise TrainingCancelled(f"cancelled in epoch {epoch} at step {start}")
                stop = min(start + chunk, steps)
                done = (epoch - 1) * steps  # steps of the run before this epoch's first
                loss = float(run_steps(tf.constant(start), tf.constant(stop), tf.constant(done), *batches))
                epoch_loss += loss * (stop - start)
                if on_progress is not None:
                    on_progress(epoch, epochs, stop, steps, loss)
            history.append(epoch_loss / steps)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started

    book_vectors = _l2_normalised(model.book_embedding.numpy())
    link_vectors = _l2_normalised(model.link_embedding.numpy())
    auc = None
    if len(heldout):
        auc = link_auc(book_vectors, link_vectors, heldout, known_pairs=weighted, seed=params.seed)
    return TrainedEmbeddings(
        book_vectors=book_vectors,
        link_vectors=link_vectors,
        history=history,
        epochs=epochs,
        heldout_auc=auc,
        pairs_per_second=epochs * steps * sampler.pairs_per_step / seconds,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        n_train_pairs=len(train),
        n_heldout_pairs=len(heldout),
    )


def epochs_to_run(params: TrainingParams, steps_per_epoch: int) -> int:
    """``params.epochs``, or as many more as make ``params.min_steps`` steps of ``steps_per_epoch``."""
    return max(params.epochs, -(-params.min_steps // steps_per_epoch))


def _configure_tensorflow(params: TrainingParams) -> None:
    """Seeds Python, NumPy and TensorFlow and sets thread pools (a no-op once TensorFlow has started)."""
    tf.keras.utils.set_random_seed(params.seed)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(params.threads)
        tf.config.threading.set_inter_op_parallelism_threads(params.threads)
    except RuntimeError:
        pass  # TensorFlow already initialised its thread pools in this process.


def _compiled_steps(model: EmbeddingModel, sampler: BatchSampler, params: TrainingParams, epochs: int):
    """An XLA-compiled function running steps ``start`` to ``stop`` of an epoch; returns their mean loss.

    The gradient is taken for the summed loss of a step's true pairs (the mean times ``pairs_per_step``), so
    that ``learning_rate`` means the same whatever the batch size; the classification head, two numbers
    shared by every pair, steps by the gradient of the mean loss.
    """
    first_rate = params.learning_rate
    # The rate falls linearly from ``learning_rate`` at the first step to ``learning_rate_end`` x it after the last.
    fall = (1.0 - params.learning_rate_end) / (epochs * sampler.steps_per_epoch)
    per_step = sampler.pairs_per_step
    tables = (model.book_embedding, model.link_embedding)

    @tf.function(jit_compile=True)
    def run_steps(start, stop, done, books, links, drawn_books, drawn_links, *negatives):
        total = tf.constant(0.0)
        step = start
        while step < stop:  # not ``tf.range``: XLA compiles a range's bounds in, once per chunk
            rate = first_rate * (1.0 - fall * tf.cast(done + step, tf.float32))
            rows = (tf.concat([books[step], drawn_books[step]], 0), tf.concat([links[step], drawn_links[step]], 0))
            gathered = [tf.gather(table, index) for table, index in zip(tables, rows)]
            with tf.GradientTape() as tape:
                tape.watch(gathered)
                book, link = gathered
                loss = step_loss(model, book[:per_step], link[:per_step], book[per_step:], link[per_step:],
                                 *(counted[step] for counted in negatives),
                                 group_size=sampler.group_size, drawn_negatives=sampler.drawn_negatives,
                                 negative_weight=params.negatives_per_positive,
                                 drawn_weight=params.drawn_negative_weight)
            heads = [model.head] if model.head is not None else []
            gradients = tape.gradient(loss, gathered + heads)
            for table, index, gradient in zip(tables, rows, gradients):
                table.scatter_sub(tf.IndexedSlices(rate * per_step * gradient, index))
            if heads:
                model.head.assign_sub(rate * gradients[2])
            total += loss
            step += 1
        return total / tf.cast(stop - start, tf.float32)

    return run_steps


def _l2_normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
