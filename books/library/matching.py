"""Which catalogue book each row of a reader's export is, by the catalogue's own rules
(``books.importers.matching``): the Bookvec id of Bookvec's own export, then the Goodreads book id
(``goodreads:<id>`` identifiers, which goodbooks gives), then the ISBN-13/ISBN-10 (``isbn13:``/``isbn10:``; only where
the titles are alike, as the catalogue's imports require), then the normalised title and author.

The threshold for title and author: the titles are the same once normalised (``TitleKeys.matches``: series suffixes,
disambiguators, subtitles, articles, case and accents aside) and a surname of the row's author is alike to one of the
book's (its ``Author`` aliases included: ``same_author``), and exactly one book is so. Anything less is unmatched,
listed with up to ``CANDIDATES`` likeliest books; a book is never invented.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchVector
from rapidfuzz import fuzz

from books.importers.matching import TitleKeys, author_surnames, isbn_identifiers, same_author, title_key, titles_alike
from books.library.formats import LibraryRow
from books.models import Book, BookIdentifier, Contribution

CANDIDATES = 5
"""Likeliest books listed for an unmatched row."""
_SEARCHED = 50
"""Books a title search weighs (the most popular of those whose title and author hold every word of the title)."""


@dataclass
class RowMatch:
    book_id: int | None
    how: str = ""
    """"bookvec id", "goodreads id", "isbn", "title and author"; or why there is no match."""
    candidates: list[dict] = field(default_factory=list)


def library_rows_match(rows: list[LibraryRow]) -> list[RowMatch]:
    """A ``RowMatch`` for each row, in order."""
    by_bookvec = set(Book.objects.filter(pk__in=[row.bookvec_id for row in rows if row.bookvec_id])
                     .values_list("pk", flat=True))
    wanted = {("goodreads", row.goodreads_id) for row in rows if row.goodreads_id}
    for row in rows:
        wanted.update(pair for isbn in row.isbns for pair in isbn_identifiers(isbn))
    by_identifier = {}
    values = {value for _, value in wanted}
    for scheme, value, book_id, title in BookIdentifier.objects.filter(
            scheme__in=["goodreads", "isbn10", "isbn13"], value__in=values).values_list(
            "scheme", "value", "book_id", "book__title"):
        by_identifier[(scheme, value)] = (book_id, title)
    return [_match(row, by_bookvec, by_identifier) for row in rows]


def _match(row: LibraryRow, by_bookvec: set[int], by_identifier: dict) -> RowMatch:
    if row.bookvec_id in by_bookvec:
        return RowMatch(row.bookvec_id, "bookvec id")
    if ("goodreads", row.goodreads_id) in by_identifier:
        return RowMatch(by_identifier[("goodreads", row.goodreads_id)][0], "goodreads id")
    for isbn in row.isbns:
        for pair in isbn_identifiers(isbn):
            found = by_identifier.get(pair)
            if found and titles_alike(row.title, found[1]):
                return RowMatch(found[0], "isbn")
    return _by_title_and_author(row)


def _searches(keys: TitleKeys) -> list[str]:
    """What the title search tries, until one finds books: the title's words, then without a subtitle, then its
    longest word alone ("&" is "and" in a title key but not in the searched text; "Catch-22" is tokenised otherwise
    there)."""
    searches = [" ".join(word for word in key.split() if word != "and") for key in keys.lookups()]
    longest = max(keys.full.split(), key=len, default="")
    return [words for words in dict.fromkeys([*searches, longest]) if words]


def _by_title_and_author(row: LibraryRow) -> RowMatch:
    keys = TitleKeys.of(row.title)
    books = []
    for words in _searches(keys):
        query = SearchQuery(words, config="simple", search_type="plain")
        books = list(Book.objects.annotate(found=SearchVector("search_text", config="simple"))
                     .filter(found=query).order_by("-popularity", "pk").values("pk", "title", "author")[:_SEARCHED])
        if books:
            break
    if not books:
        return RowMatch(None, "no book of the catalogue has this title")
    names: dict[int, list[str]] = {book["pk"]: [book["author"]] for book in books}
    for book_id, name, aliases in Contribution.objects.filter(book_id__in=names).values_list(
            "book_id", "author__name", "author__aliases"):
        names[book_id] += [name, *aliases]
    surnames = author_surnames(row.author)
    scored, confident = [], []
    for book in books:
        book_surnames = [surname for name in names[book["pk"]] for surname in author_surnames(name)]
        author_alike = bool(surnames) and same_author(surnames, book_surnames)
        title_same = any(keys.matches(other) or other.matches(keys) for other in TitleKeys.all_of([book["title"]]))
        if title_same and author_alike:
            confident.append(book["pk"])
        score = round(0.7 * fuzz.token_set_ratio(keys.full, title_key(book["title"])) + (30 if author_alike else 0))
        scored.append({"book_id": book["pk"], "score": score})
    scored.sort(key=lambda candidate: -candidate["score"])
    if len(confident) == 1:
        return RowMatch(confident[0], "title and author")
    reason = (f"{len(confident)} books have this title and author" if confident else
              "no book has both this title and this author" if surnames else "no author given, and a title alone "
              "never matches")
    return RowMatch(None, reason, scored[:CANDIDATES])
