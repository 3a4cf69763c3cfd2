"""Training: pairs in, L2-normalised book and link vectors out.

``train_embeddings`` is the one entry point. It holds out pairs for link-prediction AUC, draws a whole
epoch of batches at a time with NumPy (``BatchSampler``), and runs ``progress_every_steps`` optimisation
steps per call of one compiled TensorFlow function, reporting progress and checking for cancellation
between calls. Given the same pairs and params (seed included) it returns the same vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from recommender.evaluation import link_auc
from recommender.training.dataset import BatchSampler, PairSet, split_holdout
from recommender.training.model import build_model, embedding_weights, labels_for, loss_for
from recommender.training.params import TrainingParams

ProgressCallback = Callable[[int, int, int, float], None]
"""on_progress(epoch, step, steps_per_epoch, loss): epoch from 1, step within the epoch from 1, mean recent loss."""


class TrainingCancelled(Exception):
    """Raised by ``train_embeddings`` when ``should_stop()`` returned True."""


@dataclass(frozen=True, eq=False)
class TrainedEmbeddings:
    """The result of a run: vectors (rows L2-normalised, indexed like the PairSet) and how it went."""

    book_vectors: np.ndarray  # float32[n_books, dim]
    link_vectors: np.ndarray  # float32[n_links, dim]
    history: list[float]  # mean loss of each epoch
    heldout_auc: float | None  # link-prediction AUC on held-out pairs; None when nothing was held out
    pairs_per_second: float  # true pairs trained per second (each comes with its negatives)
    seconds: float  # wall time of the optimisation loop
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
    weight is its count); shelf pairs count ``params.shelf_weight`` times a content pair (0 leaves them
    out). ``on_progress`` is called every ``params.progress_every_steps`` steps and at the end of each
    epoch; ``should_stop`` is polled as often and, when it returns True, training stops with
    ``TrainingCancelled``.
    """
    _configure_tensorflow(params)
    weighted = pairs.with_content_weighting(params.link_count_power, params.link_idf_power).with_shelf_weight(
        params.shelf_weight)
    train, heldout = split_holdout(weighted, params.holdout_fraction, params.seed)
    sampler = BatchSampler(train, params, np.random.default_rng([params.seed, 2]))

    model = build_model(pairs.n_books, pairs.n_links, params)
    optimizer = tf.keras.optimizers.Adam(learning_rate=params.learning_rate)
    optimizer.build(model.trainable_variables)
    run_steps = _compiled_steps(model, optimizer, params)

    steps = sampler.steps_per_epoch
    chunk = params.progress_every_steps
    history: list[float] = []
    started = time.perf_counter()
    for epoch in range(1, params.epochs + 1):
        books, links = sampler.epoch()
        epoch_loss = 0.0
        for start in range(0, steps, chunk):
            if should_stop is not None and should_stop():
                raise TrainingCancelled(f"cancelled in epoch {epoch} at step {start}")
            stop = min(start + chunk, steps)
            loss = float(run_steps(tf.constant(books[start:stop]), tf.constant(links[start:stop])))
            epoch_loss += loss * (stop - start)
            if on_progress is not None:
                on_progress(epoch, stop, steps, loss)
        history.append(epoch_loss / steps)
    seconds = time.perf_counter() - started

    book_weights, link_weights = embedding_weights(model)
    book_vectors = _l2_normalised(book_weights.numpy())
    link_vectors = _l2_normalised(link_weights.numpy())
    auc = None
    if len(heldout):
        auc = link_auc(book_vectors, link_vectors, heldout, known_pairs=weighted, seed=params.seed)
    return TrainedEmbeddings(
        book_vectors=book_vectors,
        link_vectors=link_vectors,
        history=history,
        heldout_auc=auc,
        pairs_per_second=params.epochs * steps * params.batch_size / seconds,
        seconds=seconds,
        n_train_pairs=len(train),
        n_heldout_pairs=len(heldout),
    )


def _configure_tensorflow(params: TrainingParams) -> None:
    """Seeds Python, NumPy and TensorFlow and sets thread pools (a no-op once TensorFlow has started)."""
    tf.keras.utils.set_random_seed(params.seed)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(params.threads)
        tf.config.threading.set_inter_op_parallelism_threads(params.threads)
    except RuntimeError:
        pass  # TensorFlow already initialised its thread pools in this process.


def _compiled_steps(model: tf.keras.Model, optimizer, params: TrainingParams):
    """A tf.function running one optimisation step per row of (books, links); returns their mean loss."""
    batch = params.batch_size
    width = batch * (1 + params.negatives_per_positive)
    labels = np.full(width, labels_for(params.variant, positive=False), np.float32)
    labels[:batch] = labels_for(params.variant, positive=True)
    labels = tf.constant(labels)
    loss_fn = loss_for(params.variant)
    variables = model.trainable_variables
    spec = tf.TensorSpec(shape=(None, width), dtype=tf.int32)

    @tf.function(input_signature=[spec, spec], jit_compile=False)
    def run_steps(books, links):
        total = tf.constant(0.0)
        n = tf.shape(books)[0]
        for step in tf.range(n):
            with tf.GradientTape() as tape:
                predictions = model([books[step], links[step]], training=True)
                loss = loss_fn(labels, predictions)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            total += loss
        return total / tf.cast(n, tf.float32)

    return run_steps


def _l2_normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
