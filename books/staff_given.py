"""Values staff gave a book — its genres, country or language, edited by hand in the admin or an accepted
prediction — and their precedence over the sources: staff-given beats any source.

A book keeps them in ``Book.staff_given``: ``genre`` the genres staff gave (first, always kept), ``genre_removed``
those staff took off (no source brings them back), ``country`` and ``language`` the value staff gave (``""``: staff
cleared it, and no source fills it again). Each is recorded with who gave it, when and how (``StaffEdit``). Every
import that writes the book (a re-import of its own source, a record of another source merged into it) writes the
source's values first and then these over them (``staff_given_reapply``); a merge by hand carries the merged book's
to the kept one (``staff_given_combined``), and undoing it takes back what it brought (``staff_given_restored``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import transaction
from django.db.models.functions import Now

from books.models import Book, Genre, StaffEdit

FIELDS = ("genre", "country", "language")
_GENRE_LIMIT = Book._meta.get_field("genre").max_length


def book_value_give(*, book_id: int, field: str, value: str, by=None) -> bool:
    """Gives ``book_id`` the ``value`` of ``field`` as staff (accepting a prediction, by the user ``by``): a genre
    is added to the book's genres (the staff-given ones first, as an import writes them back); a country or a
    language is set where the book has none (a value the book has meanwhile is kept, and nothing is recorded).
    Returns whether the value is now the book's, recorded as staff-given."""
    if field not in FIELDS:
        raise ValueError(f"{field!r} is not a field staff give a value of; one of {', '.join(FIELDS)}")
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book_id)
        given = dict(book.staff_given)
        if field == "genre":
            given["genre"] = list(dict.fromkeys([*given.get("genre", []), value]))
            given = _without_empty({**given, "genre_removed": [g for g in given.get("genre_removed", []) if g != value]})
            changes = {"genre": given_values(given, book.genre, "", "")[0]}  # as every import writes it
            Genre.objects.get_or_create(name=value)[0].books.add(book)
        elif getattr(book, field).strip() not in ("", value):
            return False
        else:
            given[field] = value
            changes = {field: value}
        Book.objects.filter(pk=book.pk).update(**changes, staff_given=given, updated_at=Now())  # the map's cache
        StaffEdit.objects.create(book=book, field=field, value=value, previous=getattr(book, field),
                                 how=StaffEdit.How.ACCEPTED, given_by=by)
    return True


def book_values_edited(*, book_id: int, before: dict[str, str], by=None) -> list[str]:
    """Records as staff-given, by the user ``by``, each of the book's genre, country and language that ``before``
    names (its values before staff edited it by hand) and that differs from it now: the genres as staff left them (in their order,
    first at every import; those staff took off never come back), a country or language as staff typed it, an
    empty one as cleared. The book's genre relations follow its genres. Returns the fields recorded."""
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book_id)
        given, edits = dict(book.staff_given), []
        for field in (field for field in FIELDS if field in before):
            now, then = getattr(book, field).strip(), before[field].strip()
            if now == then:
                continue
            if field == "genre":
                names = _genres(now)
                taken_off = [name for name in _genres(then) if name not in names]
                given["genre"] = names
                given["genre_removed"] = [name for name in dict.fromkeys([*given.get("genre_removed", []), *taken_off])
                                          if name not in names]
                book.genres.set([Genre.objects.get_or_create(name=name)[0] for name in names])
            else:
                given[field] = now
            edits.append(StaffEdit(book=book, field=field, value=now, previous=then, how=StaffEdit.How.EDITED,
                                   given_by=by))
        if edits:
            Book.objects.filter(pk=book.pk).update(staff_given=_without_empty(given))
            StaffEdit.objects.bulk_create(edits)
    return [edit.field for edit in edits]


def given_values(given: dict, genre: str, country: str, language: str) -> tuple[str, str, str]:
    """A book's genre, country and language with the staff-given ``given`` written over the sources' values
    (``genre`` etc.): staff's genres first, then the sources' less those staff took off; staff's country and
    language, cleared ones included, over the sources'."""
    removed = set(given.get("genre_removed", []))
    return (_genres_joined([*given.get("genre", []), *(name for name in _genres(genre) if name not in removed)]),
            given["country"] if "country" in given else country,
            given["language"] if "language" in given else language)


def staff_given_reapply(cursor, book_ids: Iterable[int]) -> int:
    """Writes the staff-given values of ``book_ids`` over what an import has just written into them (``cursor``:
    inside the import's transaction, before the books' genre relations are derived from ``genre``); returns how many
    books it changed."""
    cursor.execute("SELECT id, genre, country, language, staff_given FROM books_book "
                   "WHERE id = ANY(%s) AND staff_given <> '{}'::jsonb", [list(book_ids)])
    changed = []
    for book_id, genre, country, language, given in cursor.fetchall():
        new = given_values(json.loads(given), genre, country, language)  # a raw cursor reads jsonb as text
        if new != (genre, country, language):
            changed.append((*new, book_id))
    if changed:
        cursor.executemany("UPDATE books_book SET genre = %s, country = %s, language = %s WHERE id = %s", changed)
    return len(changed)


def staff_given_combined(kept: dict, merged: dict) -> dict:
    """The staff-given values of a book ``merged`` into another (``kept``: the other's): both's genres (the kept
    book's first), a genre either took off and neither gave staying off; the kept book's country and language where
    staff gave it one, else the merged book's."""
    genres = list(dict.fromkeys([*kept.get("genre", []), *merged.get("genre", [])]))
    combined = {**merged, **kept, "genre": genres, "genre_removed": [
        name for name in dict.fromkeys([*kept.get("genre_removed", []), *merged.get("genre_removed", [])])
        if name not in genres]}
    return _without_empty(combined)


def staff_given_restored(current: dict, before: dict, after: dict) -> dict:
    """A kept book's staff-given values when a merge is undone: each (genres as one) that is still what the merge
    made it (``after``) goes back to what it was before (``before``); one staff changed since stays as they left
    it."""
    restored = dict(current)
    for key in {*before, *after, *current}:
        if current.get(key) == after.get(key):
            if key in before:
                restored[key] = before[key]
            else:
                restored.pop(key, None)
    return restored


def _without_empty(given: dict) -> dict:
    """``given`` less an empty genre list (a cleared country or language stays: it is staff's value)."""
    return {key: value for key, value in given.items() if value != []}


def _genres(genre: str) -> list[str]:
    return [name.strip() for name in genre.split(",") if name.strip()]


def _genres_joined(names: list[str]) -> str:
    """The names, each once and in order, as ``Book.genre`` holds them; the last ones left off past its length."""
    kept: list[str] = []
    for name in dict.fromkeys(names):
        if len(", ".join([*kept, name])) > _GENRE_LIMIT:
            break
        kept.append(name)
    return ", ".join(kept)
