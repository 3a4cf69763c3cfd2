"""The embedding model of the original method: book and link embeddings, their cosine, and a head.

``build_model`` returns a Keras model mapping (book index, link index) to a prediction, and
``loss_for`` the matching loss: "classification" puts ``Dense(1, sigmoid)`` on the cosine and learns
labels 1/0 with binary cross-entropy; "regression" learns labels +1/-1 on the raw cosine with MSE.
"""

from __future__ import annotations

import tensorflow as tf

from recommender.training.params import TrainingParams

BOOK_EMBEDDING = "book_embedding"
LINK_EMBEDDING = "link_embedding"


def build_model(n_books: int, n_links: int, params: TrainingParams) -> tf.keras.Model:
    """The two-tower embedding model; its weights are created (and seeded) here."""
    book = tf.keras.Input(shape=(), dtype="int32", name="book")
    link = tf.keras.Input(shape=(), dtype="int32", name="link")
    book_vector = tf.keras.layers.Embedding(n_books, params.embedding_dim, name=BOOK_EMBEDDING)(book)
    link_vector = tf.keras.layers.Embedding(n_links, params.embedding_dim, name=LINK_EMBEDDING)(link)
    cosine = tf.keras.layers.Dot(axes=1, normalize=True, name="cosine")([book_vector, link_vector])
    if params.variant == "classification":
        output = tf.keras.layers.Dense(1, activation="sigmoid", name="probability")(cosine)
    else:
        output = cosine
    return tf.keras.Model(inputs=[book, link], outputs=tf.keras.layers.Flatten()(output), name="bookvec")


def labels_for(variant: str, positive: bool) -> float:
    """The training label of a true pair (positive) or a negative under a variant."""
    if variant == "classification":
        return 1.0 if positive else 0.0
    return 1.0 if positive else -1.0


def loss_for(variant: str):
    """The per-batch mean loss function ``loss(labels, predictions)`` of a variant."""
    if variant == "classification":
        return tf.keras.losses.BinaryCrossentropy()
    return tf.keras.losses.MeanSquaredError()


def embedding_weights(model: tf.keras.Model) -> tuple[tf.Tensor, tf.Tensor]:
    """The raw (book, link) embedding matrices of a model built by ``build_model``."""
    return (
        model.get_layer(BOOK_EMBEDDING).embeddings,
        model.get_layer(LINK_EMBEDDING).embeddings,
    )
