"""The original notebook's data preparation and training, re-implemented faithfully as the reference.

W. Koehrsen's "Book Recommendation System" notebook (wikipedia-data-science) learns book and wikilink
embeddings like this, and so does this module, step for step:

* links: each book's wikilinks as a set (before lowercasing), lowercased and counted once per book and
  spelling; ``hardcover, paperback, hardback, e-book, wikipedia:wikiproject books, wikipedia:wikiproject
  novels`` removed; only links counted at least 4 times kept, numbered by descending count;
* pairs: for every book, ``(book index, link index)`` for every wikilink whose lowercased name is kept
  (repeats in an article give repeated pairs, as in the original);
* batches: a Python generator that, for every step, takes ``random.sample(pairs, 1024)`` positives and
  then builds 2,048 negatives one at a time (``random.randrange`` for a book and a link, kept only if the
  tuple is not in the set of pairs), writes each into a NumPy row, shuffles the batch and yields it;
* model: two ``Embedding(·, 50)`` layers on ``Input(shape=[1])`` → ``Dot(normalize=True, axes=2)`` →
  ``Reshape([1])``; regression (labels ±1, MSE, the notebook's first and default model) or
  classification (``Dense(1, sigmoid)``, labels 1/0, binary cross-entropy); Adam with default settings;
* training: ``model.fit(generator, epochs=15, steps_per_epoch=len(pairs) // 1024)``.

Departures, all without effect on what is learned: the notebook tests ``link.lower() in links`` against
a list (a linear scan per wikilink); this uses a set. It removes the six names with ``list.remove``,
which raises when a name is absent from a data set; this skips absent names. It takes each book's
distinct links with ``set``, whose order changes from one process to the next, so links used by equally
many books were numbered differently in every run; this keeps their first appearance (``dict.fromkeys``),
so every process (each trainer, the evaluation) numbers the links the same way. ``fit_generator`` no longer
exists in Keras 3; ``fit`` takes the generator instead. Each yielded batch is a copy, because Keras 3 may
read a batch after the generator has refilled its buffer.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

ORIGINAL_REMOVED_LINKS = ("hardcover", "paperback", "hardback", "e-book",
                          "wikipedia:wikiproject books", "wikipedia:wikiproject novels")
ORIGINAL_MIN_COUNT = 4
N_POSITIVE = 1024
NEGATIVE_RATIO = 2
EMBEDDING_SIZE = 50
EPOCHS = 15


@dataclass(frozen=True, eq=False)
class OriginalData:
    """Books (in file order), their infoboxes, the kept links and the pairs, as the notebook builds them."""

    titles: list[str]
    infoboxes: list[dict]
    links: list[str]
    pairs: list[tuple[int, int]]


@dataclass(frozen=True, eq=False)
class ReferenceResult:
    """Vectors (L2-normalised, as the notebook normalises them) and timings of a reference run."""

    book_vectors: np.ndarray
    link_vectors: np.ndarray
    history: list[float]
    epoch_seconds: list[float]
    seconds: float
    pairs_per_second: float  # true pairs a second (each comes with NEGATIVE_RATIO negatives)


def read_books(path: Path) -> list[list]:
    """The ndjson lines of a Wikipedia book file, each ``[title, infobox, wikilinks, urls, timestamp, length]``."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def prepare(books: list[list]) -> OriginalData:
    """Kept links and (book, link) pairs exactly as the notebook derives them from its books."""
    book_index = {book[0]: index for index, book in enumerate(books)}
    unique_wikilinks = list(chain(*[list(dict.fromkeys(book[2])) for book in books]))
    wikilink_counts = Counter(link.lower() for link in unique_wikilinks)
    for name in ORIGINAL_REMOVED_LINKS:
        wikilink_counts.pop(name, None)
    links = [name for name, count in sorted(wikilink_counts.items(), key=lambda item: item[1], reverse=True)
             if count >= ORIGINAL_MIN_COUNT]
    link_index = {name: index for index, name in enumerate(links)}
    pairs = []
    for book in books:
        pairs.extend((book_index[book[0]], link_index[link.lower()]) for link in book[2] if link.lower() in link_index)
    return OriginalData(titles=[book[0] for book in books], infoboxes=[book[1] for book in books],
                        links=links, pairs=pairs)


def generate_batch(pairs: list[tuple[int, int]], pairs_set: set, n_books: int, n_links: int, *,
                   n_positive: int = N_POSITIVE, negative_ratio: int = NEGATIVE_RATIO, classification: bool = False):
    """The notebook's generator: positives by ``random.sample``, negatives one at a time, rejected if true."""
    batch_size = n_positive * (1 + negative_ratio)
    batch = np.zeros((batch_size, 3))
    neg_label = 0 if classification else -1
    while True:
        for idx, (book_id, link_id) in enumerate(random.sample(pairs, n_positive)):
            batch[idx, :] = (book_id, link_id, 1)
        idx += 1
        while idx < batch_size:
            random_book = random.randrange(n_books)
            random_link = random.randrange(n_links)
            if (random_book, random_link) not in pairs_set:
                batch[idx, :] = (random_book, random_link, neg_label)
                idx += 1
        np.random.shuffle(batch)
        yield {"book": batch[:, 0].copy(), "link": batch[:, 1].copy()}, batch[:, 2].copy()


def book_embedding_model(n_books: int, n_links: int, *, embedding_size: int = EMBEDDING_SIZE,
                         classification: bool = False):
    """The notebook's Keras model, compiled as it compiles it."""
    from keras.layers import Dense, Dot, Embedding, Input, Reshape
    from keras.models import Model

    book = Input(name="book", shape=[1])
    link = Input(name="link", shape=[1])
    book_embedding = Embedding(name="book_embedding", input_dim=n_books, output_dim=embedding_size)(book)
    link_embedding = Embedding(name="link_embedding", input_dim=n_links, output_dim=embedding_size)(link)
    merged = Dot(name="dot_product", normalize=True, axes=2)([book_embedding, link_embedding])
    merged = Reshape(target_shape=[1])(merged)
    if classification:
        merged = Dense(1, activation="sigmoid")(merged)
        model = Model(inputs=[book, link], outputs=merged)
        model.compile(optimizer="Adam", loss="binary_crossentropy", metrics=["accuracy"])
    else:
        model = Model(inputs=[book, link], outputs=merged)
        model.compile(optimizer="Adam", loss="mse")
    return model


def train_reference(pairs: Iterable[tuple[int, int]], n_books: int, n_links: int, *, epochs: int = EPOCHS,
                    classification: bool = False, seed: int = 100, verbose: int = 0) -> ReferenceResult:
    """Trains the notebook's model on ``pairs`` with its generator and ``fit``; times every epoch.

    ``pairs`` are the training pairs (a list of tuples, repeats allowed); negatives are rejected against
    them, as the notebook rejects against all its pairs.
    """
    import keras
    import tensorflow as tf

    pairs = list(pairs)
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    model = book_embedding_model(n_books, n_links, classification=classification)
    generator = generate_batch(pairs, set(pairs), n_books, n_links, classification=classification)
    steps = len(pairs) // N_POSITIVE
    if steps == 0:
        raise ValueError(f"the original trains len(pairs) // {N_POSITIVE} steps an epoch: give it more pairs")

    epoch_seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.started)

    started = time.perf_counter()
    history = model.fit(generator, epochs=epochs, steps_per_epoch=steps, verbose=verbose, callbacks=[EpochTimer()])
    seconds = time.perf_counter() - started
    book_weights = model.get_layer("book_embedding").get_weights()[0]
    link_weights = model.get_layer("link_embedding").get_weights()[0]
    return ReferenceResult(
        book_vectors=_normalised(book_weights),
        link_vectors=_normalised(link_weights),
        history=[float(loss) for loss in history.history["loss"]],
        epoch_seconds=epoch_seconds,
        seconds=seconds,
        pairs_per_second=epochs * steps * N_POSITIVE / seconds,
    )


def train_reference_on_pair_set(pairs, *, seed: int = 100) -> ReferenceResult:
    """``train_reference`` on a ``PairSet``: each (book, link) pair repeated ``weight`` times, as the notebook
    lists a link once for every time the article links it."""
    repeats = np.asarray(pairs.weight, dtype=np.int64)
    listed = zip(np.repeat(pairs.book_index, repeats).tolist(), np.repeat(pairs.link_index, repeats).tolist())
    return train_reference(listed, pairs.n_books, pairs.n_links, seed=seed)


def _normalised(weights: np.ndarray) -> np.ndarray:
    return (weights / np.maximum(np.linalg.norm(weights, axis=1, keepdims=True), 1e-12)).astype(np.float32)
