"""Values staff gave a book — a genre, country or language (an accepted prediction) — and their precedence over the
sources: staff-given beats any source.

A book keeps them in ``Book.staff_given``. Every import that writes the book (a re-import of its own source, a record
of another source merged into it) writes the source's values first and then these over them
(``staff_given_reapply``): a genre staff gave stays among the book's genres, first, whatever the source now says; a
country or language staff gave replaces the source's.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import transaction
from django.db.models.functions import Now

from books.models import Book, Genre

FIELDS = ("genre", "country", "language")
_GENRE_LIMIT = Book._meta.get_field("genre").max_length


def book_value_give(*, book_id: int, field: str, value: str) -> bool:
    """Gives ``book_id`` the ``value`` of ``field`` as staff: a genre is added to the book's genres (the staff-given
    ones first, as an import writes them back); a country or a language is set where the book has none (a value the
    book has meanwhile is kept, and nothing is recorded). Returns whether the value is now the book's, recorded as
    staff-given."""
    if field not in FIELDS:
        raise ValueError(f"{field!r} is not a field staff give a value of; one of {', '.join(FIELDS)}")
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book_id)
        given = dict(book.staff_given)
        if field == "genre":
            given["genre"] = list(dict.fromkeys([*given.get("genre", []), value]))
            changes = {"genre": _genres_joined([*given["genre"], *_genres(book.genre)])}  # as every import writes it
            Genre.objects.get_or_create(name=value)[0].books.add(book)
        elif getattr(book, field).strip() not in ("", value):
            return False
        else:
            given[field] = value
            changes = {field: value}
        Book.objects.filter(pk=book.pk).update(**changes, staff_given=given, updated_at=Now())  # the map's cache
    return True


def staff_given_reapply(cursor, book_ids: Iterable[int]) -> int:
    """Writes the staff-given values of ``book_ids`` over what an import has just written into them (``cursor``:
    inside the import's transaction, before the books' genre relations are derived from ``genre``); returns how many
    books it changed."""
    cursor.execute("SELECT id, genre, country, language, staff_given FROM books_book "
                   "WHERE id = ANY(%s) AND staff_given <> '{}'::jsonb", [list(book_ids)])
    changed = []
    for book_id, genre, country, language, given in cursor.fetchall():
        given = json.loads(given)  # a raw cursor reads jsonb as text
        new = (_genres_joined([*given.get("genre", []), *_genres(genre)]), given.get("country") or country,
               given.get("language") or language)
        if new != (genre, country, language):
            changed.append((*new, book_id))
    if changed:
        cursor.executemany("UPDATE books_book SET genre = %s, country = %s, language = %s WHERE id = %s", changed)
    return len(changed)


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
