"""The embedding model of the original method: book and link embeddings, their cosine, and a head.

The original notebook's Keras model is two ``Embedding`` layers, ``Dot(normalize=True)`` and, for
"classification", ``Dense(1, sigmoid)`` on the cosine (labels 1/0, binary cross-entropy); "regression"
learns labels +1/-1 on the raw cosine with mean squared error. ``EmbeddingModel`` holds the same weights
as plain TensorFlow variables and ``step_loss`` computes the same scores and losses, written out so that a
training step reads and updates only the embedding rows it uses (a Keras ``Embedding`` trained by a Keras
optimiser touches its whole table every step), and so that a step scores every true pair against the
other pairs of its group at the cost of one small matrix product.
"""

from __future__ import annotations

import tensorflow as tf

from recommender.training.params import TrainingParams

INITIAL_SCALE = 0.05
"""Embeddings start uniform in [-0.05, 0.05], the default of Keras' ``Embedding``."""


class EmbeddingModel(tf.Module):
    """Book and link embedding tables, plus the ``Dense(1)`` head's weight and bias for "classification"."""

    def __init__(self, n_books: int, n_links: int, params: TrainingParams):
        super().__init__(name="bookvec")
        self.variant = params.variant
        shape = (params.embedding_dim,)
        self.book_embedding = tf.Variable(_initial((n_books, *shape), params.seed, 0), name="book_embedding")
        self.link_embedding = tf.Variable(_initial((n_links, *shape), params.seed, 1), name="link_embedding")
        # Dense(1) on the cosine: starts as the identity (a positive weight), so that "close" means "linked".
        self.head = tf.Variable([1.0, 0.0], name="probability") if params.variant == "classification" else None

    def loss(self, cosines: tf.Tensor, positive: bool) -> tf.Tensor:
        """Element-wise loss of cosines that should be true pairs (``positive``) or not."""
        if self.variant == "classification":
            logits = self.head[0] * cosines + self.head[1]
            return _softplus(-logits if positive else logits)
        return tf.square(cosines - (1.0 if positive else -1.0))


def step_loss(model: EmbeddingModel, books: tf.Tensor, links: tf.Tensor, drawn_books: tf.Tensor,
              drawn_links: tf.Tensor, book_negatives: tf.Tensor | None = None, link_negatives: tf.Tensor | None = None,
              *, group_size: int, drawn_negatives: int, negative_weight: float,
              drawn_weight: float = 1.0) -> tf.Tensor:
    """The loss of one step from the embedding rows it gathered.

    ``books[i]`` and ``links[i]`` are the rows of true pair i, in consecutive groups of ``group_size``;
    ``drawn_books`` and ``drawn_links`` hold ``drawn_negatives`` drawn rows for every group. A pair's
    negatives are its book against the group's other links and drawn links, and its link against the
    group's drawn books (only where ``book_negatives`` / ``link_negatives`` say it is not a true pair, when
    given: ``EpochBatches``); their mean loss counts ``negative_weight`` times the pair's own, a drawn negative
    counting ``drawn_weight`` times an in-group one in that mean.
    """
    dim = books.shape[-1]
    book = tf.reshape(tf.math.l2_normalize(books, axis=1), (-1, group_size, dim))
    link = tf.reshape(tf.math.l2_normalize(links, axis=1), (-1, group_size, dim))
    groups = books.shape[0] // group_size
    drawn = drawn_negatives
    drawn_book = tf.reshape(tf.math.l2_normalize(drawn_books, axis=1), (groups, drawn, dim))
    drawn_link = tf.reshape(tf.math.l2_normalize(drawn_links, axis=1), (groups, drawn, dim))

    loss = tf.reduce_mean(model.loss(tf.reduce_sum(book * link, axis=-1), positive=True))
    n_negatives = group_size - 1 + 2 * drawn * drawn_weight
    if negative_weight == 0 or n_negatives == 0:
        return loss
    book_vs_links = tf.matmul(book, tf.concat([link, drawn_link], axis=1), transpose_b=True)  # [groups, S, S + P]
    link_vs_books = tf.matmul(link, drawn_book, transpose_b=True)  # [groups, S, P]
    if book_negatives is None:
        counted_links = 1.0 - tf.eye(group_size, group_size + drawn)  # all but the diagonal, the true pair itself
        counted_books = tf.ones_like(link_vs_books)
    else:
        counted_links = tf.reshape(tf.cast(book_negatives, book_vs_links.dtype), tf.shape(book_vs_links))
        counted_books = tf.reshape(tf.cast(link_negatives, link_vs_books.dtype), tf.shape(link_vs_books))
    if drawn_weight != 1:
        counted_links *= tf.concat([tf.ones(group_size), tf.fill([drawn], float(drawn_weight))], 0)
        counted_books *= drawn_weight
    negatives = (tf.reduce_sum(model.loss(book_vs_links, positive=False) * counted_links)
                 + tf.reduce_sum(model.loss(link_vs_books, positive=False) * counted_books))
    return loss + negative_weight * negatives / (groups * group_size * n_negatives)


def _softplus(x: tf.Tensor) -> tf.Tensor:
    """log(1 + e^x), the binary cross-entropy of logit -x for label 1 (of x for label 0).

    Written as ``relu(x) + log(1 + e^-|x|)`` rather than with ``log1p`` (as ``sigmoid_cross_entropy_with_logits``
    and ``softplus`` are): XLA on the CPU calls the C library's ``log1p`` one element at a time but vectorises
    ``log``, which made the classification loss over a step's ~200,000 scores 3x dearer. 1 + e^-|x| lies in
    (1, 2], so ``log`` loses nothing that matters (at most ~1e-7 where e^-|x| is that small).
    """
    return tf.nn.relu(x) + tf.math.log(1.0 + tf.exp(-tf.abs(x)))


def _initial(shape: tuple[int, int], seed: int, table: int) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed=[seed, table], minval=-INITIAL_SCALE, maxval=INITIAL_SCALE)
