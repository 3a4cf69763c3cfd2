"""Reads of the embeddings: the live version (``versions``), similar books and links (``similar``),
recommendations with why there are none (``recommendations``), dismissals (``dismissals``), the supervised
model's predictions (``predictions``), the state of
training (``training_status``) and what a run learns from (``training_data``, imported from its module: only
the worker reads it). The names below are the app's read API.
"""
from recommender.selectors.dismissals import dismissed_books
from recommender.selectors.predictions import ShownPrediction, book_predictions, genre_books_predicted
from recommender.selectors.recommendations import (
    NoRecommendations,
    ReaderRecommendations,
    Recommendation,
    book_recommendations,
    rating_weight,
    reader_recommendations,
)
from recommender.selectors.similar import SimilarBook, SimilarLink, similar_books, similar_links
from recommender.selectors.training_status import training_run_progress, training_status, workers_busy_training
from recommender.selectors.versions import active_version, book_has_vector, left_out_of_training

__all__ = [
    "NoRecommendations",
    "ReaderRecommendations",
    "Recommendation",
    "ShownPrediction",
    "SimilarBook",
    "SimilarLink",
    "active_version",
    "book_has_vector",
    "book_predictions",
    "book_recommendations",
    "dismissed_books",
    "genre_books_predicted",
    "left_out_of_training",
    "rating_weight",
    "reader_recommendations",
    "similar_books",
    "similar_links",
    "training_run_progress",
    "training_status",
    "workers_busy_training",
]
