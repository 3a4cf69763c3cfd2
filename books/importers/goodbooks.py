"""Import goodbooks-10k (Zygmunt Zając, CC BY-SA 4.0): books, their reader tags, and readers' shelves.

Files of the folder, and the id each row uses (mind the two ids of a book):

* ``books.csv`` — one row a book, with both ``book_id`` (1..10000) and ``goodreads_book_id``;
* ``tags.csv`` — ``tag_id, tag_name``;
* ``book_tags.csv`` — ``goodreads_book_id, tag_id, count``: keyed by the *Goodreads* id;
* ``to_read.csv`` (optional) — ``user_id, book_id``: keyed by ``book_id``;
* ``ratings.csv`` (optional) — ``user_id, book_id, rating``: keyed by ``book_id``.

A book becomes ``Book(external_id="goodbooks:<book_id>")`` with ``popularity`` = its Goodreads
``ratings_count`` (how many readers rated it on Goodreads, not just in this file). A tag a book carries
becomes a ``Link`` of kind ``tag`` and ``BookLink.count`` is how many users gave the book that tag.
Each goodbooks user becomes a Django user ``goodbooks-<user_id>`` with an unusable password and no email
(nobody signs in as one: it exists for the shelves training learns from) and the four standard shelves; ``to_read.csv`` fills
"Want to read" and ``ratings.csv`` fills "Read" with the rating.

goodbooks has no genre column: a book's ``genre`` is read from its tags (``GENRE_OF_TAG``), the two
genres most users tagged it with, named as Wikipedia's infoboxes name them so that browsing by genre and
the map's colours mean the same for both sources. Authors and the language code are normalised as Wikipedia's
are (``normalise``): "eng" and "en-US" read "English".
"""
from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

from django.db import connection, transaction

from books.importers.checks import INTEGER_MAX, checked_integer, checked_title
from books.importers.files import csv_records, require_file
from books.importers.matching import isbn_identifiers
from books.importers.normalise import normalise_authors, normalise_language
from books.importers.problems import BadLine, Problem, ProblemLog
from books.importers.report import ImportReport, Stopwatch, progress_bar
from books.importers.wording import shortened
from books.importers.writing import LINK_NAME_LIMIT, BookRecord, batched, catalogue_write, copy_rows
from books.models import Book, Link, Shelf
from books.services import IMPORTED_READER_PREFIX, STANDARD_SHELF_NAMES
from books.signals import catalogue_imported
from books.text import book_search_text, normalise_link_name

REQUIRED_COLUMNS = {
    "books.csv": ("book_id", "goodreads_book_id", "authors", "original_publication_year", "title", "ratings_count",
                  "image_url"),
    "tags.csv": ("tag_id", "tag_name"),
    "book_tags.csv": ("goodreads_book_id", "tag_id", "count"),
    "to_read.csv": ("user_id", "book_id"),
    "ratings.csv": ("user_id", "book_id", "rating"),
}
OPTIONAL_FILES = ("to_read.csv", "ratings.csv")
GENRE_OF_TAG = {
    "fantasy": "Fantasy", "urban-fantasy": "Fantasy", "paranormal": "Paranormal",
    "science-fiction": "Science fiction", "sci-fi": "Science fiction", "dystopian": "Dystopian",
    "romance": "Romance", "chick-lit": "Romance", "mystery": "Mystery", "crime": "Crime",
    "thriller": "Thriller", "suspense": "Thriller", "true-crime": "True crime", "horror": "Horror",
    "historical-fiction": "Historical novel", "classics": "Classics", "classic": "Classics",
    "non-fiction": "Non-fiction", "nonfiction": "Non-fiction", "young-adult": "Young adult", "ya": "Young adult",
    "biography": "Biography", "memoir": "Memoir", "poetry": "Poetry", "graphic-novels": "Graphic novel",
    "comics": "Graphic novel", "manga": "Graphic novel", "childrens": "Children's", "children": "Children's",
    "picture-books": "Children's", "middle-grade": "Children's", "humor": "Humour", "history": "History",
    "philosophy": "Philosophy", "religion": "Religion", "christian": "Religion", "psychology": "Psychology",
    "science": "Science", "self-help": "Self-help", "business": "Business", "short-stories": "Short stories",
    "plays": "Plays", "travel": "Travel", "politics": "Politics",
}
"""Reader tags that name a genre → the genre, as Wikipedia's infoboxes write it, in ``normalise_genres``' spelling.
Chosen from the most used tags of goodbooks-10k; generic ones ("fiction", "contemporary", "drama") say too little
to colour a map."""
GENRES_PER_BOOK = 2
READER_USERNAME = IMPORTED_READER_PREFIX + "{}"
NO_PHOTO = "/nophoto/"
ENTRY_BATCH_SIZE = 100_000
MAX_YEAR = 9999
_YEAR = re.compile(r"(-?[0-9]+)(?:\.0+)?")
"""A year as books.csv writes it, a whole number written as a float by pandas: "2008.0", "-720.0" (720 BC)."""


def goodbooks_import(*, folder: Path, skip_invalid: bool = False, batch_size: int = 2000, progress=None) -> ImportReport:
    """Import a goodbooks-10k folder in one transaction, or raise ``InvalidImport`` and write nothing.

    With ``skip_invalid`` bad rows (and rows that refer to them) are left out and listed in the report.
    """
    for name in REQUIRED_COLUMNS:
        if name not in OPTIONAL_FILES:
            require_file(folder / name, display_name=str(folder / name))
    report = ImportReport()
    clock = Stopwatch(report)
    problems = ProblemLog(skip_invalid=skip_invalid)
    reading = _Reading(folder, problems, progress)
    with clock("read books"):
        books = reading.books()
        reading.tags_onto(books)
        for book in books.values():
            book.genre = genre_from_tags(book.links)
    with clock("read shelves"):
        want_to_read = reading.to_read()
        read = reading.ratings()
    problems.raise_unless_skipping()
    report.problems = problems.problems

    writing_started = time.perf_counter()
    with transaction.atomic():
        with clock("write books"):
            book_ids = catalogue_write(books=list(books.values()), report=report, batch_size=batch_size,
                                       stream=progress)
        with clock("write shelves"):
            _write_shelves(want_to_read=want_to_read, read=read, books=books, book_ids=book_ids, report=report,
                           stream=progress)
    # Django's foreign keys are deferred: their checks run at commit, which is part of the import's time.
    report.seconds["commit"] = (time.perf_counter() - writing_started - report.seconds["write books"]
                                - report.seconds["write shelves"])
    books_seconds = report.seconds["read books"] + report.seconds["write books"]
    shelf_seconds = report.seconds["read shelves"] + report.seconds["write shelves"]
    report.rates = {"books": report.books / books_seconds, "tag pairs": report.book_links / books_seconds}
    if report.shelf_entries:
        report.rates["shelf pairs"] = report.shelf_entries / shelf_seconds
    catalogue_imported.send(sender=ImportReport, report=report)
    return report


class _Reading:
    """Reads and validates the folder's files in order; later files are checked against earlier ones."""

    def __init__(self, folder: Path, problems: ProblemLog, progress):
        self.folder, self.problems, self.progress = folder, problems, progress
        # Ids on invalid books.csv rows → the row's line, so that rows referring to them say why they are skipped.
        self.skipped_books: dict[tuple[str, int], int] = {}
        self.book_id_of_goodreads_id: dict[int, int] = {}
        self.book_ids: set[int] = set()

    def books(self) -> dict[int, BookRecord]:
        books: dict[int, BookRecord] = {}
        first_line: dict[tuple[str, int], int] = {}
        for number, row in self._rows("books.csv", on_invalid=self._remember_skipped):
            try:
                book_id = _integer(row, "book_id", minimum=1)
                goodreads_id = _integer(row, "goodreads_book_id", minimum=1)
                for column, value in (("book_id", book_id), ("goodreads_book_id", goodreads_id)):
                    if (column, value) in first_line:
                        raise BadLine(f"{value} is already used on line {first_line[column, value]}", column)
                books[book_id] = _book_record(row, book_id, goodreads_id)
            except BadLine as bad:
                self._problem("books.csv", number, bad)
                self._remember_skipped(number, row, except_column=bad.field)
                continue
            first_line["book_id", book_id] = first_line["goodreads_book_id", goodreads_id] = number
            self.book_id_of_goodreads_id[goodreads_id] = book_id
            self.book_ids.add(book_id)
        return books

    def tags_onto(self, books: dict[int, BookRecord]) -> None:
        tags: dict[int, tuple[str, str]] = {}
        for number, row in self._rows("tags.csv"):
            try:
                tag_id = _integer(row, "tag_id", minimum=0)
                display_name = " ".join(row["tag_name"].split())
                name = normalise_link_name(display_name)
                if not name:
                    raise BadLine("expected a tag name, got an empty string", "tag_name")
                if len(name) > LINK_NAME_LIMIT:
                    raise BadLine(f"a tag name is at most {LINK_NAME_LIMIT} characters", "tag_name")
                if tag_id in tags:
                    raise BadLine(f"{tag_id} is used twice", "tag_id")
            except BadLine as bad:
                self._problem("tags.csv", number, bad)
                continue
            tags[tag_id] = (name, display_name)

        for number, row in self._rows("book_tags.csv"):
            try:
                goodreads_id = _integer(row, "goodreads_book_id", minimum=1)
                book_id = self.book_id_of_goodreads_id.get(goodreads_id)
                if book_id is None:
                    self._check_not_skipped("goodreads_book_id", goodreads_id)
                    raise BadLine(f"unknown book {goodreads_id} (no books.csv row has this goodreads_book_id)",
                                  "goodreads_book_id")
                tag_id = _integer(row, "tag_id", minimum=0)
                if tag_id not in tags:
                    raise BadLine(f"unknown tag {tag_id} (not in tags.csv)", "tag_id")
                count = _integer(row, "count", minimum=1)
                name, display_name = tags[tag_id]
                links = books[book_id].links
                # Two tag ids may normalise to one name ("Favourites", "favourites"): their users add up.
                users = links.get(name, (display_name, Link.Kind.TAG, 0))[2] + count
                if users > INTEGER_MAX:
                    raise BadLine(f'the book\'s users of tag "{name}" add up to {users} with earlier rows, '
                                  f"more than {INTEGER_MAX}", "count")
            except BadLine as bad:
                self._problem("book_tags.csv", number, bad)
                continue
            links[name] = (display_name, Link.Kind.TAG, users)

    def to_read(self) -> set[tuple[int, int]]:
        entries: set[tuple[int, int]] = set()
        for number, row in self._rows("to_read.csv", optional=True):
            try:
                entries.add((_integer(row, "user_id", minimum=1), self._known_book_id(row)))
            except BadLine as bad:
                self._problem("to_read.csv", number, bad)
        return entries

    def ratings(self) -> dict[tuple[int, int], int]:
        ratings: dict[tuple[int, int], int] = {}
        for number, row in self._rows("ratings.csv", optional=True):
            try:
                key = (_integer(row, "user_id", minimum=1), self._known_book_id(row))
                rating = _integer(row, "rating", minimum=1)
                if rating > 5:
                    raise BadLine(f"expected a rating from 1 to 5, got {rating}", "rating")
            except BadLine as bad:
                self._problem("ratings.csv", number, bad)
                continue
            ratings[key] = rating
        return ratings

    def _known_book_id(self, row: dict[str, str]) -> int:
        book_id = _integer(row, "book_id", minimum=1)
        if book_id not in self.book_ids:
            self._check_not_skipped("book_id", book_id)
            raise BadLine(f"unknown book {book_id} (no books.csv row has this book_id)", "book_id")
        return book_id

    def _remember_skipped(self, number: int, row: dict[str, str], except_column: str | None = None) -> None:
        """Note the ids of the invalid books.csv row on line ``number`` (but not an id that is itself at fault)."""
        for column in ("book_id", "goodreads_book_id"):
            if column == except_column:
                continue
            try:
                value = checked_integer(row.get(column, "").strip(), column, minimum=1)
            except BadLine:  # no valid row can refer to it
                continue
            self.skipped_books.setdefault((column, value), number)

    def _check_not_skipped(self, column: str, value: int) -> None:
        line = self.skipped_books.get((column, value))
        if line is not None:
            raise BadLine(f"book {value} was skipped (books.csv:{line} is invalid)", column)

    def _rows(self, name: str, *, optional: bool = False, on_invalid=None):
        path = self.folder / name
        if optional and not path.exists():
            return
        display_name = str(path)
        with progress_bar(total=None, unit="row", description=f"Reading {name}", stream=self.progress) as bar:
            for number, row in csv_records(path, self.problems, display_name=display_name,
                                           required_columns=REQUIRED_COLUMNS[name], on_invalid=on_invalid):
                bar.update()
                yield number, row

    def _problem(self, name: str, number: int, bad: BadLine) -> None:
        self.problems.add(Problem(str(self.folder / name), number, bad.message, bad.field))


def genre_from_tags(links: dict[str, tuple[str, str, int]]) -> str:
    """The (at most two) genres most users tagged a book with, most tagged first: "Fantasy, Young adult"."""
    users_of_genre: dict[str, int] = {}
    for name, (_display_name, _kind, count) in links.items():
        if name in GENRE_OF_TAG:
            genre = GENRE_OF_TAG[name]
            users_of_genre[genre] = users_of_genre.get(genre, 0) + count
    ranked = sorted(users_of_genre, key=lambda genre: (-users_of_genre[genre], genre))
    return ", ".join(ranked[:GENRES_PER_BOOK])


def _book_record(row: dict[str, str], book_id: int, goodreads_id: int) -> BookRecord:
    title = checked_title(row["title"])
    author = normalise_authors(row["authors"])
    image_url = row["image_url"].strip()
    if image_url and not image_url.startswith(("http://", "https://")):
        raise BadLine(f"expected a URL, got {image_url[:40]!r}", "image_url")
    isbn = row.get("isbn", "").strip()
    return BookRecord(
        external_id=f"{Book.Source.GOODBOOKS}:{book_id}",
        source=Book.Source.GOODBOOKS,
        title=title,
        author=author,
        language=normalise_language(row.get("language_code", "")),
        publication_year=_publication_year(row["original_publication_year"].strip()),
        # The CSV lost ISBN-10s' leading zeros ("439023483").
        isbn=isbn.zfill(10) if isbn[:-1].isdigit() else isbn,
        cover_url="" if NO_PHOTO in image_url else image_url,
        metadata=row,
        search_text=book_search_text(title, author),
        popularity=_integer(row, "ratings_count", minimum=0),
        # books.csv's isbn13 is a float ("9.78043902348e+12") that lost its last digits: the ISBN-10 gives it whole.
        identifiers=[("goodreads", str(goodreads_id)), *isbn_identifiers(isbn)],
        other_titles=[row.get("original_title", "").strip()],
    )


def _publication_year(text: str) -> int | None:
    if not text:
        return None
    year = _YEAR.fullmatch(text)
    if year is None:
        raise BadLine(f"expected a year, got {shortened(text)!r}", "original_publication_year")
    return checked_integer(year[1], "original_publication_year", minimum=-MAX_YEAR, maximum=MAX_YEAR)


def _integer(row: dict[str, str], column: str, *, minimum: int) -> int:
    return checked_integer(row[column].strip(), column, minimum=minimum)


def _write_shelves(*, want_to_read: set[tuple[int, int]], read: dict[tuple[int, int], int],
                   books: dict[int, BookRecord], book_ids: dict[str, int], report: ImportReport, stream) -> None:
    """Readers (accounts nobody signs in as) with their standard shelves, then their entries, in COPY batches."""
    user_ids = sorted({user_id for user_id, _ in want_to_read} | {user_id for user_id, _ in read})
    if not user_ids:
        return
    db_book_id = {book_id: book_ids[record.external_id] for book_id, record in books.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DROP TABLE IF EXISTS import_reader, import_entry;
            CREATE TEMP TABLE import_reader (username text) ON COMMIT DROP;
            CREATE TEMP TABLE import_entry (shelf_id bigint, book_id bigint, rating smallint) ON COMMIT DROP;
            """
        )
        copy_rows(cursor, "import_reader", ("username",), ((READER_USERNAME.format(user_id),) for user_id in user_ids))
        cursor.execute("ANALYZE import_reader")
        # "!" starts an unusable password (Django's UNUSABLE_PASSWORD_PREFIX): no password logs in.
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                   is_active, date_joined)
            SELECT '!' || replace(gen_random_uuid()::text, '-', ''), false, username, '', '', '', false, true, now()
            FROM import_reader
            ON CONFLICT (username) DO NOTHING
            """
        )
        report.users_created = cursor.rowcount
        standard = ", ".join(["(%s, %s)"] * len(STANDARD_SHELF_NAMES))
        cursor.execute(
            f"""
            INSERT INTO books_shelf (user_id, name, kind, is_public, created_at)
            SELECT reader.id, standard.name, standard.kind, false, now()
            FROM import_reader JOIN auth_user AS reader ON reader.username = import_reader.username
            CROSS JOIN (VALUES {standard}) AS standard (kind, name)
            ON CONFLICT DO NOTHING
            """,
            [value for kind, name in STANDARD_SHELF_NAMES.items() for value in (kind.value, name)],
        )
        cursor.execute(
            """
            SELECT reader.username, shelf.kind, shelf.id
            FROM import_reader JOIN auth_user AS reader ON reader.username = import_reader.username
            JOIN books_shelf AS shelf ON shelf.user_id = reader.id AND shelf.kind = ANY(%s)
            """,
            [[Shelf.Kind.WANT_TO_READ.value, Shelf.Kind.READ.value]],
        )
        shelf_ids = {(username, kind): shelf_id for username, kind, shelf_id in cursor.fetchall()}
        want_to_read_shelf = {user_id: shelf_ids[READER_USERNAME.format(user_id), Shelf.Kind.WANT_TO_READ]
                              for user_id in user_ids}
        read_shelf = {user_id: shelf_ids[READER_USERNAME.format(user_id), Shelf.Kind.READ] for user_id in user_ids}
        # Generated batch by batch: a list of every entry's row would hold ~1.5 GB more at 20 million entries.
        entries = itertools.chain(
            ((want_to_read_shelf[user_id], db_book_id[book_id], None) for user_id, book_id in sorted(want_to_read)),
            ((read_shelf[user_id], db_book_id[book_id], rating) for (user_id, book_id), rating in sorted(read.items())),
        )
        total = len(want_to_read) + len(read)
        with progress_bar(total=total, unit="entry", description="Writing shelves", stream=stream) as bar:
            for batch in batched(entries, ENTRY_BATCH_SIZE):
                cursor.execute("TRUNCATE import_entry")
                copy_rows(cursor, "import_entry", ("shelf_id", "book_id", "rating"), batch)
                cursor.execute(
                    """
                    INSERT INTO books_shelfentry (shelf_id, book_id, added_at, rating)
                    SELECT shelf_id, book_id, now(), rating FROM import_entry
                    ON CONFLICT (shelf_id, book_id) DO UPDATE SET rating = EXCLUDED.rating
                        WHERE EXCLUDED.rating IS NOT NULL AND EXCLUDED.rating IS DISTINCT FROM books_shelfentry.rating
                    """
                )
                report.shelf_entries += len(batch)
                bar.update(len(batch))
        cursor.execute("DROP TABLE import_reader, import_entry")
        # Fresh statistics for the rows just written: the next reads join shelf entries with themselves (a new
        # version's shelf-mate inference), and a plan made for the empty table the autovacuum last saw ran for
        # tens of minutes on the bundled sample. ANALYZE sees this transaction's own rows.
        cursor.execute("ANALYZE books_shelf, books_shelfentry")
