"""Readers' shelves over HTTP as others see them: public shelves are open to everyone; another reader's private
shelf answers 404, as if absent."""
from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from books.api.serializers import ShelfEntrySerializer, ShelfSerializer
from books.models import ShelfEntry
from books.selectors import reader_named, shelf_entries, shelves_visible_to
from config.api_errors import error_responses, object_or_404
from config.api_views import ApiView, GenericApiView


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


def _visible_shelves(request):
    return shelves_visible_to(viewer=request.user).select_related("user").annotate(book_count=Count("entries"))
