"""Reads of the catalogue and of readers' shelves, with the privacy rule in one place."""
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from books.importers.authors import author_key
from books.importers.normalise import normalise_country
from books.models import Author, Book, BookIdentifier, BookLink, BookMerge, Contribution, Link, Shelf, ShelfEntry
from books.search import SearchPlan, book_search_plan, books_matching
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


def book_search(*, query: str | SearchPlan | None = None, genre=None, country=None, source=None,
                author=None) -> QuerySet[Book]:
    """Books matching a title/author ``query`` and the given filters, best match first.

    The query forgives case and accents (``Book.search_text`` is folded), matches word prefixes
    ("dost" finds Dostoevsky), finds a name under its other spellings, and when it finds nothing as typed searches
    the one whole correction that finds books instead ("anna karenia" → "anna karenina"; ``books.search``). A caller
    that shows the correction passes the ``SearchPlan`` of ``book_search_plan`` instead of the query. Books of one
    series (``Book.series``) come together, in series order (#1 before #7, a box set after the books it starts with),
    where the best-ranked of them would be.
    ``genre`` and ``author`` match one entry of the book's comma-separated
    list, case-insensitively (``author`` whatever the spaces after initials: "J.K. Rowling" is "J. K. Rowling", and
    under any spelling of the person: "Fyodor Dostoyevsky" finds the books of "Fyodor Dostoevsky");
    ``country`` matches the whole value, by any of its names ("USA" is the United
    States). Without a query, the most popular books come first; a query with no letter or digit finds none.
    """
    books = Book.objects.all()
    if genre:
        books = books.filter(genre__iregex=_list_entry_regex(genre))
    if author:
        books = books.filter(Q(author__iregex=_list_entry_regex(author, initials_spaced_any_way=True))
                             | Q(pk__in=Contribution.objects.filter(author__in=authors_named(author)).values("book")))
    if country:
        books = books.filter(country__iexact=normalise_country(country))
    if source:
        books = books.filter(source=source)
    plan = query if isinstance(query, SearchPlan) else book_search_plan(query=query)
    if not plan.words:
        # A query of nothing searchable ("📚", "%") finds nothing; no query at all lists every book.
        return books.none() if plan.query.strip() else books.order_by("-popularity", "title", "id")
    return (
        books_matching(books, plan.words)
        # A book outside any series is a group of its own: its negated id never equals a series' id.
        .annotate(series_key=Coalesce(F("series_id"), -F("id")))
        .annotate(series_rank=Window(Max("rank"), partition_by=[F("series_key")]))
        .order_by("-series_rank", "series_key", F("series_position").asc(nulls_last=True),
                  F("series_position_end").asc(nulls_first=True), "-rank", "-popularity", "title", "id")
    )


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
    """One book with its series, links (most used first) and people loaded, and ``reader_count``: how many readers have
    it on any of their shelves; raises ``Book.DoesNotExist``."""
    return Book.objects.select_related("series").annotate(
        reader_count=Count("shelf_entries__shelf__user", distinct=True)).prefetch_related(
        Prefetch("book_links", queryset=BookLink.objects.select_related("link").order_by("-count", "link__name")),
        Prefetch("contributions", queryset=Contribution.objects.select_related("author")),
    ).get(pk=book_id)


def existing_book_ids(book_ids: Iterable[int]) -> set[int]:
    """Those of ``book_ids`` that are a book's id, in one query."""
    # Written out: every recommendations request checks its books, and building the ORM's query cost more than
    # running it (BENCHMARKS.md §15).
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM books_book WHERE id = ANY(%s::bigint[])", [list(book_ids)])
        return {book_id for (book_id,) in cursor.fetchall()}


def book_ids_identified_by(identifiers: Iterable[str]) -> dict[str, int]:
    """``{"scheme:value": book id}`` for each of ``identifiers`` some book carries (``goodbooks:1`` and
    ``wikipedia:The Hunger Games (novel)`` give the same book once the two are merged); unknown ones are left out."""
    pairs = {text: tuple(text.split(":", 1)) for text in identifiers if ":" in text}
    if not pairs:
        return {}
    wanted = Q()
    for scheme, value in set(pairs.values()):
        wanted |= Q(scheme=scheme, value=value)
    found = {f"{scheme}:{value}": book_id
             for scheme, value, book_id in BookIdentifier.objects.filter(wanted).values_list("scheme", "value", "book")}
    # A book made outside the importers (the admin, a test) may carry its external id alone.
    found.update(Book.objects.filter(external_id__in=[text for text in pairs if text not in found])
                 .values_list("external_id", "pk"))
    return {text: found[text] for text in pairs if text in found}


def merged_sources_by_book() -> dict[int, set[str]]:
    """``{book id: the sources of the records merged into it}`` for every book a merge that stands (not undone) gave
    another source's record: with ``Book.source``, every source that describes the book. Books without one are left
    out."""
    merged: dict[int, set[str]] = {}
    for book_id, source in BookMerge.objects.filter(undone_at__isnull=True).values_list("book_id", "source"):
        merged.setdefault(book_id, set()).add(source)
    return merged


def books_popular(*, limit: int = 12) -> list[Book]:
    """The books most readers shelved, most popular first."""
    return list(Book.objects.order_by("-popularity", "title", "id")[:limit])


def books_recently_added(*, limit: int = 12) -> list[Book]:
    """The books added to the catalogue last, newest first."""
    return list(Book.objects.order_by("-created_at", "-id")[:limit])


def authors_named(name: str) -> QuerySet[Author]:
    """The people ``name`` is a spelling of: by their folded name or one of their aliases."""
    return Author.objects.filter(Q(key=author_key(name)) | Q(aliases__contains=[name.strip()]))


def author_list_search(*, query: str | None = None) -> QuerySet[Author]:
    """Authors whose name or an alias contains ``query`` (any case), with ``book_count``, by name; all without one."""
    authors = Author.objects.annotate(book_count=Count("contributions__book", distinct=True))
    if query:
        folded = author_key(query)
        authors = authors.filter(Q(key__contains=folded) | Q(name__icontains=query.strip())
                                 | Q(pk__in=RawSQL("SELECT id FROM books_author, unnest(aliases) AS alias "
                                                   "WHERE alias ILIKE %s", [f"%{_like_escaped(query.strip())}%"])))
    return authors.order_by("name", "id")


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def author_contributions(*, author: Author) -> QuerySet[Contribution]:
    """Every part ``author`` has in a book, most popular book first, with the books loaded."""
    return (Contribution.objects.filter(author=author).select_related("book")
            .order_by("-book__popularity", "book__title", "book_id", "role"))


def link_detail(*, link_id: int) -> Link:
    """A link with ``tagged_count`` (goodbooks books tagged with it) and ``linking_count`` (Wikipedia books
    linking to it): a tag and a Wikipedia link of the same name are one Link."""
    return Link.objects.annotate(
        tagged_count=Count("book_links", filter=_pair_from(Book.Source.GOODBOOKS)),
        linking_count=Count("book_links", filter=_pair_from(Book.Source.WIKIPEDIA)),
    ).get(pk=link_id)


def _pair_from(source: str) -> Q:
    """Book↔link pairs a source gave (a pair with no source is its book's own)."""
    return Q(book_links__source=source) | Q(book_links__source="", book_links__book__source=source)


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
    """Authors (books list several, comma-separated) with their book counts, alphabetically: one entry a person,
    under the name first imported, counting the books of every spelling.

    ``initial`` keeps the authors whose name starts with that letter (folded: "É" counts as "E");
    "#" keeps those starting with anything but a letter.
    """
    people = {}  # each spelling's key -> the person's name
    for name, aliases in Author.objects.values_list("name", "aliases"):
        for spelling in (*aliases, name):
            people[author_key(spelling)] = name
    counts = Counter()
    for facet in _facet_list("author", split=True, limit=None):
        counts[people.get(author_key(facet.name), facet.name)] += facet.book_count
    facets = [CatalogueFacet(name=name, book_count=count) for name, count in counts.items()]
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
