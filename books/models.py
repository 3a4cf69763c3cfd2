"""The catalogue: books, the links that connect them, and readers' shelves."""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower, NullIf

from books.text import SORT_LETTERS


def sort_key(field: str) -> Lower:
    """What a text field sorts by: lowercased, accents dropped (NFKD, combining marks removed, ``SORT_LETTERS``
    replaced), NULL if empty. "Émile" sorts beside "Emile", "Ørsted" beside "Orsted" and "apple" beside "Apple"
    whatever the database's collation (the embedded server's, C.UTF-8, orders by code point and has no ICU)."""
    decomposed = Func(NullIf(F(field), Value("")), template="normalize(%(expressions)s, NFKD)")
    unmarked = Func(decomposed, Value("[\u0300-\u036f]"), Value(""), Value("g"), function="regexp_replace")
    return Lower(Func(unmarked, Value(SORT_LETTERS[0]), Value(SORT_LETTERS[1]), function="translate"))


class Series(models.Model):
    """A series of books, as the sources name it ("The Hunger Games", "Chronicles of Narnia"): ``key`` is the folded
    name two spellings share ("The Lord of the Rings" and "Lord of the Rings"). Derived from the books' titles and
    infoboxes by ``books.series``, never edited by hand."""

    name = models.CharField(max_length=300)
    key = models.CharField(max_length=300, unique=True, help_text="The folded name: case, accents, articles aside.")

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "series"
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="series_name_not_empty")]

    def __str__(self):
        return self.name


class Book(models.Model):
    """A work, whichever sources describe it. ``external_id`` and ``source`` name the source it was first imported
    from (``wikipedia:War and Peace``, ``goodbooks:1``); every identifier any source gives it, that one included, is a
    ``BookIdentifier``, and a record of another source matched to it is merged into it (``BookMerge``)."""

    class Source(models.TextChoices):
        WIKIPEDIA = "wikipedia", "Wikipedia"
        GOODBOOKS = "goodbooks", "goodbooks-10k"

    external_id = models.CharField(max_length=600, unique=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=500, blank=True, help_text="Author(s) as displayed, comma-separated.")
    genre = models.CharField(max_length=300, blank=True, help_text="Genre(s) of the vocabulary (``Genre``), as "
                             "displayed, comma-separated; what the source said stays in metadata.")
    country = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=100, blank=True)
    staff_given = models.JSONField(  # a default in the database too: the importers insert books in SQL
        default=dict, db_default=Value({}, output_field=models.JSONField()), blank=True,
        help_text="Values staff gave the book, which beat every source's at each import (``books.staff_given``): "
        '{"genre": [names], "genre_removed": [names], "country": name, "language": name}; a country or language '
        "of \"\" is one staff cleared.")
    publisher = models.CharField(max_length=300, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    pages_raw = models.CharField(max_length=200, blank=True, help_text="Pages as the source wrote them.")
    publication_year = models.IntegerField(null=True, blank=True)
    isbn = models.CharField(max_length=40, blank=True)
    cover_url = models.URLField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="The raw infobox or CSV row.")
    article_length = models.PositiveIntegerField(null=True, blank=True)
    search_text = models.TextField(
        blank=True, editable=False, help_text="Title and author folded by books.text.fold, for search."
    )
    popularity = models.PositiveIntegerField(
        default=0, help_text="How many readers shelved or rated the book (from the source's counts)."
    )
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="books",
                               help_text="The series the book belongs to (``books.series``), from its sources.")
    series_position = models.FloatField(null=True, blank=True,
                                        help_text="Its number in the series (1, 2, 2.5; an omnibus: its first).")
    series_position_end = models.FloatField(null=True, blank=True,
                                            help_text="An omnibus or box set's last book (\"#1-3\": 3); else empty.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    title_sort = models.GeneratedField(expression=sort_key("title"), output_field=models.TextField(), db_persist=True)
    author_sort = models.GeneratedField(expression=sort_key("author"), output_field=models.TextField(),
                                        db_persist=True)
    SORT_KEYS = {"title": "title_sort", "author": "author_sort"}
    """API orderings by text (``?ordering=title``) sort by these columns."""

    class Meta:
        indexes = [
            models.Index(fields=["author"], name="book_author"),
            GinIndex(SearchVector("search_text", config="simple"), name="book_search_text"),
            models.Index(fields=["genre"], name="book_genre"),
            models.Index(fields=["country"], name="book_country"),
            models.Index(fields=["source"], name="book_source"),
            models.Index(fields=["-popularity"], name="book_popularity"),
            models.Index(fields=["-created_at"], name="book_created"),
            models.Index(fields=["-updated_at"], name="book_updated"),  # the newest change: map and search caches
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="book_title_not_empty"),
            models.CheckConstraint(condition=Q(external_id__startswith=models.F("source")),
                                   name="book_external_id_source"),
        ]

    def __str__(self):
        return f"{self.title} ({self.author})" if self.author else self.title


class StaffEdit(models.Model):
    """Who gave a book a staff-given value (``books.staff_given``), when and how: a genre, country or language
    edited by hand in the admin, or a prediction accepted. ``Book.staff_given`` holds the values in force; these
    rows are where they came from, newest first."""

    class How(models.TextChoices):
        EDITED = "edited", "edited by hand"
        ACCEPTED = "accepted", "prediction accepted"

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="staff_edits")
    field = models.CharField(max_length=20)
    value = models.CharField(max_length=300, blank=True, help_text="The value staff gave (\"\": they cleared it).")
    previous = models.CharField(max_length=300, blank=True, help_text="The book's value before.")
    how = models.CharField(max_length=20, choices=How.choices)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_at", "-id"]

    def __str__(self):
        return f"{self.book_id}: {self.field} {self.value!r} ({self.get_how_display()})"


class Genre(models.Model):
    """One genre of the catalogue's vocabulary (``books.genres.VOCABULARY``)."""

    name = models.CharField(max_length=100, unique=True)
    books = models.ManyToManyField(Book, related_name="genres", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Author(models.Model):
    """A person, whatever spelling each source gives: ``name`` as first imported, ``aliases`` every other spelling
    seen ("Fyodor Dostoevsky" with "Fyodor Dostoyevsky"). ``key`` is the folded name two spellings share
    (``books.importers.authors``)."""

    name = models.CharField(max_length=300)
    key = models.CharField(max_length=300, unique=True, help_text="The folded name: case, accents, initials aside.")
    aliases = ArrayField(models.CharField(max_length=300), default=list, blank=True,
                         help_text="Other spellings of the name, as sources give them.")
    books = models.ManyToManyField(Book, through="Contribution", related_name="contributors")

    class Meta:
        ordering = ["name", "id"]
        indexes = [GinIndex(fields=["aliases"], name="author_aliases")]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="author_name_not_empty")]

    def __str__(self):
        return self.name


class Contribution(models.Model):
    """A person's part in a book, where the source says which: author, translator, illustrator, editor."""

    class Role(models.TextChoices):
        AUTHOR = "author", "Author"
        TRANSLATOR = "translator", "Translator"
        ILLUSTRATOR = "illustrator", "Illustrator"
        EDITOR = "editor", "Editor"

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="contributions")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="contributions")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AUTHOR)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among the book's people (0 first).")

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["book", "author", "role"], name="contribution_unique")]
        indexes = [models.Index(fields=["author", "book"], name="contribution_author_book")]

    def __str__(self):
        return f"{self.author} ({self.role}) of {self.book_id}"


IDENTIFIER_SCHEMES = {
    "wikipedia": "English Wikipedia article title",
    "goodbooks": "goodbooks-10k book_id",
    "goodreads": "Goodreads book id",
    "isbn10": "ISBN-10",
    "isbn13": "ISBN-13",
}
"""The identifier schemes the bundled importers give; a generic import may bring others (``openlibrary``, ``oclc``,
``lccn``, …): a scheme is any lowercase name of letters, digits, '-' and '_'."""
SCHEME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"


class BookIdentifier(models.Model):
    """One identifier of a book in one scheme (``isbn13:9780439023481``), unique across the catalogue: it names one
    book whatever source gave it, and an import finds the book by it."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=40)
    value = models.CharField(max_length=600)

    class Meta:
        ordering = ["scheme", "value"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="bookidentifier_unique"),
            models.CheckConstraint(condition=Q(scheme__regex=SCHEME_PATTERN), name="bookidentifier_scheme_name"),
            models.CheckConstraint(condition=~Q(value=""), name="bookidentifier_value_not_empty"),
        ]
        indexes = [models.Index(fields=["book"], name="bookidentifier_book")]

    def __str__(self):
        return f"{self.scheme}:{self.value}"


class BookMerge(models.Model):
    """A record of one source merged into a book another source had given: why (the identifier or the title and
    author they share), which identifiers came with it, and when. Undone merges stay, with when and by whom."""

    class Method(models.TextChoices):
        IDENTIFIER = "identifier", "Shared identifier"
        TITLE_AUTHOR = "title-author", "Same title and author"
        STAFF = "staff", "Merged by staff"

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="merges")
    source = models.CharField(max_length=20, help_text="The source of the record merged in.")
    external_id = models.CharField(max_length=600, help_text="The merged record's own id in its source.")
    identifiers = models.JSONField(default=list, help_text='The identifiers it brought, as "scheme:value".')
    snapshot = models.JSONField(default=dict, blank=True,
                                help_text="The merged record's own fields, people and shelf entries: what undoing the "
                                          "merge makes the book of again (books.merges).")
    method = models.CharField(max_length=20, choices=Method.choices)
    reason = models.CharField(max_length=1000)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["book"], name="bookmerge_book")]

    def __str__(self):
        return f"{self.external_id} → {self.book_id} ({self.reason})"


class Link(models.Model):
    """What links books: a Wikipedia page an article links to, a reader's tag, a category."""

    class Kind(models.TextChoices):
        WIKILINK = "wikilink", "Wikipedia link"
        CATEGORY = "category", "Wikipedia category"
        TAG = "tag", "Reader tag"

    name = models.CharField(max_length=500, unique=True, help_text="Normalised: lowercased, whitespace folded.")
    display_name = models.CharField(max_length=500)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    books = models.ManyToManyField(Book, through="BookLink", related_name="links")
    book_count = models.PositiveIntegerField(
        db_default=0, editable=False,
        help_text="Books using this link, kept by the database (triggers on books_booklink, migration 0005).")

    class Meta:
        indexes = [models.Index(fields=["-book_count"], name="link_book_count")]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="link_name_not_empty")]

    def __str__(self):
        return self.display_name


class BookLink(models.Model):
    """A book's link, with how often: an article may link a page several times; a tag has a user count."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="book_links")
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="book_links")
    count = models.PositiveIntegerField(default=1)
    source = models.CharField(
        max_length=20, blank=True, default="",
        help_text="The source that gave the pair, empty for the book's own (a merged book has pairs from several): a "
                  "re-import replaces only its own source's pairs, and training weighs each by it.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["book", "link"], name="booklink_unique"),
            models.CheckConstraint(condition=Q(count__gte=1), name="booklink_count_positive"),
        ]
        indexes = [models.Index(fields=["link", "book"], name="booklink_link_book")]

    def __str__(self):
        return f"{self.book.title} → {self.link} ({self.count})"


class Shelf(models.Model):
    """A reader's shelf: one of the standard four, or a custom one. Private unless made public."""

    class Kind(models.TextChoices):
        WANT_TO_READ = "want-to-read", "Want to read"
        READING = "reading", "Reading"
        READ = "read", "Read"
        FAVOURITES = "favourites", "Favourites"
        CUSTOM = "custom", "Custom"

    STANDARD_KINDS = (Kind.WANT_TO_READ, Kind.READING, Kind.READ, Kind.FAVOURITES)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shelves")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CUSTOM)
    is_public = models.BooleanField(default=False)
    books = models.ManyToManyField(Book, through="ShelfEntry", related_name="shelves")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "shelves"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="shelf_name_unique_per_user"),
            models.UniqueConstraint(
                fields=["user", "kind"], condition=~Q(kind="custom"), name="shelf_standard_kind_once_per_user"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="shelf_name_not_empty"),
        ]

    def __str__(self):
        return f"{self.user}: {self.name}"

    @property
    def is_standard(self) -> bool:
        return self.kind != self.Kind.CUSTOM


class ShelfEntry(models.Model):
    """A book on a shelf, since when, and the reader's rating (1–5) if any."""

    # No index of their own: the unique (shelf, book) index serves lookups by shelf and ``shelfentry_book`` those by
    # book; each extra index is written for every entry an import adds (20 million at issue 22's size).
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="entries", db_index=False)
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="shelf_entries", db_index=False)
    added_at = models.DateTimeField()
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    read_at = models.DateField(null=True, blank=True,
                               help_text="When the reader last finished the book, if known (Goodreads' Date Read).")

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shelf", "book"], name="shelfentry_unique"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="shelfentry_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["book"], name="shelfentry_book")]


class LibraryImport(models.Model):
    """A reader's upload of the library they keep elsewhere (a Goodreads or StoryGraph export, or Bookvec's own),
    and what became of it (``books.library``)."""

    class Format(models.TextChoices):
        GOODREADS = "goodreads", "Goodreads export"
        STORYGRAPH = "storygraph", "StoryGraph export"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    OPEN_STATUSES = (Status.QUEUED, Status.RUNNING)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_imports")
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=20, choices=Format.choices)
    content = models.TextField(help_text="The uploaded file, decoded (kept until the import has run).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    shelves_not_created = models.JSONField(
        default=list, blank=True, help_text='[{"name": …, "reason": …}, …]: shelves of the file the reader could not '
                                            "get (the limit of shelves of their own); their books went on their "
                                            "standard shelves only.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open import per reader: the database refuses a second, whatever races.
            models.UniqueConstraint(fields=["user"], condition=Q(status__in=["queued", "running"]),
                                    name="libraryimport_one_open_per_user"),
        ]

    def __str__(self):
        return f"{self.user}: {self.file_name} ({self.status})"


class LibraryImportRow(models.Model):
    """A row of an import that matched no book confidently: why, the likeliest books, and the book the reader
    picked for it, once they have."""

    library_import = models.ForeignKey(LibraryImport, on_delete=models.CASCADE, related_name="unmatched_rows")
    row_number = models.PositiveIntegerField(help_text="The row's line in the file (the header is line 1).")
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=500, blank=True)
    isbn = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=500)
    candidates = models.JSONField(default=list, help_text='[{"book_id": …, "score": 0-100}, …], likeliest first.')
    entry = models.JSONField(default=dict, help_text="The row's shelves, rating and dates, to shelve it once resolved.")
    resolved_book = models.ForeignKey(Book, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["row_number"]
        constraints = [models.UniqueConstraint(fields=["library_import", "row_number"],
                                               name="libraryimportrow_unique")]

    def __str__(self):
        return f"{self.library_import_id}:{self.row_number} {self.title}"
