"""Staff's corrections of the catalogue's merges: two books merged by hand, and a merge undone. Both are logged as
``BookMerge`` rows (``merged_by``, ``undone_by``), beside the admin's own history.

A merge keeps enough to be undone: the merged book's own fields (``BookMerge.snapshot``), the identifiers it brought,
and its source, which names the book↔link pairs it brought (``BookLink.source``). Values staff gave the merged book
(``books.staff_given``) go to the kept one with the records of who gave them, the kept book's own first. Undoing
makes that book again, gives it back its identifiers, pairs, people, shelf entries and staff-given values, takes its
row out of the kept book's metadata, and puts back each field of the kept book the merge changed that nobody has
changed since.
"""
from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from books.importers.authors import AuthorIndex
from books.models import Book, BookIdentifier, BookLink, BookMerge, Contribution, Genre, ShelfEntry, StaffEdit
from books.series import series_assign
from books.staff_given import given_values, staff_given_combined, staff_given_restored

SNAPSHOT_FIELDS = ("title", "author", "genre", "country", "language", "publisher", "pages", "pages_raw",
                   "publication_year", "isbn", "cover_url", "article_length", "popularity", "search_text", "metadata")
"""A book's fields a merge keeps, to make the book again if the merge is undone."""
FILLED_FIELDS = ("author", "genre", "country", "language", "publisher", "pages_raw", "isbn", "cover_url", "pages",
                 "publication_year", "article_length", "popularity", "staff_given")
"""The kept book's fields a merge by hand may change, and its undoing puts back."""


class MergeError(ValueError):
    """Why two books cannot be merged, or a merge cannot be undone, in words for staff."""


def _lock_pairs() -> None:
    # The import's order: book-link pairs first (books.importers.writing.catalogue_write), or the two can deadlock.
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE books_booklink IN SHARE ROW EXCLUSIVE MODE")


@transaction.atomic
def books_merge(*, keep: Book, merged: Book, by=None, reason: str = "") -> BookMerge:
    """Merge ``merged`` into ``keep``: its identifiers, its links (where ``keep`` has none of the same), its people,
    its shelf entries (a shelf holding both keeps one entry) and the fields ``keep`` left blank; ``merged`` is deleted.
    Raises ``MergeError`` for a book merged into itself."""
    if keep.pk == merged.pk:
        raise MergeError("A book cannot be merged into itself.")
    _lock_pairs()
    keep, merged = (Book.objects.select_for_update().get(pk=book.pk) for book in (keep, merged))
    identifiers = [f"{i.scheme}:{i.value}" for i in BookIdentifier.objects.filter(book=merged)]
    if not any(text == merged.external_id for text in identifiers):
        identifiers.insert(0, merged.external_id)
        BookIdentifier.objects.get_or_create(scheme=merged.source, value=merged.external_id.split(":", 1)[1],
                                             defaults={"book": merged})
    snapshot = {name: getattr(merged, name) for name in SNAPSHOT_FIELDS}
    snapshot["people"] = list(Contribution.objects.filter(book=merged).values_list("author_id", "role", "position"))
    snapshot["shelf_entries"] = list(ShelfEntry.objects.filter(book=merged).values_list("id", flat=True))
    snapshot["genres"] = list(merged.genres.values_list("id", flat=True))
    snapshot["staff_given"] = merged.staff_given
    snapshot["staff_edits"] = list(StaffEdit.objects.filter(book=merged).values_list("id", flat=True))
    snapshot["kept_before"] = {name: getattr(keep, name) for name in FILLED_FIELDS}
    snapshot["kept_genres"] = list(keep.genres.values_list("id", flat=True))

    BookIdentifier.objects.filter(book=merged).update(book=keep)
    with connection.cursor() as cursor:
        # Pairs never change book (a trigger keeps links' book counts): copied here, deleted with ``merged``.
        cursor.execute(
            "INSERT INTO books_booklink (book_id, link_id, count, source) "
            "SELECT %s, link_id, count, coalesce(nullif(source, ''), %s) FROM books_booklink WHERE book_id = %s "
            "ON CONFLICT (book_id, link_id) DO NOTHING",
            [keep.pk, merged.source, merged.pk])
    kept_people = set(Contribution.objects.filter(book=keep).values_list("author_id", "role"))
    Contribution.objects.filter(book=merged).exclude(
        author_id__in=[author for author, _ in kept_people]).update(book=keep)
    on_both = ShelfEntry.objects.filter(shelf__entries__book=keep).values("shelf")
    ShelfEntry.objects.filter(book=merged).exclude(shelf__in=on_both).update(book=keep)
    keep.genres.add(*merged.genres.all())
    for name in ("author", "genre", "country", "language", "publisher", "pages_raw", "isbn", "cover_url"):
        if not getattr(keep, name):
            setattr(keep, name, getattr(merged, name))
    for name in ("pages", "publication_year", "article_length"):
        if getattr(keep, name) is None:
            setattr(keep, name, getattr(merged, name))
    keep.popularity = max(keep.popularity, merged.popularity)
    keep.staff_given = staff_given_combined(keep.staff_given, merged.staff_given)  # staff-given beats any source
    keep.genre, keep.country, keep.language = given_values(keep.staff_given, keep.genre, keep.country, keep.language)
    keep.genres.add(*(Genre.objects.get_or_create(name=name)[0] for name in keep.staff_given.get("genre", [])))
    StaffEdit.objects.filter(book=merged).update(book=keep)
    keep.metadata = {**keep.metadata, merged.source: merged.metadata}
    if merged.search_text not in keep.search_text:
        keep.search_text = f"{keep.search_text} {merged.search_text}".strip()
    merged.delete()
    keep.save()
    snapshot["kept_after"] = {name: getattr(keep, name) for name in FILLED_FIELDS}
    series_assign(book_ids=[keep.pk])  # from the metadata both books' sources now give it
    return BookMerge.objects.create(
        book=keep, source=merged.source, external_id=merged.external_id, identifiers=identifiers,
        method=BookMerge.Method.STAFF, reason=reason or f"merged by hand: {merged.title!r} into {keep.title!r}",
        merged_by=by, snapshot=snapshot)


@transaction.atomic
def book_merge_undo(*, merge: BookMerge, by=None) -> Book:
    """Make the book ``merge`` merged in again, with its identifiers, links, people and shelf entries, and mark the
    merge undone; returns the book. Raises ``MergeError`` if it was undone already or keeps too little to undo."""
    merge = BookMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeError(f"This merge was undone on {merge.undone_at:%Y-%m-%d %H:%M}.")
    if not merge.snapshot:
        raise MergeError("This merge was recorded before merges kept what undoing one needs.")
    _lock_pairs()
    keep = Book.objects.select_for_update().get(pk=merge.book_id)
    snapshot = merge.snapshot
    book = Book.objects.create(external_id=merge.external_id, source=merge.source,
                               staff_given=snapshot.get("staff_given", {}),
                               **{name: snapshot[name] for name in SNAPSHOT_FIELDS})
    StaffEdit.objects.filter(pk__in=snapshot.get("staff_edits", []), book=keep).update(book=book)
    schemes_values = [tuple(text.split(":", 1)) for text in merge.identifiers]
    for scheme, value in schemes_values:
        BookIdentifier.objects.filter(book=keep, scheme=scheme, value=value).update(book=book)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO books_booklink (book_id, link_id, count, source) "
            "SELECT %s, link_id, count, source FROM books_booklink WHERE book_id = %s AND source = %s",
            [book.pk, keep.pk, merge.source])
    BookLink.objects.filter(book=keep, source=merge.source).delete()
    people = snapshot.get("people") or [  # an import's merge names its people; staff's gives their ids
        (AuthorIndex().author_id(name), role, position) for position, (name, role) in enumerate(
            snapshot.get("people_named", []))]
    Contribution.objects.bulk_create([Contribution(book=book, author_id=author, role=role, position=position)
                                      for author, role, position in people if author is not None],
                                     ignore_conflicts=True)
    ShelfEntry.objects.filter(pk__in=snapshot.get("shelf_entries", []), book=keep).update(book=book)
    book.genres.set(snapshot.get("genres", []))
    keep.metadata = {key: value for key, value in keep.metadata.items() if key != merge.source}
    changed = _kept_book_restore(keep, snapshot)
    keep.save(update_fields=["metadata", "updated_at", *changed])
    series_assign(book_ids=[keep.pk, book.pk])
    merge.undone_at, merge.undone_by = timezone.now(), by
    merge.save(update_fields=["undone_at", "undone_by"])
    return book


def _kept_book_restore(keep: Book, snapshot: dict) -> list[str]:
    """Puts back each of ``keep``'s fields a merge by hand changed and nobody has changed since (staff-given values
    one by one), and takes off the genre relations it brought that the book had not and its genres do not name;
    returns the fields changed."""
    before, after = snapshot.get("kept_before"), snapshot.get("kept_after")
    if not before or not after:  # an import's merge, or one by hand made before merges kept these
        return []
    changed = []
    for name, value in before.items():
        if name == "staff_given":
            restored = staff_given_restored(keep.staff_given, value, after[name])
        else:
            restored = value if getattr(keep, name) == after[name] else getattr(keep, name)
        if restored != getattr(keep, name):
            setattr(keep, name, restored)
            changed.append(name)
    # A genre the merge made staff-given, in genres an import has written since: it goes with its staff-given record.
    dropped = (set(after["staff_given"].get("genre", [])) - set(keep.staff_given.get("genre", []))
               - {name.strip() for name in before["genre"].split(",")})
    if any(name.strip() in dropped for name in keep.genre.split(",")):
        keep.genre = ", ".join(name.strip() for name in keep.genre.split(",") if name.strip() not in dropped)
        changed = list(dict.fromkeys([*changed, "genre"]))
    brought = set(snapshot.get("genres", [])) - set(snapshot.get("kept_genres", []))
    named = [name.strip() for name in keep.genre.split(",")]
    keep.genres.remove(*Genre.objects.filter(pk__in=brought).exclude(name__in=named))
    return changed
