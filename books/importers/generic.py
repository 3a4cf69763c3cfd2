"""Import a catalogue in Bookvec's generic format, CSV or JSON Lines, from an operator's own records or an Open
Library dump (the format is in README.md, "Bring your own catalogue"; an example is ``data/generic/example.csv``).

One record a row (CSV, with a header) or a line (JSON Lines: ``.jsonl``/``.ndjson``, one JSON object a line; either
may be gzipped). Fields: ``id`` (required: ``scheme:value``, the record's own id, whose scheme names its source),
``title`` (required), ``authors`` (people, each with a role: author, translator, illustrator, editor), ``identifiers``
(``scheme:value``: isbn10, isbn13, goodreads, wikipedia, openlibrary, …), ``subjects`` (tags and subjects: the book's
links of kind tag, read into the genre vocabulary too), ``wikilinks`` (Wikipedia pages it links to), ``year``,
``language``, ``description``, ``cover_url``. In CSV, a list is one cell with ``;`` between entries and a person's role
in brackets: ``Leo Tolstoy; Richard Pevear (translator)``. In JSON, lists are lists, and a person is a name or
``{"name": …, "role": …}``.

Validation, writing and matching are the other importers': every bad line is ``file:line: field "…": reason``,
nothing is written unless every line is good (or ``skip_invalid``), re-importing updates, and a record that is a book
the catalogue has from another source merges into it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from books.importers.checks import check_text, checked_integer, checked_title
from books.importers.files import csv_records, numbered_lines, require_file
from books.importers.matching import isbn_identifiers
from books.importers.normalise import normalise_authors, normalise_language
from books.importers.problems import BadLine, Problem, ProblemLog
from books.importers.report import ImportReport, Stopwatch, progress_bar
from books.importers.wording import describe, shortened, type_name
from books.importers.writing import LINK_NAME_LIMIT, BookRecord, catalogue_import_books
from books.models import SCHEME_PATTERN, Book, Contribution, Link
from books.text import book_search_text, normalise_link_name

FIELDS = ("id", "title", "authors", "identifiers", "subjects", "wikilinks", "year", "language", "description",
          "cover_url")
LIST_FIELDS = ("authors", "identifiers", "subjects", "wikilinks")
MAX_YEAR = 9999
SOURCE_LIMIT = Book._meta.get_field("source").max_length
EXTERNAL_ID_LIMIT = Book._meta.get_field("external_id").max_length
ROLES = tuple(Contribution.Role.values)
_SCHEME = re.compile(SCHEME_PATTERN)
_PERSON = re.compile(r"^(?P<name>.*?)\s*\((?P<role>[^()]*)\)\s*$")


def generic_import(*, path: Path, skip_invalid: bool = False, batch_size: int = 2000, progress=None) -> ImportReport:
    """Import every record of ``path`` in one transaction, or raise ``InvalidImport`` and write nothing."""
    display_name = str(path)
    require_file(path, display_name=display_name)
    report = ImportReport()
    clock = Stopwatch(report)
    problems = ProblemLog(skip_invalid=skip_invalid)
    with clock("read"):
        books = _read(path, problems=problems, display_name=display_name, progress=progress)
    problems.raise_unless_skipping()
    report.problems = problems.problems
    return catalogue_import_books(books=books, report=report, clock=clock, batch_size=batch_size, stream=progress)


def _read(path: Path, *, problems: ProblemLog, display_name: str, progress) -> list[BookRecord]:
    is_csv = path.name.removesuffix(".gz").lower().endswith(".csv")
    books: dict[str, BookRecord] = {}
    first_line: dict[str, int] = {}
    rows = (csv_records(path, problems, display_name=display_name, required_columns=("id", "title")) if is_csv
            else _json_lines(path, problems, display_name))
    with progress_bar(total=None, unit="record", description=f"Reading {path.name}", stream=progress) as bar:
        for number, row in rows:
            bar.update()
            try:
                book = record_of(row, from_csv=is_csv)
                if book.external_id in first_line:
                    raise BadLine(f"{shortened(book.external_id)} is already on line {first_line[book.external_id]}",
                                  "id")
            except BadLine as bad:
                problems.add(Problem(display_name, number, bad.message, bad.field))
                continue
            first_line[book.external_id] = number
            books[book.external_id] = book
    return list(books.values())


def _json_lines(path: Path, problems: ProblemLog, display_name: str):
    for number, text, complete in numbered_lines(path, problems, display_name=display_name):
        if not text.strip():
            continue
        try:
            row = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as error:
            cut = "; the file ends in the middle of this line (truncated?)" if not complete else ""
            problems.add(Problem(display_name, number, f"malformed JSON: {error.msg} at column {error.colno}{cut}"))
            continue
        if not isinstance(row, dict):
            problems.add(Problem(display_name, number, f"expected a JSON object, got {type_name(row)}"))
            continue
        yield number, row


def record_of(row: dict, *, from_csv: bool) -> BookRecord:
    """One record as a ``BookRecord``; raises ``BadLine`` naming the field at fault."""
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise BadLine(f"unknown field (the fields are {', '.join(FIELDS)})", unknown[0])
    values = {name: _value(row.get(name), name, from_csv=from_csv) for name in FIELDS}
    scheme, value = _identifier(values["id"] or "", "id")
    if len(scheme) > SOURCE_LIMIT:
        raise BadLine(f"a scheme is at most {SOURCE_LIMIT} characters here, got {len(scheme)}", "id")
    title = checked_title(values["title"] or "")
    people = [_person(entry, f"authors[{index}]", from_csv=from_csv) for index, entry in enumerate(values["authors"])]
    identifiers = []
    for index, entry in enumerate(values["identifiers"]):
        other_scheme, other_value = _identifier(entry, f"identifiers[{index}]")
        if other_scheme in ("isbn10", "isbn13"):
            isbns = isbn_identifiers(other_value)
            if not isbns:
                raise BadLine(f"not a valid ISBN: {shortened(other_value)!r}", f"identifiers[{index}]")
            identifiers += [isbn for isbn in isbns if isbn not in identifiers]
        elif (other_scheme, other_value) not in identifiers:
            identifiers.append((other_scheme, other_value))
    links = {}
    for field, kind in (("subjects", Link.Kind.TAG), ("wikilinks", Link.Kind.WIKILINK)):
        for index, entry in enumerate(values[field]):
            name = normalise_link_name(entry)
            if len(name) > LINK_NAME_LIMIT:
                raise BadLine(f"a link name is at most {LINK_NAME_LIMIT} characters, got {len(name)}",
                              f"{field}[{index}]")
            if name:
                display, link_kind, count = links.get(name, (" ".join(entry.split()), kind, 0))
                links[name] = (display, link_kind, count + 1)
    year = values["year"]
    cover_url = (values["cover_url"] or "").strip()
    if cover_url and not cover_url.startswith(("http://", "https://")):
        raise BadLine(f"expected a URL, got {shortened(cover_url)!r}", "cover_url")
    author = normalise_authors(", ".join(name for name, role in people if role == "author"))
    return BookRecord(
        external_id=f"{scheme}:{value}", source=scheme, title=title, author=author,
        genre=", ".join(values["subjects"]),
        language=normalise_language(values["language"] or ""),
        publication_year=None if year in (None, "") else _year(year),
        isbn=next((value for scheme, value in identifiers if scheme == "isbn13"), ""),
        cover_url=cover_url,
        metadata={name: row[name] for name in FIELDS if name in row},
        search_text=book_search_text(title, author),
        links=links, identifiers=identifiers,
        contributors=[(name, role) for name, role in people if role != "author"],
    )


def _value(value, field: str, *, from_csv: bool):
    """A field's value checked for its type: lists as lists (a CSV cell split at ';'), the rest text or a year."""
    if field in LIST_FIELDS:
        if value is None or value == "":
            return []
        if from_csv:
            return [entry.strip() for entry in value.split(";") if entry.strip()]
        if not isinstance(value, list):
            raise BadLine(f"expected a list, got {describe(value)}", field)
        for index, entry in enumerate(value):
            if field == "authors" and isinstance(entry, dict):
                continue
            if not isinstance(entry, str):
                raise BadLine(f"expected a string, got {describe(entry)}", f"{field}[{index}]")
            check_text(entry, f"{field}[{index}]")
        return value
    if value is None:
        return None
    if field == "year" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadLine(f"expected a string, got {describe(value)}", field)
    check_text(value, field)
    return value


def _identifier(text: str, field: str) -> tuple[str, str]:
    scheme, _, value = text.strip().partition(":")
    if not value.strip():
        raise BadLine(f"expected scheme:value (e.g. isbn13:9780140449136), got {shortened(text)!r}", field)
    if not _SCHEME.match(scheme):
        raise BadLine(f"a scheme is lowercase letters, digits, '-' and '_', got {shortened(scheme)!r}", field)
    if len(text.strip()) > EXTERNAL_ID_LIMIT:
        raise BadLine(f"expected at most {EXTERNAL_ID_LIMIT} characters, got {len(text.strip())}", field)
    return scheme, value.strip()


def _person(entry, field: str, *, from_csv: bool) -> tuple[str, str]:
    if isinstance(entry, dict):
        name, role = entry.get("name"), entry.get("role", "author")
        if not isinstance(name, str) or not isinstance(role, str):
            raise BadLine('expected {"name": "…", "role": "…"} with strings', field)
        check_text(name, field)
        check_text(role, field)
    else:
        match = _PERSON.match(entry)
        name, role = (match["name"], match["role"]) if match else (entry, "author")
    name, role = " ".join(name.split()), role.strip().lower() or "author"
    if not name:
        raise BadLine("expected a name, got nothing", field)
    if role not in ROLES:
        raise BadLine(f"unknown role {shortened(role)!r} (roles: {', '.join(ROLES)})", field)
    return name, role


def _year(text: str) -> int:
    return checked_integer(text.strip(), "year", minimum=-MAX_YEAR, maximum=MAX_YEAR)
