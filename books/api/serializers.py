"""What the catalogue and shelf endpoints read and write, as JSON.

Input serializers (``…InputSerializer``, ``…ParamsSerializer``) only validate shapes and bounds; the
services decide the rest and their ``ShelfError`` becomes a 400 in ``config.api_errors``. Those that read a
JSON body are ``RequestBodySerializer``s: a field they do not know is an error, not silently ignored.
"""
import functools
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from books.importers.wording import describe
from books.models import Author, Book, BookLink, Contribution, Link, Shelf, ShelfEntry
from config.api_errors import refuse_unknown

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints; anything larger is an input error, not a lookup.


class RequestBodySerializer(serializers.Serializer):
    """A JSON object's fields; unknown ones (a typo like ``bookz``) are each a 400 naming the known fields."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            refuse_unknown(data, [name for name, field in self.fields.items() if not field.read_only], word="field")
        return super().to_internal_value(data)


def is_whole_number(data) -> bool:
    """The one rule for ids and counts in requests: a JSON integer, or a string of ASCII digits. 1.0, "1.0", 1e0,
    true, full-width "１" and Arabic-Indic "١" are refused (``int`` would read them all as 1)."""
    if isinstance(data, str):
        return data.isascii() and data.isdigit()
    return isinstance(data, int) and not isinstance(data, bool)


class WholeNumberField(serializers.IntegerField):
    """An integer given as one (``is_whole_number``). An empty query parameter (``?k=``) is an error, not the
    default."""

    default_error_messages = {"invalid": "Expected a whole number, got {data_type}."}

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not is_whole_number(data):
            self.fail("invalid", data_type=describe(data))
        return super().to_internal_value(data)


class OptionalURLField(serializers.URLField):
    """A URL that may be missing: null rather than an empty string, which is no URL."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class BookSerializer(serializers.ModelSerializer):
    """A book as it appears in lists and results."""

    cover_url = OptionalURLField(help_text="The cover image's address, if known.")

    class Meta:
        model = Book
        fields = [
            "id", "external_id", "source", "title", "author", "genre", "country", "language",
            "publication_year", "cover_url", "popularity",
        ]
        read_only_fields = fields


class SeriesPlaceSerializer(serializers.Serializer):
    """A book's series and its number there."""

    id = serializers.IntegerField(source="series.id", help_text="The series' id (its page is /series/{id}/).")
    name = serializers.CharField(source="series.name")
    position = serializers.FloatField(source="series_position", allow_null=True,
                                      help_text="Its number in the series (1, 2, 2.5; a box set's first); null if "
                                                "the sources number it nowhere.")
    position_end = serializers.FloatField(source="series_position_end", allow_null=True,
                                          help_text='A box set or omnibus\'s last book ("#1-3": 3); else null.')


class BookInSeriesSerializer(BookSerializer):
    """A book as in lists, with its series (load ``series`` with the books: ``select_related``)."""

    series = serializers.SerializerMethodField(help_text="Its series and number there; null if in none.")

    class Meta(BookSerializer.Meta):
        fields = BookSerializer.Meta.fields + ["series"]
        read_only_fields = fields

    @extend_schema_field(SeriesPlaceSerializer(allow_null=True))
    def get_series(self, book) -> dict | None:
        return self._series_place.to_representation(book) if book.series_id else None

    @functools.cached_property
    def _series_place(self) -> SeriesPlaceSerializer:
        # One for all the books of a list, not one built (its fields copied) for each book.
        return SeriesPlaceSerializer()


class BookLinkSerializer(serializers.ModelSerializer):
    """One of a book's links, with how often the book uses it."""

    id = serializers.IntegerField(source="link.id", read_only=True)
    name = serializers.CharField(source="link.name", read_only=True)
    display_name = serializers.CharField(source="link.display_name", read_only=True)
    kind = serializers.ChoiceField(source="link.kind", choices=Link.Kind.choices, read_only=True)

    class Meta:
        model = BookLink
        fields = ["id", "name", "display_name", "kind", "count"]
        read_only_fields = fields


class ContributionSerializer(serializers.ModelSerializer):
    """A person of a book, and their part in it."""

    id = serializers.IntegerField(source="author.id", read_only=True)
    name = serializers.CharField(source="author.name", read_only=True)

    class Meta:
        model = Contribution
        fields = ["id", "name", "role"]
        read_only_fields = fields


class AuthorSerializer(serializers.ModelSerializer):
    """A person, with every other spelling of their name the sources give."""

    book_count = serializers.IntegerField(read_only=True, help_text="How many books name them.")

    class Meta:
        model = Author
        fields = ["id", "name", "aliases", "book_count"]
        read_only_fields = fields


class AuthorDetailSerializer(AuthorSerializer):
    """A person with their books, whatever spelling each book gives."""

    books = serializers.SerializerMethodField(help_text="Their books, most popular first, with their part in each.")

    class Meta(AuthorSerializer.Meta):
        fields = AuthorSerializer.Meta.fields + ["books"]
        read_only_fields = fields

    def get_books(self, author) -> list[dict]:
        return [{"book": BookSerializer(contribution.book).data, "role": contribution.role}
                for contribution in author.book_contributions]


class BookDetailSerializer(BookInSeriesSerializer):
    """A book with everything known about it: identifiers, metadata, links, and whether it has a vector."""

    identifiers = serializers.SerializerMethodField(
        help_text='Every identifier of the book, whichever source gave it, as "scheme:value" (goodbooks:1, '
                  "wikipedia:…, goodreads:…, isbn10:…, isbn13:…); ?external_id= finds the book by any of them.")
    contributors = ContributionSerializer(source="contributions", many=True, read_only=True,
                                          help_text="The book's people: authors, translators, illustrators, editors.")
    links = BookLinkSerializer(source="book_links", many=True, read_only=True)
    has_vector = serializers.BooleanField(
        read_only=True, help_text="Whether the active embedding version has a vector for this book."
    )

    class Meta(BookInSeriesSerializer.Meta):
        fields = BookInSeriesSerializer.Meta.fields + [
            "identifiers", "contributors", "publisher", "pages", "pages_raw", "isbn", "article_length", "metadata", "links",
            "has_vector", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_identifiers(self, book) -> list[str]:
        return [str(identifier) for identifier in book.identifiers.all()]


class LinkSerializer(serializers.ModelSerializer):
    """A link (Wikipedia page, category or reader tag) and how many books use it."""

    book_count = serializers.IntegerField(read_only=True, help_text="How many books use it.")

    class Meta:
        model = Link
        fields = ["id", "name", "display_name", "kind", "book_count"]
        read_only_fields = fields


class LinkDetailSerializer(LinkSerializer):
    """A link with its most popular books."""

    top_books = BookSerializer(many=True, read_only=True, help_text="Its 20 most popular books.")

    class Meta(LinkSerializer.Meta):
        fields = LinkSerializer.Meta.fields + ["top_books"]
        read_only_fields = fields


class QueryParametersSerializer(serializers.Serializer):
    """A request's query parameters. The view that declares it as its ``query_parameters`` refuses unknown ones
    (``config.api_views``)."""


class ShelfSerializer(serializers.ModelSerializer):
    """A reader's shelf."""

    owner = serializers.CharField(source="user.username", read_only=True)
    book_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Shelf
        fields = ["id", "owner", "name", "kind", "is_public", "is_standard", "book_count", "created_at"]
        read_only_fields = fields


class ShelfCreateInputSerializer(RequestBodySerializer):
    name = serializers.CharField(max_length=100)
    is_public = serializers.BooleanField(default=False)


class ShelfUpdateInputSerializer(RequestBodySerializer):
    name = serializers.CharField(max_length=100, required=False, help_text="New name (custom shelves only).")
    is_public = serializers.BooleanField(required=False, help_text="Whether other people may see the shelf.")


class ShelfEntrySerializer(serializers.ModelSerializer):
    """A book on a shelf."""

    book = BookSerializer(read_only=True)

    class Meta:
        model = ShelfEntry
        fields = ["shelf", "book", "rating", "added_at"]
        read_only_fields = fields


class BookIdField(serializers.PrimaryKeyRelatedField):
    """A book given by its id in a request body: a whole number, never cut down to one (1.5, 1e0, true and "٣" are
    no ids), and "No book with id N." when there is none."""

    default_error_messages = {
        "does_not_exist": "No book with id {pk_value}.",
        "incorrect_type": "Expected a book id (a whole number), got {data_type}.",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=Book.objects.all(), help_text="The book's id.", **kwargs)

    def to_internal_value(self, data):
        if not is_whole_number(data):
            self.fail("incorrect_type", data_type=describe(data))
        if not 1 <= int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class ShelfEntryCreateInputSerializer(RequestBodySerializer):
    book = BookIdField()
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)


class ShelfEntryUpdateInputSerializer(RequestBodySerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, allow_null=True, help_text="1–5, or null to clear.")


class ShelfEntryMoveInputSerializer(RequestBodySerializer):
    """Where to move a book; the serializer's context holds the ``source`` shelf."""

    shelf = WholeNumberField(min_value=1, max_value=MAX_ID, help_text="The id of another of your shelves.")

    def validate_shelf(self, shelf_id: int) -> Shelf:
        source = self.context["source"]
        if shelf_id == source.pk:
            raise serializers.ValidationError("The book is already on this shelf.")
        target = Shelf.objects.filter(user_id=source.user_id, pk=shelf_id).first()
        if target is None:
            raise serializers.ValidationError(f"You have no shelf with id {shelf_id}.")
        return target


class TokenSerializer(serializers.Serializer):
    """A client's API token: send it as ``Authorization: Token <token>``."""

    token = serializers.CharField(source="key")
    created = serializers.DateTimeField()


class TokenCreateInputSerializer(RequestBodySerializer):
    """Credentials, needed only when the request is not already signed in."""

    username = serializers.CharField(required=False, max_length=150)
    password = serializers.CharField(required=False, max_length=4096, style={"input_type": "password"},
                                     trim_whitespace=False)
