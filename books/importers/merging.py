"""Which book the catalogue already has is each imported record: the lookups behind an import's merges.

A record is the book that already carries its own id (a re-import: ``goodbooks:1`` stays the book it merged into).
Otherwise it merges into a book of another source that

1. carries one of its other identifiers (a Goodreads id, an ISBN; an ISBN only where the titles are alike, since a
   source's ISBN is now and then another book's), or
2. has the same normalised title and an author of the same surname (``books.importers.matching``), and no other
   book does;

and that has no id of the record's own source yet (two goodbooks books never merge, nor two Wikipedia articles),
nor is claimed by another record of the same import.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from books.importers.matching import TitleKeys, author_surnames, same_author, titles_alike

ISBN_SCHEMES = ("isbn10", "isbn13")


@dataclass(frozen=True)
class Match:
    """The existing book a record is, and why: ``is_new`` when this import merges it there for the first time."""

    book_id: int
    method: str
    reason: str
    is_new: bool


@dataclass
class _Known:
    title: str
    titles: list[TitleKeys]
    surnames: list[str]
    schemes: set[str]


def catalogue_matches(cursor, records) -> dict[str, Match]:
    """``{record's external_id: Match}`` for each of ``records`` (``BookRecord``s of one source) that is a book of
    another source the catalogue has (a record that is its own book, imported before, is not in it)."""
    if not records:
        return {}
    wanted = {identifier for record in records for identifier in record.all_identifiers()}
    schemes, values = zip(*wanted)
    cursor.execute(
        "SELECT scheme, value, book_id, book.external_id FROM books_bookidentifier JOIN books_book AS book "
        "ON book.id = book_id WHERE (scheme, value) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        [list(schemes), list(values)],
    )
    owner, owner_external_id = {}, {}
    for scheme, value, book_id, external_id in cursor.fetchall():
        owner[(scheme, value)] = book_id
        owner_external_id[book_id] = external_id
    matches: dict[str, Match] = {}
    own = set()
    for record in records:
        book_id = owner.get(record.primary_identifier())
        if book_id is None:
            continue
        if owner_external_id[book_id] == record.external_id:
            own.add(record.external_id)  # the book this record made: re-imported, not merged
        else:
            matches[record.external_id] = Match(book_id, "identifier", f"{record.external_id} (re-import)", False)
    pending = [record for record in records if record.external_id not in matches and record.external_id not in own]
    if not pending:
        return matches

    known = _known_books(cursor, exclude_source=pending[0].source)
    by_title = defaultdict(set)
    for book_id, book in known.items():
        for keys in book.titles:
            for key in keys.lookups():
                by_title[key].add(book_id)
    claimed = {match.book_id for match in matches.values()}
    for record in pending:
        match = (_by_identifier(record, owner, known, claimed)
                 or _by_title_and_author(record, by_title, known, claimed))
        if match is not None:
            matches[record.external_id] = match
            claimed.add(match.book_id)
    return matches


def _known_books(cursor, *, exclude_source: str) -> dict[int, _Known]:
    """Every book a record of ``exclude_source`` could merge into: the titles it goes by (its own, and the original
    title a goodbooks row gives), its authors' surnames and the schemes of its identifiers."""
    cursor.execute(
        """
        SELECT book.id, book.title, book.author,
               coalesce(book.metadata->>'original_title', book.metadata->'goodbooks'->>'original_title', ''),
               coalesce(book.metadata->'goodbooks'->>'title', book.metadata->'wikipedia'->>'title', ''),
               array(SELECT DISTINCT scheme FROM books_bookidentifier WHERE book_id = book.id)
        FROM books_book AS book
        WHERE NOT EXISTS (SELECT 1 FROM books_bookidentifier AS own WHERE own.book_id = book.id AND own.scheme = %s)
        """,
        [exclude_source],
    )
    return {
        book_id: _Known(title, TitleKeys.all_of([text for text in dict.fromkeys((title, original, merged_title)) if text]),
                        author_surnames(author), set(schemes))
        for book_id, title, author, original, merged_title, schemes in cursor.fetchall()
    }


def _by_identifier(record, owner, known, claimed) -> Match | None:
    for scheme, value in record.identifiers:
        book_id = owner.get((scheme, value))
        if book_id is None or book_id not in known or book_id in claimed:
            continue
        if scheme in ISBN_SCHEMES and not any(titles_alike(title, known[book_id].title) for title in record.titles()):
            continue
        return Match(book_id, "identifier", f"{scheme}:{value}", True)
    return None


def _by_title_and_author(record, by_title, known, claimed) -> Match | None:
    surnames = author_surnames(record.author)
    if not surnames:
        return None
    titles = TitleKeys.all_of(record.titles())
    found = set()
    for keys in titles:
        for key in keys.lookups():
            for book_id in by_title.get(key, ()):
                book = known[book_id]
                if any(keys.matches(other) for other in book.titles) and same_author(surnames, book.surnames):
                    found.add(book_id)
    if len(found) != 1:
        return None  # none, or several books alike: no guess
    book_id = found.pop()
    if book_id in claimed:
        return None
    book = known[book_id]
    return Match(book_id, "title-author",
                 f"title {titles[0].full!r} and author {surnames[0]!r} as {book.title!r}", True)
