"""Writes of the supervised model's predictions: the training run's prediction stage (make, then store with the new
version) and staff's reviews (accept into the catalogue, or reject).

A failure of the prediction stage never fails the run: the error is recorded in the run's figures
(``metrics["predictions"]["error"]``) and the version is published without predictions (the embeddings are the
product; a missing side-model is not worth keeping an older version live for).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from books.staff_given import book_value_give
from recommender.models import BookPrediction, EmbeddingVersion, PredictionReview
from recommender.selectors.predictions import book_field_values
from recommender.training.data import TrainingData
from recommender.training.predictions import FieldLabels, predict_book_fields

logger = logging.getLogger(__name__)

Field = BookPrediction.Field


@dataclass
class MadePredictions:
    """The prediction stage's outcome: (book id, field, value, confidence) rows and the run's figures."""

    rows: list[tuple[int, str, str, float]] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)


def book_predictions_make(*, data: TrainingData, book_vectors: np.ndarray, seed: int) -> MadePredictions:
    """Trains the supervised model on the run's book vectors and predicts the fields books lack; never raises for
    a failure of its own (it is logged and said in ``metrics["error"]``, with no rows)."""
    try:
        values = book_field_values(book_ids=data.book_ids)
        fields = [FieldLabels.from_values(Field.GENRE, values.genres, multi_label=True),
                  FieldLabels.from_values(Field.COUNTRY, [[value] for value in values.countries], multi_label=False),
                  FieldLabels.from_values(Field.LANGUAGE, [[value] for value in values.languages], multi_label=False)]
        result = predict_book_fields(book_vectors=book_vectors, fields=fields, sources=data.sources,
                                     content=data.content, seed=seed)
    except Exception as error:
        logger.exception("The prediction stage failed; the version is published without predictions.")
        return MadePredictions(metrics={"error": _describe(error)})
    rows = [(int(data.book_ids[p.book_index]), p.field, p.value, p.confidence) for p in result.predictions]
    return MadePredictions(rows=rows, metrics=result.metrics)


def book_predictions_store(*, version: EmbeddingVersion, made: MadePredictions) -> dict:
    """Writes ``made``'s rows as ``version``'s predictions (all or none) and returns the figures for the run, with
    ``stored``, or the error when writing failed (nothing is written then)."""
    if "error" in made.metrics:
        return made.metrics
    try:
        with transaction.atomic():
            BookPrediction.objects.bulk_create(
                (BookPrediction(version=version, book_id=book_id, field=name, value=value, confidence=confidence)
                 for book_id, name, value, confidence in made.rows), batch_size=5000)
    except Exception as error:
        logger.exception("Storing the predictions of version %s failed; it is published without them.", version.pk)
        return {**made.metrics, "error": _describe(error)}
    return {**made.metrics, "stored": len(made.rows)}


def predictions_accept(*, predictions: Iterable[BookPrediction], user) -> int:
    """Gives each prediction's value to its book as staff-given (``books.staff_given``: a genre is added to the
    book's genres; a country or language is set where the book has none), which every later import keeps over the
    sources' values, and records the review; returns how many were accepted. A book that meanwhile has another
    value of a one-value field keeps it (the review is recorded all the same)."""
    accepted = 0
    with transaction.atomic():
        for prediction in predictions:
            book_value_give(book_id=prediction.book_id, field=prediction.field, value=prediction.value, by=user)
            accepted += _review(prediction, accepted=True, user=user)
    return accepted


def predictions_reject(*, predictions: Iterable[BookPrediction], user) -> int:
    """Records that each prediction is wrong: it is not shown for its book again, in this or any later version;
    returns how many were rejected."""
    with transaction.atomic():
        return sum(_review(prediction, accepted=False, user=user) for prediction in predictions)


def _review(prediction: BookPrediction, *, accepted: bool, user) -> int:
    PredictionReview.objects.update_or_create(
        book_id=prediction.book_id, field=prediction.field, value=prediction.value,
        defaults={"accepted": accepted, "confidence": prediction.confidence, "version_id": prediction.version_id,
                  "reviewed_by": user})
    return 1


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
