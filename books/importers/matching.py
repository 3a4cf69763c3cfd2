"""How an imported record is recognised as a book the catalogue already has, from another source: by identifiers
(ISBNs made comparable by ``python-stdnum``), then by a normalised title and author.

Normalising a title drops what differs between sources for the same work: a series suffix ("The Hunger Games
(The Hunger Games, #1)"), a disambiguator ("The Hunger Games (novel)", "Twilight (Meyer novel)"), a subtitle after
':', articles (the, a, an), punctuation, case and accents ("Les Misérables" is "miserables"). An author is compared by
surname, folded (initials and accents aside), and two surnames are the same person's when ``rapidfuzz`` finds them at
least ``SURNAME_LIKENESS`` alike ("dostoevsky"/"dostoyevsky", "tolstoy"/"tolstoj"): a title alone never merges.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz
from stdnum import isbn as stdnum_isbn

from books.text import fold

SURNAME_LIKENESS = 85
"""rapidfuzz's ratio (0-100) from which two folded surnames name the same author: "dostoevsky"/"dostoyevsky" 95,
"tolstoy"/"tolstoj" 86; "collins"/"rollins" and "orwell"/"cornwell" are 86 too, so the first letters must agree and a
title must match as well."""
SURNAME_MIN_LENGTH = 6
"""Shorter surnames are alike only when equal: one letter apart is another name ("more"/"moore", "king"/"kink")."""
TITLES_ALIKE = 60
"""rapidfuzz's token set ratio (0-100) from which two titles sharing an ISBN are taken for one work."""
_TRAILING_BRACKETS = re.compile(r"\s*\([^()]*\)\s*$")
_ARTICLES = {"the", "a", "an"}
_NOT_WORD = re.compile(r"[\W_]+")
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md"}


def isbn_identifiers(text: str) -> list[tuple[str, str]]:
    """``[("isbn10", …), ("isbn13", …)]`` for a valid ISBN in ``text`` (hyphens, spaces, a lost leading zero as goodbooks'
    "439023483" aside): an ISBN-10 gives its ISBN-13 too, so either source's spelling finds the other's. ``[]`` when
    ``text`` holds no valid ISBN."""
    compact = re.sub(r"[^0-9Xx]", "", text or "").upper()
    if len(compact) == 9:
        compact = "0" + compact
    if not stdnum_isbn.is_valid(compact):
        return []
    if len(compact) == 10:
        return [("isbn10", compact), ("isbn13", stdnum_isbn.to_isbn13(compact))]
    return [("isbn13", compact)]


def title_key(title: str) -> str:
    """``title`` as matching compares it: "The Hunger Games (The Hunger Games, #1)" and "The Hunger Games (novel)"
    are both "hunger games"."""
    text = title or ""
    while True:
        shorter = _TRAILING_BRACKETS.sub("", text)
        if shorter == text or not shorter.strip():
            break
        text = shorter
    text = fold(text.split(":")[0] if ":" in text.strip(":") else text).replace("&", " and ")
    return " ".join(word for word in _NOT_WORD.sub(" ", text).split() if word not in _ARTICLES)


def author_surnames(author: str) -> list[str]:
    """The folded surname of each of ``author``'s comma-separated names: "J.K. Rowling, Mary GrandPré" →
    ["rowling", "grandpre"]; "Martin Luther King Jr." → ["king"]."""
    surnames = []
    for name in (author or "").split(","):
        words = [word for word in _NOT_WORD.sub(" ", fold(name)).split() if word not in _NAME_SUFFIXES]
        if words:
            surnames.append(words[-1])
    return surnames


def same_author(one: list[str], other: list[str]) -> bool:
    """Whether some surname of ``one`` names the same person as some surname of ``other``: the same, or with the same
    first letter, at least ``SURNAME_MIN_LENGTH`` letters, ``SURNAME_LIKENESS`` alike, and neither the other with
    letters added (not "orwell"/"cornwell", nor "more"/"moore" or "martin"/"martini": other people)."""
    return any(a == b or (a[0] == b[0] and min(len(a), len(b)) >= SURNAME_MIN_LENGTH and not a.startswith(b)
                          and not b.startswith(a) and fuzz.ratio(a, b) >= SURNAME_LIKENESS)
               for a in one for b in other)


def series_names(title: str) -> set[str]:
    """The series a title names in a trailing "(Series, #n)", as ``title_key`` folds it: {"artemis fowl"}."""
    names = set()
    for inside in re.findall(r"\(([^()]*),\s*#\s*[\d.–-]+\)", title or ""):
        names.add(title_key(inside))
    return names


@dataclass(frozen=True)
class TitleKeys:
    """A title as matching compares it: the whole (``full``), and before a subtitle (``short``, or None)."""

    full: str
    short: str | None
    series: frozenset[str]

    @classmethod
    def of(cls, title: str, *, series: frozenset[str] = frozenset()) -> TitleKeys:
        """``title``'s keys; ``series`` adds series the record names in another of its titles."""
        full = title_key(title.replace(":", " ")) if ":" in title else title_key(title)
        short = title_key(title.split(":")[0]) if ":" in title.strip(":") else None
        return cls(full, short if short and short != full else None, frozenset(series_names(title)) | series)

    @classmethod
    def all_of(cls, titles) -> list[TitleKeys]:
        """The keys of each of one record's titles, each knowing the series any of them names (goodbooks'
        ``original_title`` "Artemis Fowl" is of the series its title "Artemis Fowl (Artemis Fowl, #1)" names)."""
        series = frozenset().union(*(series_names(title) for title in titles))
        return [cls.of(title, series=series) for title in titles]

    def lookups(self) -> list[str]:
        return [self.full] if self.short is None else [self.full, self.short]

    def matches(self, other: TitleKeys) -> bool:
        """The same title, or one is the other without its subtitle ("Naked Economics: Undressing the Dismal
        Science" and "Naked Economics") unless what is left names the other's series ("Artemis Fowl: The Time
        Paradox" is not "Artemis Fowl (Artemis Fowl, #1)"), or one is the other's series and title ("Artemis Fowl: The
        Time Paradox" is "The Time Paradox (Artemis Fowl, #6)")."""
        if not self.full:
            return False
        if self.full == other.full or any(f"{series} {self.full}" == other.full for series in self.series) or any(
                f"{series} {other.full}" == self.full for series in other.series):
            return True
        return ((self.short is not None and self.short == other.full and self.short not in other.series)
                or (other.short is not None and other.short == self.full and other.short not in self.series))


def titles_alike(one: str, other: str) -> bool:
    """Whether two titles name the same work loosely (``TITLES_ALIKE`` by rapidfuzz's token set ratio on their
    keys): what an ISBN match must also show, since a source's ISBN is now and then another book's."""
    return fuzz.token_set_ratio(title_key(one), title_key(other)) >= TITLES_ALIKE
