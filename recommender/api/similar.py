"""The catalogue's items with what the active embedding version says of them, over HTTP: a book's record with
whether it has a vector, and the nearest books and links. Open to everyone."""
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from books.models import Book, Link
from books.selectors import book_detail
from config.api_errors import error_responses, not_found, object_or_404
from config.api_views import ApiView
from recommender.api.similar_serializers import (
    BookRecordSerializer,
    SimilarBooksSerializer,
    SimilarLinkParamsSerializer,
    SimilarLinksSerializer,
    SimilarParamsSerializer,
)
from recommender.selectors import active_version, book_has_vector, book_predictions, similar_books, similar_links


@extend_schema(tags=["books"], responses={200: BookRecordSerializer, **error_responses(404)})
class BookDetailApi(ApiView):
    """One book: metadata, links (most used first), whether the active embedding version has it, and what its
    supervised model predicts for the fields the sources leave empty (``predicted``)."""

    permission_classes = [AllowAny]

    def get(self, request, pk: int):
        try:
            book = book_detail(book_id=pk)
        except Book.DoesNotExist:
            raise not_found(Book, pk) from None
        book.has_vector = book_has_vector(book=book)
        predicted = book_predictions(book=book)
        book.predicted = {field: [{"value": shown.value, "confidence": shown.confidence}
                                  for shown in predicted.get(field, [])] for field in ("genre", "country", "language")}
        return Response(BookRecordSerializer(book).data)


@extend_schema(
    tags=["books"],
    parameters=[SimilarParamsSerializer],
    responses={200: SimilarBooksSerializer, **error_responses(400, 404)},
)
class BookSimilarApi(ApiView):
    """The ``k`` books nearest this one in the active embedding version, most similar first.

    A book without a vector (or no active version) answers 200 with empty ``results`` and a ``detail``
    saying why; ``detail`` is null whenever there are results. With ``genre``, still up to ``k`` books of
    that genre.
    """

    permission_classes = [AllowAny]
    query_parameters = SimilarParamsSerializer

    def get(self, request, pk: int):
        params = self.query_parameters_valid(request)
        book = object_or_404(Book.objects, pk)
        results = similar_books(book=book, k=params["k"], genre=params.get("genre") or None)
        version = active_version()
        detail = None
        if not results:
            detail = _why_no_neighbours(version, has_vector=version is not None and book_has_vector(book=book),
                                        item="book", filtered=bool(params.get("genre")))
        return Response(SimilarBooksSerializer(
            {"results": results, "version": version.pk if version else None, "detail": detail}
        ).data)


@extend_schema(
    tags=["links"],
    parameters=[SimilarLinkParamsSerializer],
    responses={200: SimilarLinksSerializer, **error_responses(400, 404)},
)
class LinkSimilarApi(ApiView):
    """The ``k`` links nearest this one in the active embedding version, most similar first.

    A link without a vector (or no active version) answers 200 with empty ``results`` and a ``detail``
    saying why; ``detail`` is null whenever there are results.
    """

    permission_classes = [AllowAny]
    query_parameters = SimilarLinkParamsSerializer

    def get(self, request, pk: int):
        params = self.query_parameters_valid(request)
        link = object_or_404(Link.objects, pk)
        results = similar_links(link=link, k=params["k"])
        version = active_version()
        detail = None
        if not results:
            has_vector = version is not None and link.vectors.filter(version=version).exists()
            detail = _why_no_neighbours(version, has_vector=has_vector, item="link", filtered=False)
        return Response(SimilarLinksSerializer(
            {"results": results, "version": version.pk if version else None, "detail": detail}
        ).data)


def _why_no_neighbours(version, *, has_vector: bool, item: str, filtered: bool) -> str:
    if version is None:
        return "No embedding version is active yet: train one first."
    if not has_vector:
        too_few = "links" if item == "book" else "books"
        return (f"This {item} has no vector in the active embedding version "
                f"(it was added after training, or has too few {too_few} to be trained).")
    return "No other book matches the filters." if filtered else f"No other {item} has a vector."
