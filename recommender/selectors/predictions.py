"""Reads of the supervised model's predictions (``recommender.models.BookPrediction``): what a training run learns
from (each book's genres, country and language as the catalogue gives them), and what readers see — the active
version's predictions of ``SHOWN_CONFIDENCE`` or more, less those staff reviewed, for fields the book still lacks (a
book given a genre since, by a source or by staff accepting one, shows no predicted genre)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import Exists, OuterRef, QuerySet

from books.models import Book
from recommender.models import BookPrediction, EmbeddingVersion, PredictionReview
from recommender.selectors.versions import active_version
from recommender.training.predictions import SHOWN_CONFIDENCE

Field = BookPrediction.Field


@dataclass(frozen=True)
class BookFieldValues:
    """Per book id, in the order asked: its genres (vocabulary names, the source's order), country and language
    ("" when not given)."""

    genres: list[list[str]]
    countries: list[str]
    languages: list[str]


@dataclass(frozen=True)
class ShownPrediction:
    value: str
    confidence: float

    @property
    def percent(self) -> int:
        return int(round(self.confidence * 100))


def book_field_values(*, book_ids: np.ndarray) -> BookFieldValues:
    """The catalogue's genres, country and language of each of ``book_ids``."""
    rows = {book_id: (genre, country, language) for book_id, genre, country, language in
            Book.objects.filter(pk__in=[int(i) for i in book_ids]).values_list("id", "genre", "country", "language")}
    values = [rows.get(int(book_id), ("", "", "")) for book_id in book_ids]
    return BookFieldValues(
        genres=[[name.strip() for name in genre.split(",") if name.strip()] for genre, _, _ in values],
        countries=[country.strip() for _, country, _ in values],
        languages=[language.strip() for _, _, language in values],
    )


def book_predictions(*, book: Book, version: EmbeddingVersion | None = None) -> dict[str, list[ShownPrediction]]:
    """The predictions readers see for ``book`` by field (most confident first); fields without any are left out."""
    version = version or active_version()
    if version is None:
        return {}
    shown: dict[str, list[ShownPrediction]] = {}
    for prediction in predictions_shown(version=version).filter(book=book).order_by("field", "-confidence", "value"):
        if _given(book, prediction.field):
            continue
        shown.setdefault(prediction.field, []).append(ShownPrediction(prediction.value, prediction.confidence))
    return shown


def genre_books_predicted(*, name: str) -> QuerySet[Book]:
    """Books without a genre that the active version predicts the genre ``name`` for (shown predictions), most
    confident first; each with ``predicted_confidence``."""
    version = active_version()
    if version is None:
        return Book.objects.none()
    predicted = predictions_shown(version=version).filter(field=Field.GENRE, value=name)
    return (Book.objects.filter(pk__in=predicted.values("book_id")).filter(genre="")
            .annotate(predicted_confidence=predicted.filter(book=OuterRef("pk")).values("confidence")[:1])
            .order_by("-predicted_confidence", "-popularity", "id"))


def predicted_genres_by_book(*, version: EmbeddingVersion) -> dict[int, str]:
    """The best shown genre prediction of each book of ``version`` that has no genre given (the map's colouring)."""
    best: dict[int, str] = {}
    rows = (predictions_shown(version=version).filter(field=Field.GENRE, book__genre="")
            .order_by("book_id", "-confidence", "value").values_list("book_id", "value"))
    for book_id, value in rows:
        best.setdefault(book_id, value)
    return best


def predictions_shown(*, version: EmbeddingVersion) -> QuerySet[BookPrediction]:
    """``version``'s predictions of ``SHOWN_CONFIDENCE`` or more that staff have not reviewed."""
    reviewed = PredictionReview.objects.filter(book=OuterRef("book"), field=OuterRef("field"), value=OuterRef("value"))
    return BookPrediction.objects.filter(version=version, confidence__gte=SHOWN_CONFIDENCE).exclude(Exists(reviewed))


def predictions_reviewed_signature() -> str:
    """Changes whenever staff review a prediction (the map's cache key)."""
    last = PredictionReview.objects.order_by("-id").values_list("id", flat=True).first()
    return str(last or 0)


def _given(book: Book, field: str) -> bool:
    """Whether the book has the field from its sources or staff (then nothing is predicted for it)."""
    return bool(getattr(book, field).strip())
