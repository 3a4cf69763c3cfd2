"""Series: which series a book belongs to and its place in it, read from what its sources say, and the series' books
in order.

goodbooks titles end in a suffix that numbers the book: "The Hunger Games (The Hunger Games, #1)", "The Kill Order
(Maze Runner, #0.5)", a box set "The Lord of the Rings (The Lord of the Rings, #1-3)"; a title in two series names the
first ("The Color of Magic (Discworld, #1; Rincewind #1)" is Discworld's #1). A Wikipedia infobox gives ``series``
(sometimes numbered: "The Extraordinary Voyages #21") and the books before and after it (``preceded_by``,
``followed_by``); an unnumbered one is placed by following ``preceded_by`` from a first book (one with none and a
``followed_by``) through the series' books the catalogue has. A book merged from both sources takes the goodbooks
suffix first (its numbering is complete), from its title or the goodbooks row kept in its metadata.

``series_assign`` derives it all again from the stored books, so a re-import or a merge keeps a book's series.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import F, Q

from books.models import Book, Series
from books.text import fold

_SUFFIX = re.compile(r"\(([^()]*#\s*\d[^()]*)\)\s*$")
_NUMBERED = re.compile(r"^(?P<name>.*?)[\s,]*#\s*(?P<first>\d+(?:\.\d+)?)(?:\s*[-–]\s*(?P<last>\d+(?:\.\d+)?))?\s*$")
_INFOBOX_NUMBER = re.compile(r"^(?P<name>.*?)[\s,]*(?:#\s*|\(?\bbook\s+)(?P<first>\d+(?:\.\d+)?)\)?\s*$", re.I)
_MARKUP = re.compile(r"<\s*!--.*?--\s*>|<\s*ref\b.*?<\s*/\s*ref\s*>|<[^<>]*>", re.S)
_TRAILING_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")
_TRAILING_BRACKETS = re.compile(r"\s*\([^()]*\)\s*$")
_NOT_WORD = re.compile(r"[\W_]+")
_NONE = {"", "none", "-", "na", "n/a", "—", "–"}


@dataclass(frozen=True)
class SeriesMark:
    """What a source says of a book's series: its name, its number (``position``; an omnibus's first) and an omnibus's
    last (``position_end``), and the title of the book before it (``preceded_by``; "" when the source says none)."""

    name: str
    position: float | None = None
    position_end: float | None = None
    preceded_by: str | None = None
    followed_by: str | None = None

    @property
    def key(self) -> str:
        return series_key(self.name)


@lru_cache(maxsize=65536)  # a series' name is folded once per book of it otherwise
def series_key(name: str) -> str:
    """A series name as two spellings share it: "The Lord of the Rings" and "Lord of the Rings" are
    "lord of the rings"."""
    words = _NOT_WORD.sub(" ", fold(name).replace("&", " and ")).split()
    return " ".join(words[1:] if len(words) > 1 and words[0] in {"the", "a", "an"} else words)


def series_of_title(title: str) -> SeriesMark | None:
    """The series a title's numbered suffix names: "Mockingjay (The Hunger Games, #3)" → The Hunger Games, 3;
    "Sand Omnibus (Sand, #1-5)" → Sand, 1 to 5; None for a title without one."""
    found = _SUFFIX.search(title or "")
    if not found or not title[: found.start()].strip():
        return None
    numbered = _NUMBERED.match(found[1].split(";")[0].strip())
    if not numbered or not series_key(numbered["name"]):
        return None
    first = float(numbered["first"])
    last = float(numbered["last"]) if numbered["last"] else None
    return SeriesMark(" ".join(numbered["name"].split()), first, last if last is not None and last > first else None)


def series_of_infobox(infobox: dict) -> SeriesMark | None:
    """The series a Wikipedia infobox names, its number where the name carries one ("The Extraordinary Voyages #21",
    "Percy Jackson & the Olympians (book 2)"), and the books it names before and after; None without ``series``."""
    if not isinstance(infobox, dict) or not isinstance(infobox.get("series"), str):
        return None
    name = _clean(infobox["series"])
    position = None
    numbered = _INFOBOX_NUMBER.match(name)
    if numbered and series_key(numbered["name"]):
        name, position = numbered["name"].strip(" ,"), float(numbered["first"])
    if not series_key(name):
        return None
    return SeriesMark(name, position, None, _neighbour(infobox.get("preceded_by")), _neighbour(infobox.get("followed_by")))


def series_of_book(title: str, metadata: dict) -> SeriesMark | None:
    """A stored book's series: the goodbooks suffix of its title or of a merged goodbooks row's, else its (or a merged
    article's) infobox."""
    metadata = metadata if isinstance(metadata, dict) else {}
    goodbooks_row = metadata.get("goodbooks") if isinstance(metadata.get("goodbooks"), dict) else {}
    for candidate in (title, goodbooks_row.get("title")):
        if isinstance(candidate, str) and (mark := series_of_title(candidate)):
            return mark
    return series_of_infobox(metadata) or series_of_infobox(metadata.get("wikipedia"))


def _clean(text: str) -> str:
    return " ".join(_MARKUP.sub(" ", text).replace("''", "").split())


def _neighbour(value) -> str | None:
    """A ``preceded_by``/``followed_by`` value as a title: None when absent, "" when the source says there is none."""
    if value is None:
        return ""
    text = _TRAILING_YEAR.sub("", _clean(str(value)))
    return "" if text.casefold() in _NONE or "first" in text.casefold() else text


def _title_key(title: str) -> str:
    """A title as ``preceded_by`` names it: "Kingdom of Summer" for the article "Kingdom of Summer (novel)"."""
    shorter = _TRAILING_BRACKETS.sub("", title or "")
    return series_key(shorter or title)


def series_assign(*, book_ids: Iterable[int], models: tuple = (Book, Series)) -> None:
    """Set the series and place of each of ``book_ids`` from its title and metadata (``series_of_book``), place anew
    the unnumbered books of every series they join or leave, and delete series left without books. ``models`` are
    the Book and Series classes to write with (a migration's historical ones)."""
    Book, Series = models  # noqa: N806 - the model classes, as a migration passes them
    book_ids = sorted(set(book_ids))
    if not book_ids:
        return
    previous_keys = set(Series.objects.filter(books__id__in=book_ids).values_list("key", flat=True))
    # Only a book whose title numbers it, or whose metadata names a series, can be in one: the rest are not read.
    may_be_in_series = (Q(title__contains="#") | Q(metadata__has_key="series")
                        | Q(metadata__goodbooks__title__icontains="#") | Q(metadata__wikipedia__has_key="series"))
    marks = {row[0]: series_of_book(row[1], row[2]) for row in Book.objects.filter(
        may_be_in_series, id__in=book_ids).values_list("id", "title", "metadata").iterator(2000)}
    marks = {book_id: mark for book_id, mark in marks.items() if mark is not None}
    keys = {mark.key for mark in marks.values()}
    others = (Book.objects.filter(series__key__in=keys | previous_keys).exclude(id__in=book_ids)
              .values_list("id", "title", "metadata", "series__key"))
    for book_id, title, metadata, key in others:
        mark = series_of_book(title, metadata)
        if mark is not None and mark.key == key:  # a member derived as now, kept
            marks[book_id] = mark
    names: dict[str, str] = {}
    for mark in marks.values():
        names.setdefault(mark.key, mark.name)
    Series.objects.bulk_create([Series(key=key, name=name[:300]) for key, name in names.items()], ignore_conflicts=True)
    series_ids = dict(Series.objects.filter(key__in=names).values_list("key", "id"))

    titles = dict(Book.objects.filter(id__in=marks).values_list("id", "title"))
    placed = _positions(marks, titles)
    changed = []
    for book in Book.objects.filter(Q(id__in=marks) | Q(id__in=book_ids, series__isnull=False)).only(
            "id", "series_id", "series_position", "series_position_end"):
        mark = marks.get(book.id)
        wanted = ((series_ids[mark.key], placed.get(book.id), mark.position_end) if mark else (None, None, None))
        if (book.series_id, book.series_position, book.series_position_end) != wanted:
            book.series_id, book.series_position, book.series_position_end = wanted
            changed.append(book)
    Book.objects.bulk_update(changed, ["series_id", "series_position", "series_position_end"], batch_size=1000)
    Series.objects.filter(key__in=previous_keys | keys, books__isnull=True).delete()


def _positions(marks: dict[int, SeriesMark], titles: dict[int, str]) -> dict[int, float]:
    """Each book's number: its own, or, for an unnumbered book of an infobox, one more than the book its
    ``preceded_by`` names (1 for a first book: none before it and one after it)."""
    placed = {book_id: mark.position for book_id, mark in marks.items() if mark.position is not None}
    by_key: dict[str, dict[str, int]] = {}
    for book_id, mark in marks.items():
        by_key.setdefault(mark.key, {}).setdefault(_title_key(titles.get(book_id, "")), book_id)
    for book_id, mark in marks.items():
        if book_id not in placed and mark.preceded_by == "" and mark.followed_by:
            placed[book_id] = 1.0
    for _ in range(len(marks)):
        progress = False
        for book_id, mark in marks.items():
            if book_id in placed or not mark.preceded_by:
                continue
            before = by_key[mark.key].get(_title_key(mark.preceded_by))
            if before is not None and before in placed and before != book_id:
                placed[book_id] = (marks[before].position_end or placed[before]) + 1
                progress = True
        if not progress:
            break
    return placed


def series_books(series: Series) -> list[Book]:
    """The series' books in order: by number (an omnibus after the book it starts with), the unnumbered last by year,
    then title."""
    return list(series.books.order_by(F("series_position").asc(nulls_last=True),
                                      F("series_position_end").asc(nulls_first=True),
                                      F("publication_year").asc(nulls_last=True), "title", "id"))


def series_size(books: list[Book]) -> int | None:
    """How many books the series has, as its numbers say: its highest whole number (a box set's last counts); None
    when no book is numbered."""
    numbers = [book.series_position_end or book.series_position for book in books
               if book.series_position is not None]
    return int(max(numbers)) if numbers and max(numbers) >= 1 else None
