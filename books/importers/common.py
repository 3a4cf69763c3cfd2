"""What every importer shares: problems with file, line and field; checks of the texts and whole numbers that
PostgreSQL will store; reading text files line by line; and writing books, links and book↔link pairs to
PostgreSQL in batches.

An import happens in two phases. First the whole input is read and validated into plain records; every
bad line becomes a ``Problem``. If there are problems and the caller did not ask to skip invalid lines,
``InvalidImport`` is raised before anything touches the database. Otherwise the records are written in
one transaction (the importer's), batch by batch: rows are streamed with ``COPY`` into temporary tables
and merged into the catalogue with ``INSERT ... ON CONFLICT``, so re-running an import updates rows
instead of duplicating them.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import json
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from tqdm import tqdm

from books.models import Book, Link

MAX_PROBLEMS_SHOWN = 20
INTEGER_MAX = 2_147_483_647
"""The largest value of PostgreSQL's ``integer`` (its smallest is ``-INTEGER_MAX - 1``)."""
_LONGEST_BOUND = 20
"""Digits of the longest bound ``checked_integer`` is given (any 64-bit number): a number with more, leading zeros
aside, is beyond it."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""A NUL, or a surrogate code point: what PostgreSQL's text cannot hold, or UTF-8 encode."""


class BadLine(ValueError):
    """Why one line cannot be imported, and which field is at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def check_text(value: str, field: str | None) -> None:
    """Refuse a NUL character, which PostgreSQL's text and jsonb cannot hold, and a surrogate code point (half of a
    UTF-16 pair on its own, as the JSON escape "\\ud800" reads), which UTF-8 cannot encode. Every text an importer
    stores passes here."""
    unstorable = _UNSTORABLE.search(value)  # one pass over the text: every cell of every file comes here
    if unstorable is None:
        return
    if unstorable[0] == "\x00":
        raise BadLine("contains a NUL character", field)
    raise BadLine(f"contains a surrogate character U+{ord(unstorable[0]):04X}", field)


def checked_integer(text: str, field: str, *, minimum: int, maximum: int = INTEGER_MAX) -> int:
    """``text`` as a whole number from ``minimum`` to ``maximum`` (by default the largest an ``integer`` column holds).

    A whole number is plain digits 0-9, with a minus sign if negative: not "+5", "9_0001", "4.0" or "1e3".
    """
    unsigned = text.removeprefix("-")
    if not (unsigned.isdigit() and unsigned.isascii()):  # as the regex -?[0-9]+, at a fraction of its cost
        raise BadLine(f"expected a whole number, got {shortened(text)!r}" if text else
                      "expected a whole number, got nothing", field)
    significant = unsigned.lstrip("0") or "0"
    if len(significant) > _LONGEST_BOUND:  # beyond either bound: int() of thousands of digits is slow, or refused
        bound = f"at least {minimum}" if text.startswith("-") else f"at most {maximum}"
        raise BadLine(f"expected a number of {bound}, got {shortened(text)}", field)
    number = -int(significant) if text.startswith("-") else int(significant)
    if number < minimum:
        raise BadLine(f"expected a number of at least {minimum}, got {shortened(text)}", field)
    if number > maximum:
        raise BadLine(f"expected a number of at most {maximum}, got {shortened(text)}", field)
    return number


def checked_title(text: str) -> str:
    """A book's title with runs of whitespace folded, refused when empty or longer than the catalogue holds."""
    check_text(text, "title")
    title = " ".join(text.split())
    if not title:
        raise BadLine("expected a title, got an empty string", "title")
    if len(title) > TITLE_LIMIT:
        raise BadLine(f"expected at most {TITLE_LIMIT} characters, got {len(title)}", "title")
    return title


def type_name(value) -> str:
    """A JSON value's type in words: object, list, string, integer, number, boolean, null."""
    return {dict: "object", list: "list", str: "string", int: "integer", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def shortened(text: str) -> str:
    """``text`` for an error message: its first 40 characters, and "…" if there are more."""
    return text if len(text) <= 40 else text[:40] + "…"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, in the plural (``noun`` + "s" unless given) unless ``number`` is 1: "1 book",
    "2,000 books", "3 shelf entries"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def describe(value) -> str:
    """A value for an error message: its type, and the value itself if it is short and scalar."""
    if isinstance(value, str):
        return f"string {shortened(value)!r}" if value.strip() else "an empty string"
    if isinstance(value, bool | int | float):
        return f"{type_name(value)} {value!r}"
    return type_name(value)


@dataclass(frozen=True)
class Problem:
    """One bad line: ``data.ndjson:17: field "infobox": expected an object, got list``."""

    file: str
    line: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = f'field "{self.field}": {self.message}' if self.field else self.message
        return f"{where}: {what}"


class InvalidImport(Exception):
    """The input has problems and nothing was written; ``problems`` lists every one found. ``whole_input`` when
    the last of them makes the whole input unusable (no such file, a missing column, a corrupt file), so
    skipping bad lines cannot help."""

    def __init__(self, problems: list[Problem], *, whole_input: bool = False):
        self.problems = list(problems)
        self.whole_input = whole_input
        super().__init__(format_problems(self.problems))


def format_problems(problems: list[Problem], *, limit: int = MAX_PROBLEMS_SHOWN) -> str:
    """The first ``limit`` problems, one a line, and how many more there are."""
    lines = [str(problem) for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more (--report FILE lists them all)")
    return "\n".join(lines)


class ProblemLog:
    """The problems found while reading one import's input; ``skip_invalid`` says whether they are fatal."""

    def __init__(self, *, skip_invalid: bool):
        self.skip_invalid = skip_invalid
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def fatal(self, problem: Problem) -> InvalidImport:
        """A problem that makes the whole input unusable (a missing column, a corrupt file): stop now."""
        self.problems.append(problem)
        return InvalidImport(self.problems, whole_input=True)

    def raise_unless_skipping(self) -> None:
        if self.problems and not self.skip_invalid:
            raise InvalidImport(self.problems)


@dataclass
class ImportReport:
    """What an import did: rows written, lines skipped (with why), and how long each phase took."""

    books_created: int = 0
    books_updated: int = 0
    links_created: int = 0
    book_links: int = 0
    users_created: int = 0
    shelf_entries: int = 0
    not_books: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)

    @property
    def books(self) -> int:
        return self.books_created + self.books_updated

    def summary(self) -> str:
        parts = [
            f"{counted(self.books, 'book')} ({self.books_created:,} new, {self.books_updated:,} updated)",
            counted(self.links_created, "new link"),
            counted(self.book_links, "book link"),
        ]
        if self.users_created or self.shelf_entries:
            parts += [counted(self.users_created, "new reader"),
                      counted(self.shelf_entries, "shelf entry", "shelf entries")]
        phases = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in self.seconds.items())
        text = "Imported " + ", ".join(parts) + f" in {sum(self.seconds.values()):.1f} s [{phases}]"
        if self.rates:
            text += " (" + ", ".join(f"{value:,.0f} {name}/s" for name, value in self.rates.items()) + ")"
        text += "."
        if self.not_books:
            text += f" Left out {counted(self.not_books, 'page that is not a book', 'pages that are not books')}."
        if self.problems:
            text += f"\nSkipped {counted(len(self.problems), 'invalid line')}:\n" + format_problems(self.problems)
        return text


class Stopwatch:
    """Times named phases into ``report.seconds``."""

    def __init__(self, report: ImportReport):
        self.report = report

    def __call__(self, phase: str):
        return _Phase(self.report, phase)


class _Phase:
    def __init__(self, report: ImportReport, phase: str):
        self.report, self.phase = report, phase

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.elapsed = time.perf_counter() - self.started
        self.report.seconds[self.phase] = self.report.seconds.get(self.phase, 0.0) + self.elapsed


def numbered_lines(path: Path, problems: ProblemLog, *, display_name: str) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(line number, text, ends with a newline)`` for each line of a UTF-8 text file (gzip read transparently).

    A byte order mark at the start (as Excel saves) is left out. A line that is not UTF-8 becomes a problem and is
    not yielded; a corrupt or cut-off gzip stream is fatal.
    """
    opener = gzip.open if _is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    problems.add(Problem(display_name, number, f"not UTF-8 text (byte 0x{raw[error.start]:02x} "
                                                               f"at column {error.start + 1})"))
                    continue
                yield number, text, text.endswith("\n")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise problems.fatal(Problem(display_name, number + 1, f"the gzip file is truncated or corrupt ({error})")) from error


def require_file(path: Path, *, display_name: str) -> None:
    """Raise ``InvalidImport`` if ``path`` is not a readable file."""
    if path.is_dir():
        raise InvalidImport([Problem(display_name, None, "a folder, not a file")], whole_input=True)
    if not path.is_file():
        raise InvalidImport([Problem(display_name, None, "no such file")], whole_input=True)


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


def progress_bar(*, total: int, unit: str, description: str, stream) -> tqdm:
    """A tqdm bar with counts and rate on ``stream`` (stderr), silent when ``stream`` is None."""
    return tqdm(total=total, unit=unit, unit_scale=True, desc=description, file=stream, disable=stream is None,
                dynamic_ncols=True, leave=True)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


# --- writing ---------------------------------------------------------------------------------------

BOOK_TEXT_LIMITS = {
    name: Book._meta.get_field(name).max_length
    for name in ("title", "author", "genre", "country", "language", "publisher", "pages_raw", "isbn", "cover_url")
}
LINK_NAME_LIMIT = Link._meta.get_field("name").max_length
TITLE_LIMIT = Book._meta.get_field("title").max_length


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


def csv_records(path: Path, problems: ProblemLog, *, display_name: str, required_columns: tuple[str, ...],
                on_invalid: Callable[[int, dict[str, str]], None] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, {column: value})`` for each row of a UTF-8 CSV file with a header.

    A missing required column, or a header that ``check_text`` refuses, is fatal; a row with too few or too many
    values, or a value that ``check_text`` refuses, becomes a problem naming the first missing column or the column
    at fault (a cut-off last row reads as truncation), and is passed with the values it has to ``on_invalid``.
    """
    state = {"start": None, "complete": True}

    def lines():
        for number, text, complete in numbered_lines(path, problems, display_name=display_name):
            if state["start"] is None:
                state["start"] = number
            state["complete"] = complete
            yield text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        raise problems.fatal(Problem(display_name, 1, "the file is empty (expected a header row)")) from None
    except csv.Error as error:
        raise problems.fatal(Problem(display_name, 1, f"unreadable header row ({error})")) from None
    header = [column.strip() for column in header]
    for index, column in enumerate(header, start=1):
        try:
            check_text(column, field=None)  # the column's name is at fault: it is named by its place
        except BadLine as bad:
            raise problems.fatal(Problem(display_name, 1, f"column {index} of the header {bad.message}")) from None
    for column in required_columns:
        if column not in header:
            raise problems.fatal(Problem(display_name, 1, f"missing required column (header: {','.join(header)})",
                                         column))
    state["start"] = None
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(Problem(display_name, state["start"], f"unreadable CSV row ({error})"))
            state["start"] = None
            continue
        number, state["start"] = state["start"], None
        if not values:
            continue
        row = dict(zip(header, values))
        try:
            if len(values) < len(header):
                cut = "; the file ends in the middle of this row (truncated?)" if not state["complete"] else ""
                raise BadLine(f"missing: the row has {len(values)} of {len(header)} columns{cut}", header[len(values)])
            if len(values) > len(header):
                raise BadLine(f"the row has {len(values)} values for {len(header)} columns")
            for column, value in row.items():
                check_text(value, column)
        except BadLine as bad:
            problems.add(Problem(display_name, number, bad.message, bad.field))
            if on_invalid is not None:
                on_invalid(number, row)
            continue
        yield number, row
