"""The signed-in reader's shelves over HTTP (``/me/shelves/…``): a session or ``Authorization: Token …`` is needed;
each view parses, calls a selector or service, serialises."""
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from books.api.serializers import (
    ShelfCreateInputSerializer,
    ShelfEntryCreateInputSerializer,
    ShelfEntryMoveInputSerializer,
    ShelfEntrySerializer,
    ShelfEntryUpdateInputSerializer,
    ShelfSerializer,
    ShelfUpdateInputSerializer,
)
from books.models import Shelf, ShelfEntry
from books.selectors import shelf_entries, shelf_list
from books.services import (
    shelf_add_book,
    shelf_create,
    shelf_delete,
    shelf_entry_rate,
    shelf_move_book,
    shelf_remove_book,
    shelf_update,
    shelves_ensure_standard,
)
from config.api_errors import error_responses, object_or_404
from config.api_views import ApiView, GenericApiView, validated


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


def _my_shelf(request, pk: int) -> Shelf:
    return object_or_404(shelf_list(owner=request.user).select_related("user"), pk)


def _my_entry(request, pk: int, book_id: int) -> ShelfEntry:
    shelf = object_or_404(Shelf.objects.filter(user=request.user), pk)
    entry = shelf_entries(shelf=shelf).select_related("shelf").filter(book_id=book_id).first()
    if entry is None:
        raise NotFound(f"No book with id {book_id} on shelf {pk}.")
    return entry
