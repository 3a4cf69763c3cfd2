"""What the nearest-books and nearest-links endpoints read and answer, as JSON."""
from rest_framework import serializers

from books.api.serializers import BookSerializer, LinkSerializer, QueryParametersSerializer, WholeNumberField


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
