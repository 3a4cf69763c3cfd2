"""Pure-Python embedding training (no Django): params, pairs, model and the training loop.

The trainer (and so TensorFlow, seconds and hundreds of MB) is imported on first use only: web
processes import ``TrainingParams`` to validate a retrain request and must not pay for TensorFlow.
"""

from recommender.training.dataset import (
    CATALOGUE,
    CONTENT,
    SHELF,
    PairSet,
    links_to_keep,
    normalise_link_name,
    split_holdout,
)
from recommender.training.params import DEFAULT_REMOVED_LINKS, TrainingParams

__all__ = [
    "CATALOGUE",
    "CONTENT",
    "DEFAULT_REMOVED_LINKS",
    "SHELF",
    "PairSet",
    "TrainedEmbeddings",
    "TrainingCancelled",
    "TrainingParams",
    "links_to_keep",
    "normalise_link_name",
    "split_holdout",
    "train_embeddings",
]


_TRAINER_NAMES = {"TrainedEmbeddings", "TrainingCancelled", "train_embeddings"}


def __getattr__(name):
    if name in _TRAINER_NAMES:
        from recommender.training import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
