"""Writing imported books, links and book↔link pairs to the catalogue in batches.

Records are written in one transaction (the importer's), batch by batch: rows are streamed with ``COPY`` into
temporary tables and merged into the catalogue with ``INSERT ... ON CONFLICT``, so re-running an import updates
rows instead of duplicating them.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection

from books.importers.report import ImportReport, progress_bar
from books.models import Book, Link

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

    def __post_init__(self):
        for name, limit in BOOK_TEXT_LIMITS.items():
            value = getattr(self, name)
            if len(value) > limit:  # the full value stays in metadata
                setattr(self, name, value[: limit - 1] + "…")


_BOOK_COLUMNS = ("external_id", "source", "title", "author", "genre", "country", "language", "publisher", "pages",
                 "pages_raw", "publication_year", "isbn", "cover_url", "metadata", "article_length", "search_text",
                 "popularity")


def catalogue_write(*, books: list[BookRecord], report: ImportReport, batch_size: int, stream) -> dict[str, int]:
    """Upsert ``books`` (on external_id), their links (on name) and book↔link pairs (on book, link).

    A re-imported book's pairs become exactly the ones given: pairs it no longer has are deleted.
    A link name shared with another source (the tag "fantasy", the wikilink "Fantasy") is one link, keeping
    the kind it was first imported with. Must run inside a transaction, which it makes the only writer of
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
        with progress_bar(total=len(books), unit="book", description="Writing books", stream=stream) as bar:
            for batch in batched(books, batch_size):
                book_ids.update(_write_book_batch(cursor, batch, report))
                bar.update(len(batch))
        _link_book_counts_recount(cursor)
        cursor.execute("SET LOCAL bookvec.link_counts_deferred = off")
        cursor.execute("DROP TABLE import_book, import_link, import_pair")
    return book_ids


def _link_book_counts_recount(cursor) -> None:
    """Set every link's ``book_count`` from its pairs (a statement's triggers keep it so otherwise: migration
    0005), changing only the links whose count differs."""
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
        DROP TABLE IF EXISTS import_book, import_link, import_pair;
        CREATE TEMP TABLE import_book (
            external_id text, source text, title text, author text, genre text, country text, language text,
            publisher text, pages integer, pages_raw text, publication_year integer, isbn text, cover_url text,
            metadata text, article_length integer, search_text text, popularity integer
        ) ON COMMIT DROP;
        CREATE TEMP TABLE import_link (name text, display_name text, kind text) ON COMMIT DROP;
        CREATE TEMP TABLE import_pair (book_id bigint, link_id bigint, count integer) ON COMMIT DROP;
        """
    )


def _write_book_batch(cursor, batch: list[BookRecord], report: ImportReport) -> dict[str, int]:
    # updated_at is the time of the write, not of the transaction's start (now()): the map's and the search
    # vocabulary's caches see a change by the newest updated_at, and an admin edit committed while a long import
    # ran must not leave the import's later-committed books looking older than it.
    cursor.execute("TRUNCATE import_book, import_link, import_pair")
    copy_rows(cursor, "import_book", _BOOK_COLUMNS, (
        tuple(json.dumps(book.metadata, ensure_ascii=False) if column == "metadata" else getattr(book, column)
              for column in _BOOK_COLUMNS)
        for book in batch
    ))
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
    if updated_ids:
        cursor.execute(
            """
            DELETE FROM books_booklink AS pair
            WHERE pair.book_id = ANY(%s) AND NOT EXISTS (
                SELECT 1 FROM import_pair WHERE import_pair.book_id = pair.book_id AND import_pair.link_id = pair.link_id
            )
            """,
            [updated_ids],
        )
    cursor.execute(
        """
        INSERT INTO books_booklink (book_id, link_id, count)
        SELECT book_id, link_id, count FROM import_pair
        ON CONFLICT (book_id, link_id) DO UPDATE SET count = EXCLUDED.count
            WHERE books_booklink.count <> EXCLUDED.count
        """
    )
    report.book_links += sum(len(book.links) for book in batch)
    return book_ids


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
