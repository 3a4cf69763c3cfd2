"""Re-ranking a reader's scored suggestions so that they stop repeating what the reader has: series and box sets
collapse, and one author does not fill a row.

Plain Python on ids (no Django): the web selector applies it after scoring (``recommender.selectors.recommendations``)
and ``bench/quality/series_reranking.py`` measures what it costs on goodbooks readers.

1. **Series.** A series takes one place in the list, at its best-ranked book's rank, and the book shown there is the
   series' *next* one: the lowest-numbered suggested book after the highest number on the reader's shelves (after
   none, for a series the reader has not started: its first suggested book), a single book before a box set that
   starts at the same number. A box set or omnibus ("#1-3") is never shown when it holds a book the reader shelved
   or one before it; an unnumbered book of a series stands for it only when no numbered one can.
2. **Authors.** In every ``row`` places (the first row of the page, and each after it), one author has at most
   ``per_author`` books; a book over that waits for the next row. An author who is the whole shelf is exempt.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

ROW = 6
"""Places in a row of suggestions (For you shows 12 a page, in rows of up to 6 at 1280 px)."""
PER_AUTHOR = 2
"""Books of one author in a row at most (unless the reader's shelf is all that author)."""


@dataclass(frozen=True)
class BookFacts:
    """What re-ranking knows of a book: its series (any hashable id; None if in none), its number there (a box set's
    first, with ``position_end`` its last) and its author (any key; "" if unknown)."""

    series: object = None
    position: float | None = None
    position_end: float | None = None
    author: str = ""

    @property
    def last(self) -> float | None:
        return self.position_end if self.position_end is not None else self.position


def rerank(ranked: Sequence[T], *, facts: Mapping[int, BookFacts], shelf: Iterable[int],
           book_id: Callable[[T], int] = lambda item: item, row: int = ROW, per_author: int = PER_AUTHOR) -> list[T]:
    """``ranked`` (best first) with each series collapsed to its next book and authors spread over rows, as the
    module says; nothing else moves ahead of where it was. ``facts`` knows the suggested and the shelved books (a book
    it does not know is in no series and has no author); ``shelf`` is every book the reader has; ``book_id`` reads
    an item's book id."""
    shelf = list(shelf)
    return _authors_spread(_series_collapsed(ranked, facts, shelf, book_id), facts, shelf, book_id, row, per_author)


def _series_collapsed(ranked: Sequence[T], facts: Mapping[int, BookFacts], shelf: list[int],
                      book_id: Callable[[T], int]) -> list[T]:
    highest: dict[object, float] = {}
    for shelved in shelf:
        fact = facts.get(shelved)
        if fact is not None and fact.series is not None:
            if fact.last is not None:
                highest[fact.series] = max(highest.get(fact.series, fact.last), fact.last)
    members: dict[object, list[tuple[int, T]]] = {}
    for rank, item in enumerate(ranked):
        fact = facts.get(book_id(item))
        if fact is not None and fact.series is not None:
            members.setdefault(fact.series, []).append((rank, item))
    shown_at: dict[int, T] = {}
    for series, books in members.items():
        after = highest.get(series)
        numbered = [(facts[book_id(item)], rank, item) for rank, item in books
                    if facts[book_id(item)].position is not None
                    and (after is None or facts[book_id(item)].position > after)]
        if numbered:
            chosen = min(numbered, key=lambda found: (found[0].position, found[0].position_end is not None, found[1]))[2]
        else:
            unnumbered = [item for _, item in books if facts[book_id(item)].position is None]
            if not unnumbered:
                continue
            chosen = unnumbered[0]
        shown_at[books[0][0]] = chosen
    collapsed = []
    for rank, item in enumerate(ranked):
        fact = facts.get(book_id(item))
        if fact is None or fact.series is None:
            collapsed.append(item)
        elif rank in shown_at:
            collapsed.append(shown_at[rank])
    return collapsed


def _authors_spread(ranked: list[T], facts: Mapping[int, BookFacts], shelf: list[int],
                    book_id: Callable[[T], int], row: int, per_author: int) -> list[T]:
    shelf_authors = {facts[shelved].author for shelved in shelf if shelved in facts}
    exempt = next(iter(shelf_authors)) if len(shelf_authors) == 1 else None
    spread: list[T] = []
    waiting = list(ranked)
    while waiting:
        in_row: Counter[str] = Counter()
        taken, later = [], []
        for item in waiting:
            fact = facts.get(book_id(item))
            author = fact.author if fact is not None else ""
            if len(taken) < row and (not author or author == exempt or in_row[author] < per_author):
                taken.append(item)
                in_row[author] += 1
            else:
                later.append(item)
        spread.extend(taken)
        waiting = later
    return spread
