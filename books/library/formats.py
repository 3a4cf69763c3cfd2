"""Reading a library export: the Goodreads library export, the StoryGraph export, and Bookvec's own (the Goodreads
layout with a ``Bookvec Id`` column, so a library round-trips). Pure: bytes in, rows out, or ``LibraryFileError``
saying what is wrong and where, before anything is written.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from config.errors import InvalidInput

MAX_FILE_BYTES = 5 * 1024 * 1024
"""The largest file an import takes (5 MB: a Goodreads export of 20,000 books is about 4 MB)."""
WANT_TO_READ, READING, READ, FAVOURITES = "want-to-read", "reading", "read", "favourites"
EXCLUSIVE_SHELVES = {"to-read": WANT_TO_READ, "currently-reading": READING, "read": READ}
"""Goodreads' exclusive shelves and StoryGraph's read statuses → the standard shelves they are."""
FAVOURITE_SHELVES = {"favorites", "favourites"}
"""Goodreads shelves that are the standard Favourites shelf."""
GOODREADS_COLUMNS = ("Book Id", "Title", "Author", "Additional Authors", "ISBN", "ISBN13", "My Rating",
                     "Average Rating", "Publisher", "Binding", "Number of Pages", "Year Published",
                     "Original Publication Year", "Date Read", "Date Added", "Bookshelves",
                     "Bookshelves with positions", "Exclusive Shelf", "My Review", "Spoiler", "Private Notes",
                     "Read Count", "Owned Copies")
"""Goodreads' library export's columns, in its order (what the export writes, with ``BOOKVEC_ID_COLUMN`` last)."""
BOOKVEC_ID_COLUMN = "Bookvec Id"
_GOODREADS_NEEDS = {"Book Id", "Title", "Author", "Exclusive Shelf"}
_STORYGRAPH_NEEDS = {"Title", "Authors", "Read Status"}


class LibraryFileError(InvalidInput):
    """The uploaded file cannot be imported; the message says why (and where)."""

    field_path = ("file",)


@dataclass
class LibraryRow:
    """One book of an export, as the import needs it."""

    line: int
    title: str
    author: str = ""
    bookvec_id: int | None = None
    goodreads_id: str = ""
    isbns: list[str] = field(default_factory=list)
    shelf: str | None = None
    """The standard reading shelf (``WANT_TO_READ``, ``READING``, ``READ``), if any."""
    shelves: list[str] = field(default_factory=list)
    """Other shelves, by name (``FAVOURITES`` for the standard one)."""
    rating: int | None = None
    date_added: date | None = None
    date_read: date | None = None


@dataclass
class Library:
    format: str
    rows: list[LibraryRow]
    skipped: list[str]
    """Why each skipped row was skipped ("line 7: no title")."""


def library_parse(data: bytes) -> Library:
    """The rows of an export file; ``LibraryFileError`` if it is over ``MAX_FILE_BYTES``, binary, not UTF-8, or not
    an export this reads (by its header)."""
    if len(data) > MAX_FILE_BYTES:
        raise LibraryFileError(f"The file is {len(data) / 1024 / 1024:.1f} MB; an import takes at most "
                               f"{MAX_FILE_BYTES // 1024 // 1024} MB.")
    if b"\x00" in data:
        raise LibraryFileError("The file is binary, not a CSV export.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LibraryFileError(f"The file is not UTF-8 text (byte {error.start}): export it again as CSV.") from None
    return library_parse_text(text)


def library_parse_text(text: str) -> Library:
    """``library_parse`` for decoded text."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as error:
        raise LibraryFileError(f"line 1: not CSV ({error}).") from None
    columns = set(header)
    if _GOODREADS_NEEDS <= columns:
        form, read_row = "goodreads", _goodreads_row
    elif _STORYGRAPH_NEEDS <= columns:
        form, read_row = "storygraph", _storygraph_row
    else:
        raise LibraryFileError("line 1: not a library export this reads: a Goodreads export has the columns "
                               f"{', '.join(sorted(_GOODREADS_NEEDS))}; a StoryGraph export "
                               f"{', '.join(sorted(_STORYGRAPH_NEEDS))}.")
    rows, skipped = [], []
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            record = {name: _cell(values[i] if i < len(values) else "") for i, name in enumerate(header)}
            try:
                rows.append(read_row(line, record))
            except ValueError as error:
                skipped.append(f"line {line}: {error}")
    except csv.Error as error:
        raise LibraryFileError(f"line {reader.line_num}: not CSV ({error}).") from None
    if not rows and not skipped:
        raise LibraryFileError("The file has a header but no books.")
    return Library(form, rows, skipped)


def _goodreads_row(line: int, record: dict) -> LibraryRow:
    title = _title(record["Title"])
    exclusive = record["Exclusive Shelf"].lower()
    shelf = EXCLUSIVE_SHELVES.get(exclusive)
    names = [name.strip() for name in record.get("Bookshelves", "").split(",") if name.strip()]
    if exclusive and shelf is None:
        names.insert(0, record["Exclusive Shelf"])
    bookvec_id = record.get(BOOKVEC_ID_COLUMN, "")
    return LibraryRow(
        line=line, title=title, author=record["Author"], goodreads_id=record["Book Id"] if
        record["Book Id"].isdigit() else "",
        bookvec_id=int(bookvec_id) if bookvec_id.isdigit() else None,
        isbns=[isbn for isbn in (_isbn(record.get("ISBN13", "")), _isbn(record.get("ISBN", ""))) if isbn],
        shelf=shelf, shelves=_other_shelves(names), rating=_rating(record.get("My Rating", ""), "My Rating"),
        date_added=_date(record.get("Date Added", ""), "Date Added"),
        date_read=_date(record.get("Date Read", ""), "Date Read"))


def _storygraph_row(line: int, record: dict) -> LibraryRow:
    title = _title(record["Title"])
    status = record["Read Status"].lower()
    shelf = EXCLUSIVE_SHELVES.get(status)
    names = [name.strip() for name in record.get("Tags", "").split(",") if name.strip()]
    if status and shelf is None:
        names.insert(0, record["Read Status"])  # did-not-finish, paused: a shelf of the reader's own
    return LibraryRow(
        line=line, title=title, author=record["Authors"].split(",")[0].strip(),
        isbns=[isbn for isbn in [_isbn(record.get("ISBN/UID", ""))] if isbn], shelf=shelf,
        shelves=_other_shelves(names), rating=_rating(record.get("Star Rating", ""), "Star Rating"),
        date_added=_date(record.get("Date Added", ""), "Date Added"),
        date_read=_date(record.get("Last Date Read", ""), "Last Date Read"))


def _cell(value: str) -> str:
    """A cell, without the apostrophe an export puts before a formula-like start (``'=…``)."""
    value = value.strip()
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") else value


def _title(value: str) -> str:
    if not value:
        raise ValueError("no title")
    return value[:500]


def _isbn(value: str) -> str:
    """Goodreads writes ``="0439023483"`` (so spreadsheets keep the leading zero) and ``=""`` for none."""
    return re.sub(r'^="?|"$', "", value).strip()


def _other_shelves(names: list[str]) -> list[str]:
    shelves = []
    for name in names:
        name = " ".join(name.split())[:100]
        if name.lower() in EXCLUSIVE_SHELVES:
            continue
        name = FAVOURITES if name.lower() in FAVOURITE_SHELVES else name
        if name and name.lower() not in {shelf.lower() for shelf in shelves}:
            shelves.append(name)
    return shelves


def _rating(value: str, column: str) -> int | None:
    """A 1–5 rating (StoryGraph's quarter stars rounded half up); 0 or blank is none."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f'"{column}" is {value!r}, not a number') from None
    if not 0 <= number <= 5:
        raise ValueError(f'"{column}" is {value}, not from 0 to 5')
    return int(number + 0.5) or None


def _date(value: str, column: str) -> date | None:
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", value)
    try:
        if match is None:
            raise ValueError
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(f'"{column}" is {value!r}, not a date (YYYY/MM/DD)') from None
