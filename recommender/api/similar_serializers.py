"""What the nearest-books and nearest-links endpoints read and answer, as JSON."""
from rest_framework import serializers

from books.api.serializers import (
    BookDetailSerializer,
    BookSerializer,
    LinkSerializer,
    QueryParametersSerializer,
    WholeNumberField,
)


class SimilarParamsSerializer(QueryParametersSerializer):
    """Query parameters of ``/books/{id}/similar/``."""

    k = WholeNumberField(min_value=1, max_value=100, default=10, help_text="How many books (1–100).")
    genre = serializers.CharField(
        required=False, max_length=300, help_text="Only books whose genre contains this (case-insensitive)."
    )


class SimilarLinkParamsSerializer(QueryParametersSerializer):
    """Query parameters of ``/links/{id}/similar/``."""

    k = WholeNumberField(min_value=1, max_value=100, default=10, help_text="How many links (1–100).")


class SimilarBookSerializer(serializers.Serializer):
    book = BookSerializer()
    similarity = serializers.FloatField(help_text="Cosine similarity, from -1 to 1 (1 is the same direction).")


class SimilarLinkSerializer(serializers.Serializer):
    link = LinkSerializer()
    similarity = serializers.FloatField(help_text="Cosine similarity, from -1 to 1.")


class SimilarBooksSerializer(serializers.Serializer):
    """Nearest books in the active embedding version, most similar first."""

    results = SimilarBookSerializer(many=True)
    version = serializers.IntegerField(allow_null=True, help_text="The embedding version used; null if none is active.")
    detail = serializers.CharField(
        allow_null=True,
        help_text="Why ``results`` is empty (no active version, the book has no vector, or no other book matches "
                  "``genre``); null whenever there are results.",
    )


class SimilarLinksSerializer(serializers.Serializer):
    """Nearest links in the active embedding version, most similar first."""

    results = SimilarLinkSerializer(many=True)
    version = serializers.IntegerField(allow_null=True, help_text="The embedding version used; null if none is active.")
    detail = serializers.CharField(
        allow_null=True,
        help_text="Why ``results`` is empty (no active version, or the link has no vector); null whenever there are "
                  "results.",
    )


class PredictedValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    confidence = serializers.FloatField(help_text="The model's probability of the value, 0–1.")


class PredictedFieldsSerializer(serializers.Serializer):
    genre = PredictedValueSerializer(many=True)
    country = PredictedValueSerializer(many=True)
    language = PredictedValueSerializer(many=True)


class BookRecordSerializer(BookDetailSerializer):
    """A book's record, with what the active version's supervised model predicts where the sources give nothing."""

    predicted = PredictedFieldsSerializer(
        read_only=True,
        help_text="Values predicted from the book's embedding for fields its sources leave empty (genre, country, "
                  "language), each with its confidence, most confident first; only those of the shown confidence "
                  "(recommender.training.predictions.SHOWN_CONFIDENCE) or more. Never part of the source's fields.")

    class Meta(BookDetailSerializer.Meta):
        fields = [*BookDetailSerializer.Meta.fields, "predicted"]
        read_only_fields = fields
