"""Writes of library imports: an upload is checked and queued (``library_import_start``), run in a worker
(``library_import_run``: all of it or none), and an unmatched row resolved by the reader (``library_import_row_resolve``).

Mapping: Goodreads' Exclusive Shelf and StoryGraph's Read Status → the standard shelves (to-read → Want to read,
currently-reading → Reading, read → Read; a book on one of these leaves the other two, as on Goodreads); a
"favorites" shelf → Favourites; other Goodreads shelves and StoryGraph tags (and StoryGraph's did-not-finish and
paused) → the reader's own shelves, made private as needed while the reader has fewer than ``CUSTOM_SHELVES_MAX``
(past it a shelf is not made, its books go on their standard shelves only, and the import lists it in
``shelves_not_created``); a rating → the rating of the book's entries; Date Added → when the book was shelved; Date
Read (StoryGraph's Last Date Read) → when the reader finished it. Re-importing a file changes nothing; nothing is
ever taken off a shelf of the reader's own, and no shelf is removed.
"""
from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils import timezone

from books.library.formats import EXCLUSIVE_SHELVES, FAVOURITES, LibraryRow, library_parse, library_parse_text
from books.library.matching import library_rows_match
from books.models import Book, LibraryImport, LibraryImportRow, Shelf, ShelfEntry
from books.services import ShelfError, shelf_create, shelves_ensure_standard
from config.errors import Gone, InvalidInput, StateConflict

STALE_AFTER = datetime.timedelta(hours=1)
"""An import queued or running longer than this was lost (its worker killed, the broker flushed): it no longer
blocks the reader's next one and is failed when they start another."""


class LibraryImportBusy(StateConflict):
    """The reader has an import queued or running already."""


def library_import_start(*, user, file_name: str, data: bytes) -> LibraryImport:
    """Check ``data`` (``LibraryFileError`` before anything is written), record a queued import and queue its run
    in a worker once committed. ``LibraryImportBusy`` if the reader has one queued or running (for less than
    ``STALE_AFTER``)."""
    from books.tasks import library_import_task  # the task module imports this one

    library = library_parse(data)
    LibraryImport.objects.filter(user=user, status__in=LibraryImport.OPEN_STATUSES,
                                 created_at__lt=timezone.now() - STALE_AFTER).update(
        status=LibraryImport.Status.FAILED, finished_at=timezone.now(),
        error="The import did not finish within an hour (its worker stopped); your shelves are as they were.")
    try:
        with transaction.atomic():
            library_import = LibraryImport.objects.create(
                user=user, file_name=(file_name or "library.csv")[:255], format=library.format,
                content=data.decode("utf-8-sig"))
            transaction.on_commit(lambda: library_import_task.delay(library_import.pk))
    except IntegrityError:
        raise LibraryImportBusy("An import of your library is already queued or running; wait until it ends.") \
            from None
    return library_import


def library_import_run(import_id: int) -> LibraryImport:
    """Run a queued import: match every row, shelve the matched ones and record the unmatched, in one
    transaction; on any failure the reader's shelves are as before and the import is failed with the reason."""
    updated = LibraryImport.objects.filter(pk=import_id, status=LibraryImport.Status.QUEUED).update(
        status=LibraryImport.Status.RUNNING)
    library_import = LibraryImport.objects.get(pk=import_id)
    if not updated:
        return library_import  # run already, or running elsewhere
    try:
        with transaction.atomic():
            _run(library_import)
    except Exception as error:  # noqa: BLE001 - any failure fails the import, with its reason, nothing written
        LibraryImport.objects.filter(pk=import_id).update(
            status=LibraryImport.Status.FAILED, error=str(error)[:2000] or type(error).__name__,
            finished_at=timezone.now())
        if not isinstance(error, InvalidInput):
            raise
    library_import.refresh_from_db()
    return library_import


def _run(library_import: LibraryImport) -> None:
    library = library_parse_text(library_import.content)
    matches = library_rows_match(library.rows)
    shelves = _Shelves(library_import.user)
    unmatched = []
    for row, match in zip(library.rows, matches, strict=True):
        if match.book_id is None:
            unmatched.append(LibraryImportRow(
                library_import=library_import, row_number=row.line, title=row.title, author=row.author[:500],
                isbn=(row.isbns[0] if row.isbns else "")[:40], reason=match.how, candidates=match.candidates,
                entry=_entry_of(row)))
        else:
            shelves.put(match.book_id, _entry_of(row))
    shelves.write()
    LibraryImportRow.objects.bulk_create(unmatched)
    library_import.shelves_not_created = shelves.not_created
    library_import.rows = len(library.rows) + len(library.skipped)
    library_import.matched = len(library.rows) - len(unmatched)
    library_import.unmatched = len(unmatched)
    library_import.skipped = len(library.skipped)
    library_import.error = "\n".join(library.skipped)
    library_import.status = LibraryImport.Status.SUCCEEDED
    library_import.finished_at = timezone.now()
    library_import.content = ""  # what was needed of it is on the shelves and in the unmatched rows now
    library_import.save()


@transaction.atomic
def library_import_row_resolve(*, user, import_id: int, row_id: int, book_id: int) -> LibraryImportRow:
    """Shelve the book the reader picked for an unmatched row, as the row says (shelves, rating, date); picking
    again moves nothing off the shelves the first pick put it on."""
    row = (LibraryImportRow.objects.select_for_update().select_related("library_import")
           .filter(pk=row_id, library_import_id=import_id, library_import__user=user).first())
    if row is None:
        raise Gone(f"You have no unmatched import row {row_id}.")
    if not Book.objects.filter(pk=book_id).exists():
        error = InvalidInput(f"There is no book {book_id}.")
        error.field_path = ("book_id",)
        raise error
    shelves = _Shelves(user)
    shelves.put(book_id, row.entry)
    shelves.write()
    row.resolved_book_id = book_id
    row.save(update_fields=["resolved_book"])
    library_import = row.library_import
    known = {shelf["name"].lower() for shelf in library_import.shelves_not_created}
    more = [shelf for shelf in shelves.not_created if shelf["name"].lower() not in known]
    if more:
        library_import.shelves_not_created += more
        library_import.save(update_fields=["shelves_not_created"])
    return row


def _entry_of(row: LibraryRow) -> dict:
    return {"shelf": row.shelf, "shelves": row.shelves, "rating": row.rating,
            "date_added": row.date_added.isoformat() if row.date_added else None,
            "date_read": row.date_read.isoformat() if row.date_read else None}


class _Shelves:
    """One reader's shelves, found or made by name as an import needs them; ``not_created`` lists those the reader
    could not get (``[{"name": …, "reason": …}]``, in the order first met)."""

    def __init__(self, user):
        self.user = user
        self.by_kind = {shelf.kind: shelf for shelf in shelves_ensure_standard(user=user) if shelf.is_standard}
        self.by_name = {shelf.name.lower(): shelf for shelf in Shelf.objects.filter(user=user)}
        self.reading = [self.by_kind[kind] for kind in EXCLUSIVE_SHELVES.values()]
        self.not_created: list[dict] = []
        self.refused: set[str] = set()
        self.planned: dict[tuple[int, int], dict] = {}
        """{(shelf id, book id): the fields the rows give}, in the order first planned."""
        self.leaving: set[tuple[int, int]] = set()

    def named(self, name: str) -> Shelf | None:
        """The reader's shelf called ``name`` (made if need be), or None when it cannot be made (recorded)."""
        if name == FAVOURITES:
            return self.by_kind[Shelf.Kind.FAVOURITES]
        shelf = self.by_name.get(name.lower())
        if shelf is None and name.lower() not in self.refused:
            try:
                shelf = shelf_create(user=self.user, name=name)  # its own savepoint: a refusal leaves the import be
            except ShelfError as error:
                self.refused.add(name.lower())
                self.not_created.append({"name": name, "reason": str(error)})
            else:
                self.by_name[name.lower()] = shelf
        return shelf

    def put(self, book_id: int, entry: dict) -> None:
        """Plan a row's shelving, after the rows before it (``write`` writes the plan): a book given a reading
        shelf leaves the other two; a rating or date given sets it on each of the row's entries."""
        targets = [shelf for shelf in map(self.named, entry["shelves"]) if shelf is not None]
        if entry["shelf"]:
            shelf = self.by_kind[entry["shelf"]]
            targets.append(shelf)
            for other in self.reading:
                if other != shelf:
                    self.planned.pop((other.pk, book_id), None)
                    self.leaving.add((other.pk, book_id))
        fields = {}
        if entry["rating"] is not None:
            fields["rating"] = entry["rating"]
        if entry["date_added"]:
            fields["added_at"] = datetime.datetime.combine(datetime.date.fromisoformat(entry["date_added"]),
                                                           datetime.time(), tzinfo=datetime.UTC)
        if entry.get("date_read"):  # rows recorded before dates were kept have none
            fields["read_at"] = datetime.date.fromisoformat(entry["date_read"])
        for shelf in targets:
            self.leaving.discard((shelf.pk, book_id))
            self.planned[(shelf.pk, book_id)] = {**self.planned.get((shelf.pk, book_id), {}), **fields}

    def write(self) -> None:
        """Write what ``put`` planned, in a few statements whatever the number of rows: the entries leaving a
        reading shelf deleted, then each planned entry inserted, or, where the book is on that shelf already,
        given the row's rating and dates (an entry keeps what the rows do not give)."""
        leaving = defaultdict(list)
        for shelf_id, book_id in self.leaving:
            leaving[shelf_id].append(book_id)
        for shelf_id, book_ids in leaving.items():
            ShelfEntry.objects.filter(shelf_id=shelf_id, book_id__in=book_ids).delete()
        now, by_fields = timezone.now(), defaultdict(list)
        for (shelf_id, book_id), fields in self.planned.items():
            by_fields[tuple(sorted(fields))].append(ShelfEntry(shelf_id=shelf_id, book_id=book_id,
                                                               **{"added_at": now, **fields}))
        for names, entries in by_fields.items():
            if names:
                ShelfEntry.objects.bulk_create(entries, batch_size=1000, update_conflicts=True,
                                               unique_fields=["shelf", "book"], update_fields=list(names))
            else:
                ShelfEntry.objects.bulk_create(entries, batch_size=1000, ignore_conflicts=True)
        self.planned, self.leaving = {}, set()
