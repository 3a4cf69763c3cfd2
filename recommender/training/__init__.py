"""Pure-Python embedding training (no Django): params, pairs, model and the training loop."""

from recommender.training.dataset import CONTENT, SHELF, PairSet, links_to_keep, normalise_link_name, split_holdout
from recommender.training.params import DEFAULT_REMOVED_LINKS, TrainingParams
from recommender.training.trainer import TrainedEmbeddings, TrainingCancelled, train_embeddings

__all__ = [
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
