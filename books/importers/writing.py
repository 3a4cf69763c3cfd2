"""Writing imported books, links and book↔link pairs to the catalogue in batches.

Records are written in one transaction (the importer's), batch by batch: rows are streamed with ``COPY`` into
temporary tables and merged into the catalogue with ``INSERT ... ON CONFLICT``, so re-running an import updates
rows instead of duplicating them.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction

from books.genres import genres_of
from books.importers.authors import contributions_write
from books.importers.merging import Match, catalogue_matches
from books.importers.report import ImportReport, Stopwatch, progress_bar
from books.merges import SNAPSHOT_FIELDS
from books.models import Book, BookMerge, Link
from books.series import series_assign
from books.signals import catalogue_imported
from books.staff_given import staff_given_reapply

BOOK_TEXT_LIMITS = {
    name: Book._meta.get_field(name).max_length
    for name in ("title", "author", "genre", "country", "language", "publisher", "pages_raw", "isbn", "cover_url")
}
LINK_NAME_LIMIT = Link._meta.get_field("name").max_length


@dataclass
class BookRecord:
    """One book ready to write, with its links as ``{normalised name: (display name, kind, count)}``."""

    external_id: str
    source: str
    title: str
    author: str = ""
    genre: str = ""
    country: str = ""
    language: str = ""
    publisher: str = ""
    pages: int | None = None
    pages_raw: str = ""
    publication_year: int | None = None
    isbn: str = ""
    cover_url: str = ""
    metadata: dict = field(default_factory=dict)
    article_length: int | None = None
    search_text: str = ""
    popularity: int = 0
    links: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    """Identifiers besides its source's own (``external_id``): ``[("goodreads", "2767052"), ("isbn13", …)]``."""
    other_titles: list[str] = field(default_factory=list)
    """Other titles the source gives the book (goodbooks' ``original_title``), for matching only."""
    contributors: list[tuple[str, str]] = field(default_factory=list)
    """People besides the authors, where the source names their role: ``[("Richard Pevear", "translator")]``."""

    def people(self) -> list[tuple[str, str]]:
        """``(name, role)`` of everyone the book names: its authors, then the other contributors."""
        authors = [(name.strip(), "author") for name in self.author.split(",") if name.strip()]
        return [*authors, *((name, role) for name, role in self.contributors if (name, role) not in authors)]

    def primary_identifier(self) -> tuple[str, str]:
        """``external_id`` as ``(scheme, value)``: ``goodbooks:1`` is ``("goodbooks", "1")``."""
        return self.source, self.external_id.removeprefix(f"{self.source}:")

    def all_identifiers(self) -> list[tuple[str, str]]:
        return [self.primary_identifier(), *self.identifiers]

    def titles(self) -> list[str]:
        return [self.title, *(title for title in self.other_titles if title and title != self.title)]

    def __post_init__(self):
        self.genre = ", ".join(genres_of(self.genre))  # the source's value stays in metadata
        for name, limit in BOOK_TEXT_LIMITS.items():
            value = getattr(self, name)
            if len(value) > limit:  # the full value stays in metadata
                setattr(self, name, value[: limit - 1] + "…")


_BOOK_COLUMNS = ("external_id", "source", "title", "author", "genre", "country", "language", "publisher", "pages",
                 "pages_raw", "publication_year", "isbn", "cover_url", "metadata", "article_length", "search_text",
                 "popularity")


def catalogue_import_books(*, books: list[BookRecord], report: ImportReport, clock: Stopwatch, batch_size: int,
                           stream) -> ImportReport:
    """Writes ``books`` in one transaction (timed as "write"), sets the report's books and pairs a second, and
    sends ``catalogue_imported``; returns the report. For an import that writes books alone."""
    with clock("write"), transaction.atomic():
        catalogue_write(books=books, report=report, batch_size=batch_size, stream=stream)
    seconds = sum(report.seconds.values()) or float("inf")
    report.rates = {"books": report.books / seconds, "pairs": report.book_links / seconds}
    catalogue_imported.send(sender=ImportReport, report=report)
    return report


def catalogue_write(*, books: list[BookRecord], report: ImportReport, batch_size: int, stream) -> dict[str, int]:
    """Upsert ``books`` (on external_id), their identifiers, their links (on name) and book↔link pairs (on book,
    link); a record that is a book of another source (``books.importers.merging``) is merged into it instead.

    A merged record fills the book's blank fields (the source the book came from first keeps its values; the
    larger popularity wins), adds its title to what search finds the book by and its raw row to the book's metadata
    under its source's name, and brings its identifiers and links; each new merge is a ``BookMerge`` row. An
    identifier another book already carries stays with that book. Each book's series and place in it
    (``books.series``) are derived again from what it now holds. A re-imported book's pairs from this source
    become exactly the ones given: pairs it no longer has are deleted, other sources' pairs are kept.
    A link name shared with another source (the tag "fantasy", the wikilink "Fantasy") is one link, keeping
    the kind it was first imported with. Values staff gave a book (``books.staff_given``) are written over the
    source's: staff-given beats any source. Must run inside a transaction, which it makes the only writer of
    book-link pairs until it ends; returns ``{external_id: book id}``. It takes that table lock before any row
    lock: another writer that locks book or link rows and then writes pairs must take the same order (lock
    ``books_booklink`` first), or the two can deadlock.
    """
    book_ids: dict[str, int] = {}
    with connection.cursor() as cursor:
        # Other writers of book-link pairs (another import, a book deleted in the admin) wait until this one
        # commits, so the absolute recount below cannot overwrite a count they change meanwhile. Readers do not wait.
        cursor.execute("LOCK TABLE books_booklink IN SHARE ROW EXCLUSIVE MODE")
        _create_staging_tables(cursor)
        cursor.execute("SET LOCAL bookvec.link_counts_deferred = on")  # recounted once below, not batch by batch
        matches = catalogue_matches(cursor, books)
        with progress_bar(total=len(books), unit="book", description="Writing books", stream=stream) as bar:
            for batch in batched(books, batch_size):
                book_ids.update(_write_book_batch(cursor, batch, report, matches))
                bar.update(len(batch))
        contributions_write(cursor, books, book_ids)
        staff_given_reapply(cursor, set(book_ids.values()))  # staff-given beats any source
        _book_genres_write(cursor, sorted(set(book_ids.values())))
        series_assign(book_ids=book_ids.values())
        _link_book_counts_recount(cursor)
        cursor.execute("SET LOCAL bookvec.link_counts_deferred = off")
        cursor.execute("DROP TABLE import_book, import_merge, import_link, import_pair, import_identifier")
    return book_ids


def _book_genres_write(cursor, book_ids: list[int]) -> None:
    """Relate each of the books to the genres its ``genre`` names (a merged book's, filled by either source)."""
    cursor.execute("DELETE FROM books_genre_books WHERE book_id = ANY(%s)", [book_ids])
    cursor.execute(
        """
        INSERT INTO books_genre_books (genre_id, book_id)
        SELECT DISTINCT genre.id, book.id FROM books_book AS book, regexp_split_to_table(book.genre, ',') AS entry
        JOIN books_genre AS genre ON genre.name = trim(entry)
        WHERE book.id = ANY(%s)
        """,
        [book_ids],
    )


def _link_book_counts_recount(cursor) -> None:
    """Set every link's ``book_count`` from its pairs (a statement's triggers keep it so otherwise: migration
    0005), changing only the links whose count differs."""
    # Fresh statistics first: the import has just written most of these rows, and on the planner's stale figures
    # (no rows, before autovacuum has looked) the recount became a nested loop over links × pairs that ran for
    # tens of minutes on a few thousand links. ANALYZE sees this transaction's own rows.
    cursor.execute("ANALYZE books_link, books_booklink")
    cursor.execute(
        """
        UPDATE books_link AS link SET book_count = counted.n
        FROM (SELECT every.id, count(pair.link_id) AS n FROM books_link AS every
              LEFT JOIN books_booklink AS pair ON pair.link_id = every.id GROUP BY every.id) AS counted
        WHERE link.id = counted.id AND link.book_count <> counted.n
        """
    )


def _create_staging_tables(cursor) -> None:
    cursor.execute(
        """
        DROP TABLE IF EXISTS import_book, import_merge, import_link, import_pair, import_identifier;
        CREATE TEMP TABLE import_book (
            external_id text, source text, title text, author text, genre text, country text, language text,
            publisher text, pages integer, pages_raw text, publication_year integer, isbn text, cover_url text,
            metadata text, article_length integer, search_text text, popularity integer
        ) ON COMMIT DROP;
        CREATE TEMP TABLE import_merge (LIKE import_book, book_id bigint) ON COMMIT DROP;
        CREATE TEMP TABLE import_link (name text, display_name text, kind text) ON COMMIT DROP;
        CREATE TEMP TABLE import_pair (book_id bigint, link_id bigint, count integer) ON COMMIT DROP;
        CREATE TEMP TABLE import_identifier (book_id bigint, scheme text, value text) ON COMMIT DROP;
        """
    )


def _write_book_batch(cursor, batch: list[BookRecord], report: ImportReport,
                      matches: dict[str, Match]) -> dict[str, int]:
    # updated_at is the time of the write, not of the transaction's start (now()): the map's and the search
    # vocabulary's caches see a change by the newest updated_at, and an admin edit committed while a long import
    # ran must not leave the import's later-committed books looking older than it.
    cursor.execute("TRUNCATE import_book, import_merge, import_link, import_pair, import_identifier")
    source = batch[0].source
    merged = [book for book in batch if book.external_id in matches]
    batch_own = [book for book in batch if book.external_id not in matches]
    copy_rows(cursor, "import_book", _BOOK_COLUMNS, (_book_row(book) for book in batch_own))
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in _BOOK_COLUMNS if column != "external_id")
    columns = ", ".join(_BOOK_COLUMNS)
    cursor.execute(
        f"""
        INSERT INTO books_book ({columns}, created_at, updated_at)
        SELECT {columns.replace("metadata", "metadata::jsonb")}, now(), clock_timestamp() FROM import_book
        ON CONFLICT (external_id) DO UPDATE SET {assignments}, updated_at = clock_timestamp()
        RETURNING external_id, id, (xmax = 0) AS created
        """
    )
    book_ids, updated_ids = {}, []
    for external_id, book_id, created in cursor.fetchall():
        book_ids[external_id] = book_id
        if not created:
            updated_ids.append(book_id)
    report.books_created += len(book_ids) - len(updated_ids)
    report.books_updated += len(updated_ids)
    if merged:
        _merge_books(cursor, merged, matches, report)
        for book in merged:
            book_ids[book.external_id] = matches[book.external_id].book_id
    copy_rows(cursor, "import_identifier", ("book_id", "scheme", "value"), (
        (book_ids[book.external_id], scheme, value) for book in batch for scheme, value in book.all_identifiers()
    ))
    cursor.execute(
        """
        INSERT INTO books_bookidentifier (book_id, scheme, value) SELECT DISTINCT ON (scheme, value) * FROM import_identifier
        ON CONFLICT (scheme, value) DO NOTHING
        """
    )

    links: dict[str, tuple[str, str]] = {}
    for book in batch:
        for name, (display_name, kind, _count) in book.links.items():
            links.setdefault(name, (display_name, kind))
    copy_rows(cursor, "import_link", ("name", "display_name", "kind"),
              ((name, display_name, kind) for name, (display_name, kind) in links.items()))
    cursor.execute(
        """
        INSERT INTO books_link (name, display_name, kind) SELECT name, display_name, kind FROM import_link
        ON CONFLICT (name) DO NOTHING
        """
    )
    report.links_created += cursor.rowcount
    cursor.execute("SELECT link.name, link.id FROM books_link AS link JOIN import_link USING (name)")
    link_ids = dict(cursor.fetchall())

    # Pairs go in by id: no join against catalogue tables whose statistics an import outdates as it grows.
    copy_rows(cursor, "import_pair", ("book_id", "link_id", "count"), (
        (book_ids[book.external_id], link_ids[name], count)
        for book in batch for name, (_display, _kind, count) in book.links.items()
    ))
    rewritten = updated_ids + [matches[book.external_id].book_id for book in merged]
    if rewritten:
        # This source's pairs only (an empty source is the book's own, written before pairs named theirs).
        cursor.execute(
            """
            DELETE FROM books_booklink AS pair
            WHERE pair.book_id = ANY(%s)
              AND (pair.source = %s OR pair.source = '' AND pair.book_id = ANY(%s))
              AND NOT EXISTS (
                SELECT 1 FROM import_pair WHERE import_pair.book_id = pair.book_id AND import_pair.link_id = pair.link_id
            )
            """,
            [rewritten, source, updated_ids],
        )
    # A pair another source gave the book already (the tag "fantasy" and the wikilink "Fantasy") stays theirs.
    cursor.execute(
        """
        INSERT INTO books_booklink (book_id, link_id, count, source)
        SELECT book_id, link_id, count, %s FROM import_pair
        ON CONFLICT (book_id, link_id) DO UPDATE SET count = EXCLUDED.count, source = EXCLUDED.source
            WHERE books_booklink.source IN (EXCLUDED.source, '')
              AND (books_booklink.count <> EXCLUDED.count OR books_booklink.source <> EXCLUDED.source)
        """,
        [source],
    )
    report.book_links += sum(len(book.links) for book in batch)
    return book_ids


def _book_row(book: BookRecord) -> tuple:
    return tuple(json.dumps(book.metadata, ensure_ascii=False) if column == "metadata" else getattr(book, column)
                 for column in _BOOK_COLUMNS)


_FILLED_BY_MERGE = ("author", "genre", "country", "language", "publisher", "pages_raw", "isbn", "cover_url")
_FILLED_BY_MERGE_NUMBERS = ("pages", "publication_year", "article_length")


def _merge_books(cursor, merged: list[BookRecord], matches: dict[str, Match], report: ImportReport) -> None:
    """Merge records of another source into the books they match: fill blanks, keep the larger popularity, add the
    title to search and the raw row to metadata under the record's source; record each new merge."""
    copy_rows(cursor, "import_merge", (*_BOOK_COLUMNS, "book_id"),
              ((*_book_row(book), matches[book.external_id].book_id) for book in merged))
    fills = ", ".join([*(f"{column} = CASE WHEN book.{column} = '' THEN merge.{column} ELSE book.{column} END"
                         for column in _FILLED_BY_MERGE),
                       *(f"{column} = coalesce(book.{column}, merge.{column})" for column in _FILLED_BY_MERGE_NUMBERS)])
    cursor.execute(
        f"""
        UPDATE books_book AS book SET {fills},
            popularity = greatest(book.popularity, merge.popularity),
            metadata = book.metadata || jsonb_build_object(merge.source, merge.metadata::jsonb),
            search_text = CASE WHEN position(merge.search_text IN book.search_text) > 0 THEN book.search_text
                               ELSE book.search_text || ' ' || merge.search_text END,
            updated_at = clock_timestamp()
        FROM import_merge AS merge WHERE book.id = merge.book_id
        """
    )
    new = [book for book in merged if matches[book.external_id].is_new]
    BookMerge.objects.bulk_create([
        BookMerge(book_id=matches[book.external_id].book_id, source=book.source, external_id=book.external_id,
                  identifiers=[f"{scheme}:{value}" for scheme, value in book.all_identifiers()],
                  method=matches[book.external_id].method, reason=matches[book.external_id].reason,
                  snapshot={**{name: getattr(book, name) for name in SNAPSHOT_FIELDS}, "people_named": book.people()})
        for book in new
    ])
    report.books_merged += len(new)
    report.books_updated += len(merged) - len(new)


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Stream ``rows`` into ``table`` with PostgreSQL's COPY (psycopg 3)."""
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of at most ``size`` items."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
