"""Import Wikipedia book articles from the original notebook's ndjson dump (plain or gzipped).

Each line is one JSON array: ``[title, infobox, wikilinks, external links, last-edit timestamp, article
length]``. Pages in a non-article namespace (``Wikipedia:WikiProject ...``) are not books and are left
out. A book becomes ``Book(external_id="wikipedia:<title>")`` with the infobox's display text; each page
it links to becomes a ``Link`` (kind ``category`` for ``Category:`` pages), and ``BookLink.count`` says
how many times the article links it. Every link is kept: which ones training ignores is the trainer's
business.
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

from books.importers.checks import INTEGER_MAX, check_text, checked_title
from books.importers.files import numbered_lines, require_file
from books.importers.infobox import contributors_of, parse_infobox
from books.importers.matching import isbn_identifiers
from books.importers.problems import BadLine, Problem, ProblemLog
from books.importers.report import ImportReport, Stopwatch, progress_bar
from books.importers.wording import describe, type_name
from books.importers.writing import LINK_NAME_LIMIT, BookRecord, catalogue_import_books
from books.models import Book, Link
from books.text import book_search_text, normalise_link_name

FIELDS = ("title", "infobox", "wikilinks", "external_links", "last_edit", "article_length")
NON_ARTICLE_NAMESPACES = frozenset({
    "wikipedia", "wikipedia talk", "wp", "user", "user talk", "talk", "template", "template talk", "draft",
    "portal", "category", "file", "image", "help", "module", "mediawiki", "special", "book",
})


def wikipedia_books_import(
    *, path: Path, skip_invalid: bool = False, batch_size: int = 2000, progress=None
) -> ImportReport:
    """Import every book of ``path`` in one transaction, or raise ``InvalidImport`` and write nothing.

    With ``skip_invalid`` bad lines are left out and listed in the report instead. ``progress`` is a
    stream (stderr) for progress bars, or None.
    """
    display_name = str(path)
    require_file(path, display_name=display_name)
    report = ImportReport()
    clock = Stopwatch(report)
    problems = ProblemLog(skip_invalid=skip_invalid)
    with clock("read"):
        books = read_wikipedia_books(path, problems=problems, report=report, display_name=display_name,
                                     progress=progress)
    problems.raise_unless_skipping()
    report.problems = problems.problems
    return catalogue_import_books(books=books, report=report, clock=clock, batch_size=batch_size, stream=progress)


def read_wikipedia_books(path: Path, *, problems: ProblemLog, report: ImportReport, display_name: str,
                         progress=None) -> list[BookRecord]:
    """Every valid book of the file (a title seen twice: the later line wins); bad lines go to ``problems``."""
    books: dict[str, BookRecord] = {}
    with progress_bar(total=None, unit="line", description=f"Reading {path.name}", stream=progress) as bar:
        for number, text, complete in numbered_lines(path, problems, display_name=display_name):
            bar.update()
            if not text.strip():
                continue
            try:
                book = book_from_line(text, complete=complete)
            except BadLine as bad:
                problems.add(Problem(display_name, number, bad.message, bad.field))
                continue
            if book is None:
                report.not_books += 1
            else:
                books[book.external_id] = book
    return list(books.values())


def book_from_line(text: str, *, complete: bool = True) -> BookRecord | None:
    """Parse and validate one ndjson line; ``None`` for a page that is not a book. Raises ``BadLine``.

    ``complete`` is False for a last line with no newline, which makes a JSON error read as truncation.
    """
    try:
        # Stripped, so that an error at the end of the line is not "column 1" of the next.
        row = json.loads(text.rstrip("\r\n"), parse_constant=_refuse_constant, parse_int=_json_integer)
    except json.JSONDecodeError as error:
        cut = "; the file ends in the middle of this line (truncated?)" if not complete else ""
        raise BadLine(f"malformed JSON: {error.msg} at column {error.colno}{cut}") from None
    if not isinstance(row, list):
        raise BadLine(f"expected a JSON array [{', '.join(FIELDS)}], got {type_name(row)}")
    if len(row) != len(FIELDS):
        raise BadLine(f"expected {len(FIELDS)} fields [{', '.join(FIELDS)}], got {len(row)}")
    title, infobox, wikilinks, external_links, last_edit, article_length = row

    if not isinstance(title, str) or not title.strip():
        raise BadLine(f"expected a non-empty string, got {describe(title)}", "title")
    title = checked_title(title)
    if is_non_article(title):
        return None
    infobox = _checked_infobox(infobox)
    links = _checked_links(wikilinks)
    _check_string_list(external_links, "external_links")
    _check_timestamp(last_edit)
    if isinstance(article_length, bool) or not isinstance(article_length, int):
        raise BadLine(f"expected an integer, got {describe(article_length)}", "article_length")
    if not 0 <= article_length <= INTEGER_MAX:
        raise BadLine(f"expected a length from 0 to {INTEGER_MAX}, got {article_length}", "article_length")

    fields = parse_infobox(infobox)
    return BookRecord(
        external_id=f"{Book.Source.WIKIPEDIA}:{title}",
        source=Book.Source.WIKIPEDIA,
        title=title,
        author=fields.author,
        genre=fields.genre,
        country=fields.country,
        language=fields.language,
        publisher=fields.publisher,
        pages=fields.pages,
        pages_raw=fields.pages_raw,
        publication_year=fields.publication_year,
        isbn=fields.isbn,
        cover_url=fields.cover_url,
        metadata=infobox,
        article_length=article_length,
        search_text=book_search_text(title, fields.author),
        links=links,
        identifiers=isbn_identifiers(fields.isbn),
        contributors=contributors_of(infobox),
    )


def is_non_article(title: str) -> bool:
    """Whether ``title`` names a project page rather than an article ("Wikipedia:WikiProject Novels")."""
    namespace, colon, _ = title.partition(":")
    return bool(colon) and namespace.strip().lower() in NON_ARTICLE_NAMESPACES


def _refuse_constant(name: str):
    """Python's json reads NaN, Infinity and -Infinity, which JSON does not have."""
    raise BadLine(f"malformed JSON: {name} is not a JSON value")


def _json_integer(digits: str) -> int:
    """An integer of the line, refused if it has more digits than int() reads (``sys.get_int_max_str_digits``)."""
    try:
        return int(digits)
    except ValueError:
        raise BadLine(f"a number too large to read ({len(digits.lstrip('-'))} digits)") from None


def _checked_infobox(infobox) -> dict[str, str]:
    """The infobox with every value a string: a number becomes its text."""
    if not isinstance(infobox, dict):
        raise BadLine(f"expected an object, got {type_name(infobox)}", "infobox")
    checked = {}
    for key, value in infobox.items():
        check_text(key, "infobox")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadLine(f"expected a string, got {describe(value)}", f"infobox.{key}")
        if isinstance(value, float) and not math.isfinite(value):  # json reads 1e400 as infinity
            raise BadLine("a number too large to read (beyond ±1.8e308)", f"infobox.{key}")
        if isinstance(value, str):
            check_text(value, f"infobox.{key}")
        checked[key] = value if isinstance(value, str) else str(value)
    return checked


def _checked_links(wikilinks) -> dict[str, tuple[str, str, int]]:
    _check_string_list(wikilinks, "wikilinks")
    links: dict[str, tuple[str, str, int]] = {}
    for index, target in enumerate(wikilinks):
        name = normalise_link_name(target)
        if not name:
            continue
        if len(name) > LINK_NAME_LIMIT:
            raise BadLine(f"a link name is at most {LINK_NAME_LIMIT} characters, got {len(name)}",
                          f"wikilinks[{index}]")
        if name in links:
            display_name, kind, count = links[name]
            links[name] = (display_name, kind, count + 1)
        else:
            kind = Link.Kind.CATEGORY if name.startswith("category:") else Link.Kind.WIKILINK
            links[name] = (" ".join(target.split()), kind, 1)
    return links


def _check_string_list(value, field: str) -> None:
    if not isinstance(value, list):
        raise BadLine(f"expected a list of strings, got {type_name(value)}", field)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise BadLine(f"expected a string, got {describe(item)}", f"{field}[{index}]")
        check_text(item, f"{field}[{index}]")


def _check_timestamp(value) -> None:
    if not isinstance(value, str):
        raise BadLine(f"expected an ISO 8601 timestamp string, got {describe(value)}", "last_edit")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise BadLine(f"expected an ISO 8601 timestamp, got {describe(value)}", "last_edit") from None
