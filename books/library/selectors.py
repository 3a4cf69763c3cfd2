"""Reads of a reader's library: their imports, and their shelves as an export (Goodreads' column layout, or JSON).

The Goodreads layout is Goodreads' own library export's columns, with ``Bookvec Id`` added last: Goodreads and
StoryGraph read it (they ignore the extra column), and Bookvec's import matches each row by it. A cell starting with
``=``, ``+``, ``-`` or ``@`` is written with a leading apostrophe, so no spreadsheet runs it as a formula.
"""
from __future__ import annotations

import csv
import io

from books.library.formats import BOOKVEC_ID_COLUMN, EXCLUSIVE_SHELVES, FAVOURITES, GOODREADS_COLUMNS
from books.models import Book, BookIdentifier, LibraryImport, Shelf, ShelfEntry
from config.errors import Gone

_GOODREADS_SHELF = {standard: goodreads for goodreads, standard in EXCLUSIVE_SHELVES.items()}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def library_import_get(*, user, import_id: int) -> LibraryImport:
    """The reader's own import (``Gone`` for anyone else's, as for one that does not exist)."""
    found = LibraryImport.objects.filter(pk=import_id, user=user).first()
    if found is None:
        raise Gone(f"You have no library import {import_id}.")
    return found


def library_export(*, user) -> list[dict]:
    """One record per book on the reader's shelves: ``bookvec_id``, ``title``, ``author``, ``goodreads_id``,
    ``isbn10``, ``isbn13``, ``shelf`` (want-to-read, reading, read or None), ``shelves`` (the others:
    "favourites" and the reader's own), ``rating``, ``date_added`` (the earliest, YYYY-MM-DD), ``date_read`` (the
    latest, YYYY-MM-DD, or None), by title."""
    books: dict[int, dict] = {}
    entries = (ShelfEntry.objects.filter(shelf__user=user).select_related("shelf", "book")
               .order_by("book__title", "book_id", "shelf_id"))
    for entry in entries:
        book = books.setdefault(entry.book_id, {
            "bookvec_id": entry.book_id, "title": entry.book.title, "author": entry.book.author,
            "goodreads_id": "", "isbn10": "", "isbn13": "", "shelf": None, "shelves": [], "rating": None,
            "date_added": None, "date_read": None})
        kind = entry.shelf.kind
        if kind in _GOODREADS_SHELF:
            if book["shelf"] is None or list(_GOODREADS_SHELF).index(kind) > list(_GOODREADS_SHELF).index(
                    book["shelf"]):
                book["shelf"] = kind  # on two reading shelves at once (only by hand): the furthest along
        else:
            book["shelves"].append(FAVOURITES if kind == Shelf.Kind.FAVOURITES else entry.shelf.name)
        if entry.rating is not None:
            book["rating"] = max(book["rating"] or 0, entry.rating)
        day = entry.added_at.date().isoformat()
        book["date_added"] = min(book["date_added"] or day, day)
        if entry.read_at is not None:
            book["date_read"] = max(book["date_read"] or "", entry.read_at.isoformat())
    for book_id, scheme, value in BookIdentifier.objects.filter(
            book_id__in=books, scheme__in=["goodreads", "isbn10", "isbn13"]).values_list("book_id", "scheme", "value"):
        key = "goodreads_id" if scheme == "goodreads" else scheme
        books[book_id][key] = books[book_id][key] or value
    return list(books.values())


def library_export_goodreads_csv(records: list[dict]) -> str:
    """``library_export``'s records in Goodreads' library export layout (``BOOKVEC_ID_COLUMN`` added)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*GOODREADS_COLUMNS, BOOKVEC_ID_COLUMN])
    for record in records:
        goodreads_shelf = _GOODREADS_SHELF.get(record["shelf"], "")
        own = ["favorites" if name == FAVOURITES else name for name in record["shelves"]]
        cells = {
            "Book Id": record["goodreads_id"], "Title": record["title"], "Author": record["author"],
            "ISBN": f'="{record["isbn10"]}"', "ISBN13": f'="{record["isbn13"]}"',
            "My Rating": record["rating"] or 0,
            "Date Read": record["date_read"].replace("-", "/") if record.get("date_read") else "",
            "Date Added": record["date_added"].replace("-", "/") if record["date_added"] else "",
            "Bookshelves": ", ".join([goodreads_shelf, *own] if goodreads_shelf else own),
            "Exclusive Shelf": goodreads_shelf, BOOKVEC_ID_COLUMN: record["bookvec_id"],
        }
        writer.writerow([_neutralised(column, cells.get(column, "")) for column in
                         [*GOODREADS_COLUMNS, BOOKVEC_ID_COLUMN]])
    return out.getvalue()


def _neutralised(column: str, value) -> str:
    text = str(value)
    if column in ("ISBN", "ISBN13"):
        return text  # Goodreads' own ="…", which a spreadsheet shows as the text inside (keeps leading zeros)
    return "'" + text if text.startswith(_FORMULA_START) else text


def library_import_candidates(*, library_import: LibraryImport) -> list[tuple]:
    """The import's unmatched rows, each with its candidate books (``(row, [(book, score), …])``), for its page."""
    rows = list(library_import.unmatched_rows.select_related("resolved_book"))
    books = Book.objects.in_bulk([candidate["book_id"] for row in rows for candidate in row.candidates])
    return [(row, [(books[candidate["book_id"]], candidate["score"]) for candidate in row.candidates
                   if candidate["book_id"] in books]) for row in rows]
