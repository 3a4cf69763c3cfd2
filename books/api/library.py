"""The signed-in reader's library in and out (``/me/library-imports/…``, ``/me/library-export/``): each view
parses, calls a service or selector, serialises. Another reader's import is a 404."""
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from books.api.serializers import RequestBodySerializer, WholeNumberField
from books.library.formats import MAX_FILE_BYTES, LibraryFileError
from books.library.selectors import library_export, library_export_goodreads_csv, library_import_get
from books.library.services import library_import_row_resolve, library_import_start
from books.models import LibraryImport, LibraryImportRow
from config.api_errors import error_responses
from config.api_views import ApiView, validated


class LibraryImportRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = LibraryImportRow
        fields = ["id", "row_number", "title", "author", "isbn", "reason", "candidates", "resolved_book"]


class ShelfNotCreatedSerializer(serializers.Serializer):
    """A shelf of the file the import could not make (its books went on their standard shelves only)."""

    name = serializers.CharField()
    reason = serializers.CharField()


class LibraryImportSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    unmatched_rows = LibraryImportRowSerializer(many=True, read_only=True)
    shelves_not_created = ShelfNotCreatedSerializer(
        many=True, read_only=True, help_text="Shelves of the file not made (you reached the limit of shelves of your "
                                             "own): their books are on their standard shelves only.")

    class Meta:
        model = LibraryImport
        fields = ["id", "url", "file_name", "format", "status", "rows", "matched", "unmatched", "skipped", "error",
                  "shelves_not_created", "created_at", "finished_at", "unmatched_rows"]

    def get_url(self, obj) -> str:
        return reverse("api-my-library-import-detail", args=[obj.pk])


class LibraryExportRecordSerializer(serializers.Serializer):
    """One book of the JSON export (documents the schema; the records come from ``library_export``)."""

    bookvec_id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.CharField()
    goodreads_id = serializers.CharField()
    isbn10 = serializers.CharField()
    isbn13 = serializers.CharField()
    shelf = serializers.ChoiceField(["want-to-read", "reading", "read"], allow_null=True)
    shelves = serializers.ListField(child=serializers.CharField())
    rating = serializers.IntegerField(allow_null=True)
    date_added = serializers.DateField()
    date_read = serializers.DateField(allow_null=True, help_text="When you last finished it, if known.")


class LibraryImportRowResolveInputSerializer(RequestBodySerializer):
    book_id = WholeNumberField(min_value=1, help_text="The book the row is.")


class MyLibraryImportListApi(ApiView):
    """Import your library from a Goodreads or StoryGraph export (or Bookvec's own)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["my library"],
        request={"multipart/form-data": inline_serializer(
            "LibraryImportUpload", {"file": serializers.FileField(help_text=f"A CSV export, at most "
                                                                               f"{MAX_FILE_BYTES // 2**20} MB.")})},
        responses={202: LibraryImportSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        """Queue an import of the uploaded export: 202 with its id and status URL. The file is checked first (size,
        text, a Goodreads or StoryGraph header): a 400 says what is wrong and nothing is written. A 409 while
        another import of yours is queued or running."""
        upload = request.FILES.get("file")
        if upload is None:
            raise LibraryFileError('Send the export as the multipart field "file".')
        data = upload.read(MAX_FILE_BYTES + 1)
        library_import = library_import_start(user=request.user, file_name=upload.name, data=data)
        return Response(LibraryImportSerializer(library_import).data, status=status.HTTP_202_ACCEPTED)


class MyLibraryImportDetailApi(ApiView):
    """One of your library imports."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["my library"], responses={200: LibraryImportSerializer, **error_responses(401, 404)})
    def get(self, request, pk: int):
        """Its status (queued, running, succeeded, failed), counts, and the rows that matched no book, with why and
        the likeliest books."""
        return Response(LibraryImportSerializer(library_import_get(user=request.user, import_id=pk)).data)


class MyLibraryImportRowResolveApi(ApiView):
    """Say which book an unmatched row is."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["my library"], request=LibraryImportRowResolveInputSerializer,
                   responses={200: LibraryImportRowSerializer, **error_responses(400, 401, 404)})
    def post(self, request, pk: int, row_id: int):
        """Shelve the book you pick as the row says (its shelves, rating, date)."""
        library_import_get(user=request.user, import_id=pk)
        data = validated(LibraryImportRowResolveInputSerializer, request.data)
        row = library_import_row_resolve(user=request.user, row_id=row_id, book_id=data["book_id"],
                                         import_id=pk)
        return Response(LibraryImportRowSerializer(row).data)


class GoodreadsCsvRenderer(renderers.BaseRenderer):
    """``library_export``'s records as Goodreads' library export CSV (an error body stays JSON)."""

    media_type = "text/csv"
    format = "goodreads"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            return renderers.JSONRenderer().render(data)
        return library_export_goodreads_csv(data).encode("utf-8")


class MyLibraryExportApi(ApiView):
    """Your shelves, ratings and dates, to take elsewhere or bring back."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [GoodreadsCsvRenderer, renderers.JSONRenderer]

    @extend_schema(
        tags=["my library"],
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["goodreads", "json"],
                                     description="goodreads (CSV in Goodreads' layout, the default) or json")],
        responses={(200, "application/json"): LibraryExportRecordSerializer(many=True), (200, "text/csv"): OpenApiTypes.STR,
                   **error_responses(401)},
    )
    def get(self, request):
        """Every book on your shelves, once: Goodreads' library export columns (Goodreads and StoryGraph import
        it; so does Bookvec, by the added ``Bookvec Id``), or JSON."""
        response = Response(library_export(user=request.user))
        if request.accepted_renderer.format == "goodreads":
            response["Content-Disposition"] = 'attachment; filename="bookvec_library_export.csv"'
        return response
