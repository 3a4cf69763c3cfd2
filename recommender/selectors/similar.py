"""Similar books and links: one nearest-neighbour query (``recommender.vectors.nearest_sql``) on the active
version's HNSW index, with ``hnsw.ef_search`` (and, where results are filtered, ``hnsw.iterative_scan``) set
for that query alone."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from books.models import Book, Link
from recommender.selectors.versions import active_version
from recommender.vectors import HNSW_EF_SEARCH, nearest_sql, tune_search


@dataclass(frozen=True)
class SimilarBook:
    book: Book
    similarity: float


@dataclass(frozen=True)
class SimilarLink:
    link: Link
    similarity: float


def similar_books(*, book: Book, k: int = 10, genre: str | None = None) -> list[SimilarBook]:
    """The ``k`` books nearest to ``book`` (most similar first), optionally only those whose genre contains
    ``genre``; empty when there is no active version or ``book`` has no vector in it."""
    version = active_version()
    if version is None or k <= 0:
        return []
    nearest = nearest_sql(
        kind="book", version_id=version.pk, dimensions=version.dimensions, sources="%(sources)s::bigint[]",
        limit="%(k)s", join="JOIN books_book b ON b.id = v.book_id" if genre else "",
        where="AND v.book_id <> s.book_id" + (" AND b.genre ILIKE %(genre)s" if genre else ""),
    )
    sql = f"SELECT b.*, nn.distance FROM ({nearest}) nn JOIN books_book b ON b.id = nn.neighbour ORDER BY nn.distance"
    params = {"sources": [book.pk], "k": k, "genre": f"%{_escape_like(genre)}%" if genre else None}
    with transaction.atomic():
        tune_search(ef_search=max(HNSW_EF_SEARCH, 2 * k), iterative=bool(genre))
        books = list(Book.objects.raw(sql, params))
    results = [SimilarBook(book=b, similarity=1.0 - float(b.distance)) for b in books if b.distance is not None]
    return sorted(results, key=lambda result: -result.similarity)  # relaxed_order may return near-ties swapped


def similar_links(*, link: Link, k: int = 10) -> list[SimilarLink]:
    """The ``k`` links nearest to ``link`` (most similar first); empty when it has no vector."""
    version = active_version()
    if version is None or k <= 0:
        return []
    nearest = nearest_sql(kind="link", version_id=version.pk, dimensions=version.dimensions,
                          sources="%(sources)s::bigint[]", limit="%(k)s", where="AND v.is_listed AND v.link_id <> s.link_id")
    sql = f"SELECT l.*, nn.distance FROM ({nearest}) nn JOIN books_link l ON l.id = nn.neighbour ORDER BY nn.distance"
    with transaction.atomic():
        tune_search(ef_search=max(HNSW_EF_SEARCH, 2 * k), iterative=False)
        links = list(Link.objects.raw(sql, {"sources": [link.pk], "k": k}))
    return [SimilarLink(link=x, similarity=1.0 - float(x.distance)) for x in links if x.distance is not None]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
