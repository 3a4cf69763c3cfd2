"""The catalogue over HTTP: books and links, open to everyone. Each view parses, calls a selector, serialises.
(A book's record with its embedding facts and the nearest books and links are ``recommender.api.similar``'s.)"""
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from books.api.filters import AuthorFilter, BookFilter, LinkFilter
from books.api.serializers import (
    AuthorDetailSerializer,
    AuthorSerializer,
    BookSerializer,
    LinkDetailSerializer,
    LinkSerializer,
)
from books.models import Author, Book, Link
from books.selectors import author_contributions, author_list_search, link_books
from config.api_errors import error_responses, object_or_404
from config.api_views import ApiView, ListApiView

LINK_TOP_BOOKS = 20


@extend_schema(tags=["books"], responses={200: BookSerializer(many=True), **error_responses(400, 404)})
class BookListApi(ListApiView):
    """Books, 20 a page: search by title or author, filter by author, genre, country, source or external id."""

    permission_classes = [AllowAny]
    serializer_class = BookSerializer
    filterset_class = BookFilter
    queryset = Book.objects.all()


@extend_schema(tags=["links"], responses={200: LinkSerializer(many=True), **error_responses(400, 404)})
class LinkListApi(ListApiView):
    """Links (Wikipedia pages, categories, reader tags) with how many books use each, by name."""

    permission_classes = [AllowAny]
    serializer_class = LinkSerializer
    filterset_class = LinkFilter

    def get_queryset(self):
        return Link.objects.order_by("name")


@extend_schema(tags=["links"], responses={200: LinkDetailSerializer, **error_responses(404)})
class LinkDetailApi(ApiView):
    """One link, with its 20 most popular books."""

    permission_classes = [AllowAny]

    def get(self, request, pk: int):
        link = object_or_404(Link.objects, pk)
        link.top_books = list(link_books(link=link).order_by("-popularity", "title", "id")[:LINK_TOP_BOOKS])
        return Response(LinkDetailSerializer(link).data)


@extend_schema(tags=["authors"], responses={200: AuthorSerializer(many=True), **error_responses(400, 404)})
class AuthorListApi(ListApiView):
    """Authors (one a person, with the other spellings of their name), 20 a page, by name; ``?search=`` finds one by
    any spelling."""

    permission_classes = [AllowAny]
    serializer_class = AuthorSerializer
    filterset_class = AuthorFilter
    queryset = Author.objects.all()


@extend_schema(tags=["authors"], responses={200: AuthorDetailSerializer, **error_responses(404)})
class AuthorDetailApi(ApiView):
    """One person and every book that names them, under any spelling."""

    permission_classes = [AllowAny]

    def get(self, request, pk: int):
        author = object_or_404(author_list_search(), pk)
        author.book_contributions = author_contributions(author=author)
        return Response(AuthorDetailSerializer(author).data)
