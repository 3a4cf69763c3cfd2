"""Reads of the catalogue and of readers' shelves, with the privacy rule in one place."""
import bisect
import difflib
import itertools
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Count, F, Max, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Ln

from books.importers.normalise import normalise_country
from books.models import Book, BookLink, Link, Shelf, ShelfEntry
from books.text import fold


def shelves_visible_to(*, viewer) -> QuerySet[Shelf]:
    """Shelves ``viewer`` may see: their own, and every public one. Anonymous viewers see public ones."""
    if viewer is not None and viewer.is_authenticated:
        return Shelf.objects.filter(user=viewer) | Shelf.objects.filter(is_public=True)
    return Shelf.objects.filter(is_public=True)


def shelf_list(*, owner) -> QuerySet[Shelf]:
    """``owner``'s shelves, standard ones first, then in the order they were made, each with its ``book_count``."""
    custom_last = Case(When(kind=Shelf.Kind.CUSTOM, then=Value(1)), default=Value(0))
    return Shelf.objects.filter(user=owner).annotate(book_count=Count("entries")).order_by(custom_last, "id")


def shelf_entries(*, shelf: Shelf) -> QuerySet[ShelfEntry]:
    """The books on ``shelf``, newest first, with the books loaded."""
    return ShelfEntry.objects.filter(shelf=shelf).select_related("book")


def shelves_holding_book(*, user, book) -> set[int]:
    """The ids of ``user``'s shelves that hold ``book``."""
    return set(ShelfEntry.objects.filter(shelf__user=user, book=book).values_list("shelf_id", flat=True))


def shelved_book_ids(*, user) -> set[int]:
    """Every book on any of ``user``'s shelves."""
    return set(ShelfEntry.objects.filter(shelf__user=user).values_list("book_id", flat=True))


# --- The catalogue -----------------------------------------------------------------------------------

SEARCH_CONFIG = "simple"


def book_search(*, query=None, genre=None, country=None, source=None, author=None) -> QuerySet[Book]:
    """Books matching a title/author ``query`` and the given filters, best match first.

    The query forgives case and accents (``Book.search_text`` is folded), matches word prefixes
    ("dost" finds Dostoevsky) and, when a word matches no title or author word of the catalogue, looks
    for the catalogue's closest spellings of it instead ("karenia" → "karenina"; "dostoievski" →
    "dostoevsky" or "dostoyevsky"). ``genre`` and ``author`` match one entry of the book's comma-separated
    list, case-insensitively (``author`` whatever the spaces after initials: "J.K. Rowling" is "J. K. Rowling");
    ``country`` matches the whole value, by any of its names ("USA" is the United
    States). Without a query, the most popular books come first; a query with no letter or digit finds none.
    """
    books = Book.objects.all()
    if genre:
        books = books.filter(genre__iregex=_list_entry_regex(genre))
    if author:
        books = books.filter(author__iregex=_list_entry_regex(author, initials_spaced_any_way=True))
    if country:
        books = books.filter(country__iexact=normalise_country(country))
    if source:
        books = books.filter(source=source)
    words = book_search_words(query=query)
    if not words:
        # A query of nothing searchable ("📚", "%") finds nothing; no query at all lists every book.
        return books.none() if query and query.strip() else books.order_by("-popularity", "title", "id")
    expression = " & ".join("(" + " | ".join(f"{spelling}:*" for spelling in spellings) + ")" for spellings in words)
    search_query = SearchQuery(expression, search_type="raw", config=SEARCH_CONFIG)
    # The same expression as the GIN index book_search_text, so the index serves the match.
    document = SearchVector("search_text", config=SEARCH_CONFIG)
    return (
        books.alias(document=document)
        .filter(document=search_query)
        # Length-normalised rank (a short title that is the query beats a long one that mentions it), doubled
        # where the title itself matches (Austen's "Emma" before the books of authors named Emma), weighed by
        # popularity on a log scale so a famous match outranks an obscure one.
        .annotate(rank=(SearchRank(document, search_query, normalization=2)
                        + SearchRank(SearchVector("title", config=SEARCH_CONFIG), search_query, normalization=2))
                  * Ln(F("popularity") + 3))
        .order_by("-rank", "-popularity", "title", "id")
    )


def book_search_words(*, query) -> list[list[str]]:
    """What ``book_search`` looks for: each folded query word, or an unknown word's closest spellings."""
    words = re.findall(r"[^\W_]+", fold(query or ""))
    if not words:
        return []
    vocabulary = _search_vocabulary()
    return [vocabulary.spellings(word) for word in words]


def book_search_correction(*, query) -> str | None:
    """The query ``book_search`` actually ran ("anna karenina" for "anna karenia", a word's spellings joined
    by "/"), or None if it kept every word as typed (a name's other spellings looked for beside it, as
    "tolstoy" also finds "tolstoj", correct nothing)."""
    typed = re.findall(r"[^\W_]+", fold(query or ""))
    searched = book_search_words(query=query)
    if all(word in spellings for word, spellings in zip(typed, searched)):
        return None
    return " ".join("/".join(spellings) for spellings in searched)


def reader_named(username: str):
    """The account named ``username``: exactly, else the one name equal to it whatever the case (sign-up keeps
    names unique so; two older accounts that differ only in case each need their exact name). None if none."""
    users = get_user_model()._default_manager
    exact = users.filter(username=username).first()
    if exact is not None:
        return exact
    same_name = list(users.filter(username__iexact=username)[:2])
    return same_name[0] if len(same_name) == 1 else None


def book_detail(*, book_id: int) -> Book:
    """One book with its links (most used first) loaded; raises ``Book.DoesNotExist``."""
    return Book.objects.prefetch_related(
        Prefetch("book_links", queryset=BookLink.objects.select_related("link").order_by("-count", "link__name"))
    ).get(pk=book_id)


def books_popular(*, limit: int = 12) -> list[Book]:
    """The books most readers shelved, most popular first."""
    return list(Book.objects.order_by("-popularity", "title", "id")[:limit])


def books_recently_added(*, limit: int = 12) -> list[Book]:
    """The books added to the catalogue last, newest first."""
    return list(Book.objects.order_by("-created_at", "-id")[:limit])


def link_detail(*, link_id: int) -> Link:
    """A link with ``tagged_count`` (goodbooks books tagged with it) and ``linking_count`` (Wikipedia books
    linking to it): a tag and a Wikipedia link of the same name are one Link."""
    return Link.objects.annotate(
        tagged_count=Count("book_links", filter=Q(book_links__book__source=Book.Source.GOODBOOKS)),
        linking_count=Count("book_links", filter=Q(book_links__book__source=Book.Source.WIKIPEDIA)),
    ).get(pk=link_id)


def link_books(*, link: Link) -> QuerySet[Book]:
    """The books that link to ``link``, the ones that link to it most (then the most popular) first."""
    return Book.objects.filter(book_links__link=link).order_by("-book_links__count", "-popularity", "title", "id")


@dataclass(frozen=True)
class CatalogueFacet:
    """One value of a browsable field (a genre, a country, an author) and how many books have it."""

    name: str
    book_count: int


def genre_list(*, limit: int | None = None) -> list[CatalogueFacet]:
    """Every genre of the catalogue (books list several, comma-separated) with its book count, largest first."""
    return _facet_list("genre", split=True, limit=limit)


def country_list(*, limit: int | None = None) -> list[CatalogueFacet]:
    """Every country of the catalogue with its book count, largest first."""
    return _facet_list("country", split=False, limit=limit)


def author_list(*, initial: str | None = None) -> list[CatalogueFacet]:
    """Authors (books list several, comma-separated) with their book counts, alphabetically.

    ``initial`` keeps the authors whose name starts with that letter (folded: "É" counts as "E");
    "#" keeps those starting with anything but a letter.
    """
    facets = _facet_list("author", split=True, limit=None)
    if initial:
        initial = fold(initial)[:1]
        if initial == "#":
            facets = [facet for facet in facets if not fold(facet.name)[:1].isalpha()]
        else:
            facets = [facet for facet in facets if fold(facet.name)[:1] == initial]
    return sorted(facets, key=lambda facet: (fold(facet.name), facet.name))


def _facet_list(field: str, *, split: bool, limit: int | None) -> list[CatalogueFacet]:
    # Field names come from this module only, never from a request.
    value = f"trim(regexp_split_to_table({field}, ','))" if split else f"trim({field})"
    sql = (
        f"SELECT value, count(*) FROM (SELECT {value} AS value FROM books_book WHERE {field} <> '') AS v "
        "WHERE value <> '' GROUP BY value ORDER BY count(*) DESC, value"
    )
    params = []
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [CatalogueFacet(name=name, book_count=count) for name, count in cursor.fetchall()]


def _list_entry_regex(value: str, *, initials_spaced_any_way: bool = False) -> str:
    """A regex matching ``value`` as one whole entry of a comma-separated list; with ``initials_spaced_any_way``,
    a full stop may be followed by any spaces or none ("J.K." matches "J. K.")."""
    def spaced(text: str) -> str:
        return r"\s+".join(re.escape(word) for word in text.split())

    words = r"\.\s*".join(map(spaced, value.split("."))) if initials_spaced_any_way else spaced(value)
    return r"(^|,)\s*" + words + r"\s*(,|$)"


class _Vocabulary:
    """The distinct words of every book's title and author, for correcting a mistyped query word.

    A word that starts some catalogue word, or is shorter than ``MIN_LENGTH`` ("usa" is no typo of "us"), is
    kept as typed (search matches prefixes). Another word is replaced by the catalogue words of at least
    ``MIN_LENGTH`` letters most like it (difflib's ratio, at least ``MIN_RATIO`` and within ``SPELLING_MARGIN``
    of the best, at most ``MAX_SPELLINGS``: a name spelt several ways in the catalogue is looked for in all of
    them), looked for among the words that share the most letter trigrams with it, so a lookup never scans
    every word. An author's name spelt correctly is looked for in its other spellings too ("dostoevsky" also
    finds "dostoyevsky", "tolstoj" "tolstoy"): words at least ``NAME_RATIO`` alike that the catalogue's authors
    use in names otherwise the same ("fyodor dostoevsky", "fyodor dostoyevsky"), so "orwell" is never
    "cornwell" nor "collins" "rollins".
    """

    MIN_RATIO = 0.75
    MIN_LENGTH = 4
    SPELLING_MARGIN = 0.05
    MAX_SPELLINGS = 3
    CANDIDATES = 60
    NAME_RATIO = 0.85
    NAME_LENGTH = 6

    def __init__(self, word_counts: dict[str, int], author_names: Iterable[str]):
        self.words = sorted(word_counts)
        self.counts = word_counts
        self.name_spellings = _name_spellings(author_names, self.NAME_RATIO, self.NAME_LENGTH)
        self.by_trigram = defaultdict(list)
        for word in self.words:
            for trigram in _trigrams(word):
                self.by_trigram[trigram].append(word)

    def spellings(self, word: str) -> list[str]:
        """``[word]`` if it starts a catalogue word or is like none; else its closest catalogue words, best first."""
        position = bisect.bisect_left(self.words, word)
        if len(word) < self.MIN_LENGTH:
            return [word]
        if position < len(self.words) and self.words[position].startswith(word):
            return [word, *self.name_spellings.get(word, [])[: self.MAX_SPELLINGS - 1]]
        scored = self._scored(word)
        if not scored:
            return [word]
        close = [candidate for ratio, _, candidate in scored
                 if ratio >= max(self.MIN_RATIO, scored[0][0] - self.SPELLING_MARGIN)]
        return close[: self.MAX_SPELLINGS] or [word]

    def _scored(self, word: str) -> list[tuple[float, int, str]]:
        """(likeness, books, catalogue word) of the words sharing the most trigrams with ``word``, most alike first."""
        shared = Counter()
        for trigram in _trigrams(word):
            shared.update(self.by_trigram.get(trigram, ()))
        return sorted(
            ((difflib.SequenceMatcher(None, word, candidate).ratio(), self.counts[candidate], candidate)
             for candidate, _ in shared.most_common(self.CANDIDATES) if len(candidate) >= self.MIN_LENGTH),
            reverse=True,
        )


def _name_spellings(author_names: Iterable[str], min_ratio: float, min_length: int) -> dict[str, list[str]]:
    """Each author-name word's other spellings, most alike first: a word that takes its place in a name otherwise
    the same ("fyodor dostoevsky" and "fyodor dostoyevsky"), at least ``min_ratio`` alike (not "john"/"jane"),
    both of ``min_length`` letters or more and neither starting the other (Thomas More is not Thomas Moore,
    nor Martin Martini)."""
    in_place_of = defaultdict(set)  # "fyodor *" -> {"dostoevsky", "dostoyevsky"}
    for name in author_names:
        words = re.findall(r"[^\W_]+", fold(name))
        if len(words) >= 2:
            for i, word in enumerate(words):
                in_place_of[(*words[:i], "*", *words[i + 1:])].add(word)
    spellings = defaultdict(set)
    for words in in_place_of.values():
        for word, other in itertools.permutations(words, 2):
            if (min(len(word), len(other)) >= min_length and not other.startswith(word) and not word.startswith(other)
                    and difflib.SequenceMatcher(None, word, other).ratio() >= min_ratio):
                spellings[word].add(other)
    return {word: sorted(others, key=lambda other: -difflib.SequenceMatcher(None, word, other).ratio())
            for word, others in spellings.items()}


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


_vocabulary_lock = threading.Lock()
_vocabulary_cache: dict = {}


def _search_vocabulary() -> _Vocabulary:
    """The catalogue's vocabulary, rebuilt only when books were added, removed or changed."""
    signature = tuple(Book.objects.aggregate(count=Count("id"), last_id=Max("id"), changed=Max("updated_at")).values())
    with _vocabulary_lock:
        if _vocabulary_cache.get("signature") != signature:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT word, ndoc FROM ts_stat($$SELECT to_tsvector('simple', search_text) FROM books_book$$)"
                )
                word_counts = dict(cursor.fetchall())
            authors = {name.strip() for names in Book.objects.values_list("author", flat=True).distinct()
                       for name in names.split(",")}
            _vocabulary_cache["vocabulary"] = _Vocabulary(word_counts, authors)
            _vocabulary_cache["signature"] = signature
        return _vocabulary_cache["vocabulary"]
