"""The catalogue, shelves and tokens over HTTP: each view parses, calls a selector or service, serialises.

Permissions: the catalogue and public shelves are open to everyone; ``/me/…`` needs a signed-in reader
(session or ``Authorization: Token …``); another reader's private shelf answers 404, as if absent.
"""
from django.contrib.auth import authenticate
from django.db.models import Count
from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from books.api.filters import BookFilter, LinkFilter
from books.api.serializers import (
    BookDetailSerializer,
    BookSerializer,
    LinkDetailSerializer,
    LinkSerializer,
    ShelfCreateInputSerializer,
    ShelfEntryCreateInputSerializer,
    ShelfEntryMoveInputSerializer,
    ShelfEntrySerializer,
    ShelfEntryUpdateInputSerializer,
    ShelfSerializer,
    ShelfUpdateInputSerializer,
    SimilarBooksSerializer,
    SimilarLinkParamsSerializer,
    SimilarLinksSerializer,
    SimilarParamsSerializer,
    TokenCreateInputSerializer,
    TokenSerializer,
)
from books.models import Book, Link, Shelf, ShelfEntry
from books.selectors import book_detail, link_books, reader_named, shelf_entries, shelf_list, shelves_visible_to
from books.services import (
    reader_token_create,
    reader_token_revoke,
    shelf_add_book,
    shelf_create,
    shelf_delete,
    shelf_entry_rate,
    shelf_move_book,
    shelf_remove_book,
    shelf_update,
    shelves_ensure_standard,
)
from config.api_errors import error_responses, not_found, object_or_404
from config.api_views import ApiView, GenericApiView, ListApiView, validated
from config.throttling import ScopedRateThrottle
from recommender.selectors import active_version, book_has_vector, similar_books, similar_links

LINK_TOP_BOOKS = 20


# --- The catalogue ------------------------------------------------------------------------------------


@extend_schema(tags=["books"], responses={200: BookSerializer(many=True), **error_responses(400, 404)})
class BookListApi(ListApiView):
    """Books, 20 a page: search by title or author, filter by author, genre, country, source or external id."""

    permission_classes = [AllowAny]
    serializer_class = BookSerializer
    filterset_class = BookFilter
    queryset = Book.objects.all()


@extend_schema(tags=["books"], responses={200: BookDetailSerializer, **error_responses(404)})
class BookDetailApi(ApiView):
    """One book: metadata, links (most used first), and whether the active embedding version has it."""

    permission_classes = [AllowAny]

    def get(self, request, pk: int):
        try:
            book = book_detail(book_id=pk)
        except Book.DoesNotExist:
            raise not_found(Book, pk) from None
        book.has_vector = book_has_vector(book=book)
        return Response(BookDetailSerializer(book).data)


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


# --- The signed-in reader's shelves -------------------------------------------------------------------


class MyShelfListApi(ApiView):
    """Your shelves: the four standard ones (created on first use) and your own."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["my shelves"], responses={200: ShelfSerializer(many=True), **error_responses(401)})
    def get(self, request):
        shelves_ensure_standard(user=request.user)
        return Response(ShelfSerializer(shelf_list(owner=request.user).select_related("user"), many=True).data)

    @extend_schema(
        tags=["my shelves"],
        request=ShelfCreateInputSerializer,
        responses={201: ShelfSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        """Create a custom shelf (names are unique per reader)."""
        data = validated(ShelfCreateInputSerializer, request.data)
        shelf = shelf_create(user=request.user, **data)
        return Response(ShelfSerializer(_my_shelf(request, shelf.pk)).data, status=status.HTTP_201_CREATED)


class MyShelfDetailApi(ApiView):
    """One of your shelves."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["my shelves"], responses={200: ShelfSerializer, **error_responses(401, 404)})
    def get(self, request, pk: int):
        return Response(ShelfSerializer(_my_shelf(request, pk)).data)

    @extend_schema(
        tags=["my shelves"],
        request=ShelfUpdateInputSerializer,
        responses={200: ShelfSerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request, pk: int):
        """Rename a custom shelf and/or make it public or private."""
        shelf = _my_shelf(request, pk)
        data = validated(ShelfUpdateInputSerializer, request.data)
        shelf_update(shelf=shelf, **data)
        return Response(ShelfSerializer(_my_shelf(request, pk)).data)

    @extend_schema(tags=["my shelves"], responses={204: None, **error_responses(400, 401, 404)})
    def delete(self, request, pk: int):
        """Delete a custom shelf and its entries (standard shelves cannot be deleted: 400)."""
        shelf_delete(shelf=_my_shelf(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyShelfEntryListApi(GenericApiView):
    """The books on one of your shelves, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = ShelfEntrySerializer
    queryset = ShelfEntry.objects.none()  # names the model for the schema; entries come from shelf_entries

    @extend_schema(tags=["my shelves"], responses={200: ShelfEntrySerializer(many=True), **error_responses(401, 404)})
    def get(self, request, pk: int):
        page = self.paginate_queryset(shelf_entries(shelf=_my_shelf(request, pk)))
        return self.get_paginated_response(ShelfEntrySerializer(page, many=True).data)

    @extend_schema(
        tags=["my shelves"],
        request=ShelfEntryCreateInputSerializer,
        responses={201: ShelfEntrySerializer, 200: ShelfEntrySerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, pk: int):
        """Put a book on the shelf: 201 when it is new there; 200 when it was there already (it keeps its date and
        gets the rating if one is given)."""
        shelf = _my_shelf(request, pk)
        data = validated(ShelfEntryCreateInputSerializer, request.data)
        entry, added = shelf_add_book(shelf=shelf, book=data["book"], rating=data.get("rating"))
        return Response(ShelfEntrySerializer(entry).data,
                        status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)


class MyShelfEntryDetailApi(ApiView):
    """A book on one of your shelves, by the book's id."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["my shelves"], responses={200: ShelfEntrySerializer, **error_responses(401, 404)})
    def get(self, request, pk: int, book_id: int):
        return Response(ShelfEntrySerializer(_my_entry(request, pk, book_id)).data)

    @extend_schema(
        tags=["my shelves"],
        request=ShelfEntryUpdateInputSerializer,
        responses={200: ShelfEntrySerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request, pk: int, book_id: int):
        """Rate the book 1–5, or clear the rating with null."""
        entry = _my_entry(request, pk, book_id)
        data = validated(ShelfEntryUpdateInputSerializer, request.data)
        return Response(ShelfEntrySerializer(shelf_entry_rate(entry=entry, rating=data["rating"])).data)

    @extend_schema(tags=["my shelves"], responses={204: None, **error_responses(401, 404)})
    def delete(self, request, pk: int, book_id: int):
        """Take the book off the shelf."""
        entry = _my_entry(request, pk, book_id)
        shelf_remove_book(shelf=entry.shelf, book=entry.book)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyShelfEntryMoveApi(ApiView):
    """Move a book to another of your shelves, keeping its rating."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["my shelves"],
        request=ShelfEntryMoveInputSerializer,
        responses={200: ShelfEntrySerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request, pk: int, book_id: int):
        entry = _my_entry(request, pk, book_id)
        data = validated(ShelfEntryMoveInputSerializer, request.data, context={"source": entry.shelf})
        moved = shelf_move_book(source=entry.shelf, target=data["shelf"], book=entry.book)
        return Response(ShelfEntrySerializer(moved).data)


# --- Other readers' shelves ---------------------------------------------------------------------------


@extend_schema(tags=["shelves"], responses={200: ShelfSerializer(many=True), **error_responses(404)})
class UserShelfListApi(ApiView):
    """A reader's shelves you may see: their public ones (all of them, if they are you)."""

    permission_classes = [AllowAny]

    def get(self, request, username: str):
        owner = reader_named(username)
        if owner is None:
            raise NotFound(f"No reader named {username}.")
        shelves = _visible_shelves(request).filter(user=owner).order_by("id")
        return Response(ShelfSerializer(shelves, many=True).data)


@extend_schema(tags=["shelves"], responses={200: ShelfSerializer, **error_responses(404)})
class ShelfDetailApi(ApiView):
    """A shelf you may see (public, or yours); a private shelf of another reader is 404."""

    permission_classes = [AllowAny]

    def get(self, request, pk: int):
        return Response(ShelfSerializer(object_or_404(_visible_shelves(request), pk)).data)


class ShelfEntryListApi(GenericApiView):
    """The books on a shelf you may see, newest first."""

    permission_classes = [AllowAny]
    serializer_class = ShelfEntrySerializer
    queryset = ShelfEntry.objects.none()  # names the model for the schema; entries come from shelf_entries

    @extend_schema(tags=["shelves"], responses={200: ShelfEntrySerializer(many=True), **error_responses(404)})
    def get(self, request, pk: int):
        shelf = object_or_404(_visible_shelves(request), pk)
        page = self.paginate_queryset(shelf_entries(shelf=shelf))
        return self.get_paginated_response(ShelfEntrySerializer(page, many=True).data)


# --- Tokens -------------------------------------------------------------------------------------------


class MyTokenApi(ApiView):
    """Your API token, for clients: send it as ``Authorization: Token <token>``. One per reader."""

    throttle_classes = [*ApiView.throttle_classes, ScopedRateThrottle]  # and a tighter limit on password tries
    throttle_scope = "tokens"

    @extend_schema(
        tags=["tokens"],
        request=TokenCreateInputSerializer,
        responses={201: TokenSerializer, **error_responses(400)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}, {}],
    )
    def post(self, request):
        """Create a new token, revoking the previous one.

        Signed in (session or token), no body is needed; otherwise send ``username`` and ``password``.
        """
        user = request.user if request.user.is_authenticated else _user_from_credentials(request)
        token = reader_token_create(user=user)
        return Response(TokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["tokens"], responses={204: None, **error_responses(401)})
    def delete(self, request):
        """Revoke your token; clients using it are signed out."""
        reader_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]


class ApiNotFound(APIView):
    """Every URL under /api/ that names no endpoint: a JSON 404, whatever the method or credentials."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None  # not an endpoint: left out of the OpenAPI schema

    def http_method_not_allowed(self, request, *args, **kwargs):
        with_slash = f"{request.path}/"
        if not request.path.endswith("/") and _is_endpoint(with_slash):
            raise NotFound(f"No API endpoint at this address; did you mean {with_slash} (with a slash)?")
        raise NotFound("No API endpoint at this address; see /api/docs/.")


def _is_endpoint(path: str) -> bool:
    try:
        return resolve(path).func.view_class is not ApiNotFound
    except (Resolver404, AttributeError):
        return False


# --- Helpers ------------------------------------------------------------------------------------------


def _why_no_neighbours(version, *, has_vector: bool, item: str, filtered: bool) -> str:
    if version is None:
        return "No embedding version is active yet: train one first."
    if not has_vector:
        too_few = "links" if item == "book" else "books"
        return (f"This {item} has no vector in the active embedding version "
                f"(it was added after training, or has too few {too_few} to be trained).")
    return "No other book matches the filters." if filtered else f"No other {item} has a vector."


def _my_shelf(request, pk: int) -> Shelf:
    return object_or_404(shelf_list(owner=request.user).select_related("user"), pk)


def _my_entry(request, pk: int, book_id: int) -> ShelfEntry:
    shelf = object_or_404(Shelf.objects.filter(user=request.user), pk)
    entry = shelf_entries(shelf=shelf).select_related("shelf").filter(book_id=book_id).first()
    if entry is None:
        raise NotFound(f"No book with id {book_id} on shelf {pk}.")
    return entry


def _visible_shelves(request):
    return shelves_visible_to(viewer=request.user).select_related("user").annotate(book_count=Count("entries"))


def _user_from_credentials(request):
    credentials = validated(TokenCreateInputSerializer, request.data)
    if not credentials.get("username") or not credentials.get("password"):
        raise ValidationError({"detail": "Sign in, or send your username and password."})
    user = authenticate(request, username=credentials["username"], password=credentials["password"])
    if user is None:
        raise ValidationError({"detail": "Unable to sign in with that username and password."})
    return user
