"""Recommendations: for a list of books, and for a reader from their shelves, with why there are none.

The input books the active version's shelf model knows are ranked by the sum of their shelf vectors (dense
vectors, or neighbour lists whose length does not grow with the catalogue); the others by neighbour voting on the
book vectors: each one's nearest books as listed when the version was published (``NeighbourList``, one lookup), or,
for a book without such a list, one nearest-neighbour query on the HNSW index (``recommender.vectors.nearest_sql``).
The number of queries never depends on how many books come back.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from django.db import connection, transaction
from pgvector import Vector

from books.models import Book, Series, ShelfEntry
from books.text import fold
from recommender.models import BookVector, DismissedBook, EmbeddingVersion, ShelfVector
from recommender.selectors.versions import active_version
from recommender.training import reranking, scoring
from recommender.vectors import HNSW_EF_SEARCH, nearest_sql, tune_search

NEIGHBOURS_PER_BOOK = 100
"""Nearest books fetched per input book for recommendations (what ``recommender.training.scoring`` was tuned on)."""
LISTED_NEIGHBOURS = 150
"""Nearest books listed for each book a version's shelf model leaves out (``NeighbourList``): enough that
``NEIGHBOURS_PER_BOOK`` are left after a request's excluded books, and no more than the HNSW search keeps in its first
pass (``HNSW_EF_SEARCH``), which makes a list the first books of the very scan a request's search would run."""
MAX_SOURCE_BOOKS = 200
"""A reader's most recent shelved books used as the source of their recommendations."""
RATING_WEIGHTS = {1: 0.1, 2: 0.25, 3: 0.6, 4: 1.0, 5: 1.3}
"""How much a shelved book with this rating counts in a reader's recommendations (unrated: 1.0)."""


COLLAPSE_OVERFETCH = 3
"""With series collapsed, this many times ``k`` books (and 20 more) are scored, so that ``k`` are left after
collapsing."""
REASONS_NAMED = 2
"""A suggestion names at most this many shelf books as what explains it (``Recommendation.reasons``)."""
SHOWN_BOOK_FIELDS = ("id", "external_id", "source", "title", "author", "genre", "country", "language",
                     "publication_year", "cover_url", "popularity", "series_id", "series_position", "series_position_end")
"""What a recommendation's books are read with (``_shown_books``): what the API's answer, the For you page and
re-ranking (``collapsed``) show or use of them; the rest of a book (its raw metadata, its search text, …) is left in
the database."""


def rating_weight(stars: int | None) -> float:
    """How much a book rated ``stars`` (None: unrated) counts among a shelf's books."""
    return RATING_WEIGHTS.get(stars, 1.0)


@dataclass(frozen=True)
class Recommendation:
    """A suggested book, its score, and the input (or shelved) books that explain it most, largest first, with each
    one's share of the explanation (``shares``, 0.62 is 62 %)."""

    book: Book
    score: float
    because: list[Book]
    shares: list[float] = field(default_factory=list)

    @property
    def reasons(self) -> list[tuple[Book, float]]:
        """The one or two books that explain most of it, with their shares: the first, and the second too when the
        first explains less than half."""
        named = list(zip(self.because, self.shares))[:REASONS_NAMED]
        return named[:1] if named and named[0][1] >= 0.5 else named


class NoRecommendations(Enum):
    """Why a reader gets no recommendations; the value says it to them (the "For you" page and the API alike)."""

    NO_ACTIVE_VERSION = "No embedding version is active yet: recommendations appear after the first training run."
    EMPTY_SHELVES = "Put books on your shelves to get recommendations."
    NO_SHELVED_BOOK_WITH_VECTOR = (
        "None of the books on your shelves has a vector in the active embedding version (too few links or readers "
        "to place them): put books that have vectors on your shelves to get recommendations.")
    ALL_NEIGHBOURS_TAKEN = (
        "The books on your shelves have no neighbours left that you have not shelved or dismissed: shelve a few "
        "more books, or undo a dismissal, to widen the search.")


@dataclass(frozen=True)
class ReaderRecommendations:
    """One reader's recommendations, all read from ``version``: the books (best first) and, when there are
    none, why."""

    version: EmbeddingVersion | None
    items: list[Recommendation]
    why_none: NoRecommendations | None


def book_recommendations(
    *,
    book_ids: list[int],
    k: int = 20,
    exclude_ids: Iterable[int] = (),
    weights: dict[int, float] | None = None,
    version: EmbeddingVersion | None = None,
    collapse: bool = False,
) -> list[Recommendation]:
    """Up to ``k`` books for someone who liked ``book_ids``, best first, each naming the input books that
    explain it. Never returns an input or excluded book; returns fewer than ``k`` only when fewer
    candidates exist. ``weights`` (by book id, default 1) say how much each input book counts. ``version`` is
    the one to rank with (default: the active one, read now).

    The input books the active version's shelf model knows are ranked by it; the others (e.g. Wikipedia
    books, which are on nobody's want-to-read shelf) by neighbour voting on the book vectors. When both
    kinds are given, the two rankings are blended, each counting as much as the input books it speaks for.
    With ``collapse``, the ranking is then re-ranked by ``collapsed``.
    """
    sources = list(dict.fromkeys(int(book_id) for book_id in book_ids))
    version = version or active_version()
    if not collapse:
        return _recommendations(version, sources, k, exclude_ids, weights or {})
    scored = _recommendations(version, sources, k * COLLAPSE_OVERFETCH + 20, exclude_ids, weights or {})
    return collapsed(scored, shelf=sources)[:k]


def collapsed(scored: list[Recommendation], *, shelf: Iterable[int],
              shelf_facts: dict[int, reranking.BookFacts] | None = None) -> list[Recommendation]:
    """``scored`` re-ranked so that it stops repeating what the reader has (``recommender.training.reranking``): a
    series shows only its next book after the ``shelf``'s, never a box set holding a shelved book, and one author
    takes at most two places of a row. ``shelf_facts`` are the shelf books' series and authors, when the caller has
    read them (else one query reads them)."""
    shelf = list(shelf)
    if shelf_facts is None:
        shelf_facts = {book_id: _facts(*values) for book_id, *values in Book.objects.filter(pk__in=shelf).values_list(
            "pk", "series_id", "series_position", "series_position_end", "author")}
    facts = {item.book.pk: _facts(item.book.series_id, item.book.series_position, item.book.series_position_end,
                                  item.book.author) for item in scored}
    return reranking.rerank(scored, facts={**facts, **shelf_facts}, shelf=shelf, book_id=lambda item: item.book.pk)


def _facts(series_id, position, position_end, author: str) -> reranking.BookFacts:
    """What re-ranking knows of a book; its author is its first, folded."""
    return reranking.BookFacts(series_id, position, position_end, fold(author.split(",")[0]) if author else "")


def _recommendations(version: EmbeddingVersion | None, sources: list[int], k: int, exclude_ids: Iterable[int],
                     weights: dict[int, float]) -> list[Recommendation]:
    """``book_recommendations`` from ``version``, as scored."""
    if version is None or not sources or k <= 0:
        return []
    excluded = sorted(set(sources) | {int(book_id) for book_id in exclude_ids})
    ranked, known = [], set()
    if version.shelf_model_book_count:
        ranked, known = _shelf_model_ranking(version, sources, excluded, weights, k)
    unknown = [book_id for book_id in sources if book_id not in known]
    if unknown:
        votes = _neighbour_vote_ranking(version, unknown, excluded, weights, k)
        if ranked and votes:
            share_of_known = sum(weights.get(book_id, 1.0) for book_id in known) / sum(
                weights.get(book_id, 1.0) for book_id in sources)
            ranked = scoring.blend_rankings([(share_of_known, ranked), (1.0 - share_of_known, votes)], k)
        else:
            ranked = ranked or votes
    books = _shown_books({r.book_id for r in ranked} | {b for r in ranked for b in r.because})
    return [
        Recommendation(book=books[r.book_id], score=r.score, because=[books[b] for b in r.because if b in books],
                       shares=[share for b, share in zip(r.because, r.shares) if b in books])
        for r in ranked
        if r.book_id in books
    ]


def _shown_books(book_ids: set[int]) -> dict[int, Book]:
    """The books of ``book_ids`` that exist, by id, read with ``SHOWN_BOOK_FIELDS`` (the others deferred) and their
    series (its name): the answer shows each book's place in its series. One query."""
    # Written out: the ORM's select_related/in_bulk (or only()) cost a large share of a request's Python
    # (BENCHMARKS.md §15).
    columns = ", ".join(f"b.{name}" for name in SHOWN_BOOK_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}, s.name FROM books_book b LEFT JOIN books_series s ON s.id = b.series_id"
                       " WHERE b.id = ANY(%s::bigint[])", [list(book_ids)])
        rows = cursor.fetchall()
    books = {}
    for *values, series_name in rows:
        book = Book.from_db(connection.alias, SHOWN_BOOK_FIELDS, values)
        book.series = None if book.series_id is None else Series.from_db(connection.alias, ("id", "name"),
                                                                          (book.series_id, series_name))
        books[book.pk] = book
    return books


def _shelf_model_ranking(version: EmbeddingVersion, sources: list[int], excluded: list[int],
                         weights: dict[int, float], k: int) -> tuple[list[scoring.ScoredBook], set[int]]:
    """The shelf model's ranking (``recommender.training.shelf_model``) and the input books it knows (none:
    an empty ranking): each input book's share of a suggestion's score is its weight times its shelf vector's
    component for that book, which names the input books that explain it."""
    weight_of = [float(weights.get(book_id, 1.0)) for book_id in sources]
    if version.shelf_model_solver == "neighbourhood":
        rows, known = _neighbour_list_terms(version, sources, weight_of, excluded, k)
    else:
        rows, known = _dense_vector_terms(version, sources, weight_of, excluded, k)
    weight_by_book = dict(zip(sources, weight_of))
    ranked: dict[int, tuple[float, list[tuple[float, int]]]] = {}
    for book_id, score, source_id, term in rows:
        ranked.setdefault(book_id, (float(score), []))[1].append((weight_by_book[source_id] * float(term), source_id))
    return [_explained(book_id, score, terms) for book_id, (score, terms) in ranked.items()], known


def _neighbour_list_terms(version: EmbeddingVersion, sources: list[int], weight_of: list[float],
                          excluded: list[int], k: int) -> tuple[list[tuple], set[int]]:
    """(suggested book, its score, input book, the input book's unweighted term) rows, best first, and the input
    books known, from a neighbourhood model's neighbour lists.

    One query: it unnests the input books' lists (at most ``shelf_model_out_neighbours`` entries each, so its work
    depends on the shelf, not on the catalogue), sums each listed book's weighted terms, takes the best — as
    many more than ``k`` as there are excluded books, so that leaving those out still leaves ``k`` — maps their
    positions to books through the (version, position) index and drops the excluded ones. An input book whose list
    is empty (its row has no positive weight) is not known: neighbour voting answers for it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH term AS MATERIALIZED (
                SELECT sv.book_id AS source, listed.position, listed.weight AS term,
                       input.weight * listed.weight AS share
                FROM unnest(%(sources)s::bigint[], %(weights)s::float8[]) AS input(book_id, weight)
                JOIN recommender_shelfvector sv ON sv.version_id = %(version)s AND sv.book_id = input.book_id
                CROSS JOIN LATERAL unnest(sv.neighbours, sv.weights::real[]) AS listed(position, weight)
            ), best AS (
                SELECT position, sum(share) AS score FROM term GROUP BY position
                ORDER BY score DESC, position LIMIT %(best)s
            ), suggested AS (
                SELECT sv.book_id, best.position, best.score
                FROM best JOIN recommender_shelfvector sv
                  ON sv.version_id = %(version)s AND sv.position = best.position
                WHERE sv.book_id <> ALL(%(excluded)s::bigint[])
                ORDER BY best.score DESC, sv.book_id
                LIMIT %(k)s
            )
            SELECT suggested.book_id, suggested.score, term.source, term.term
            FROM suggested JOIN term ON term.position = suggested.position
            UNION ALL
            SELECT NULL, NULL, source, NULL FROM (SELECT DISTINCT source FROM term) AS known
            """,
            {"sources": sources, "weights": weight_of, "version": version.pk, "excluded": excluded, "k": k,
             "best": k + len(excluded)},
        )
        rows = cursor.fetchall()
    known = {source for book_id, _, source, _ in rows if book_id is None}
    terms = sorted((row for row in rows if row[0] is not None), key=lambda row: (-row[1], row[0]))
    return terms, known


def _dense_vector_terms(version: EmbeddingVersion, sources: list[int], weight_of: list[float],
                        excluded: list[int], k: int) -> tuple[list[tuple], set[int]]:
    """The rows of ``_neighbour_list_terms`` from an exact model's dense vectors.

    Two queries. The first sums the input books' shelf vectors (one sum per distinct weight; their weighted
    total scores every book of the model). The second takes the best-scored books — as many more than ``k``
    as there are excluded books, so that leaving those out still leaves ``k`` — drops the excluded ones, and
    returns each suggestion's component of every input book's vector.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.weight, sum(sv.vector::vector)::text, array_agg(sv.book_id) FROM recommender_shelfvector sv"
            " JOIN unnest(%s::bigint[], %s::float8[]) AS w(book_id, weight) ON w.book_id = sv.book_id"
            " WHERE sv.version_id = %s GROUP BY w.weight",
            [sources, weight_of, version.pk],
        )
        sums = cursor.fetchall()
        if not sums:
            return [], set()
        known = {book_id for _, _, book_ids in sums for book_id in book_ids}
        scores = sum(float(weight) * Vector.from_text(total).to_numpy().astype(np.float64)
                     for weight, total, _ in sums)
        best = min(len(scores), k + len(excluded))
        top = np.argpartition(-scores, best - 1)[:best] if best < len(scores) else np.arange(len(scores))
        cursor.execute(
            """
            WITH suggested AS (
                SELECT sv.book_id, sv.position, candidate.score
                FROM unnest(%(positions)s::int[], %(scores)s::float8[]) AS candidate(position, score)
                JOIN recommender_shelfvector sv ON sv.version_id = %(version)s AND sv.position = candidate.position
                WHERE sv.book_id <> ALL(%(excluded)s::bigint[])
                ORDER BY candidate.score DESC, sv.book_id
                LIMIT %(k)s
            ), source AS MATERIALIZED (
                SELECT book_id, vector::real[] AS components FROM recommender_shelfvector
                WHERE version_id = %(version)s AND book_id = ANY(%(sources)s::bigint[])
            )
            SELECT suggested.book_id, suggested.score, source.book_id, source.components[suggested.position]
            FROM suggested CROSS JOIN source
            ORDER BY suggested.score DESC, suggested.book_id
            """,
            {"positions": (top + 1).tolist(), "scores": scores[top].tolist(), "version": version.pk,
             "excluded": excluded, "k": k, "sources": sources},
        )
        return cursor.fetchall(), known


def _explained(book_id: int, score: float, terms: list[tuple[float, int]]) -> scoring.ScoredBook:
    """A shelf-model suggestion with the input books whose terms of its score are largest, each with its share of
    the positive terms (a negative term speaks against the book, never for it)."""
    positive = [(term, source) for term, source in terms if term > 0]
    total = sum(term for term, _ in positive) or 1.0
    named = sorted(positive, key=lambda t: (-t[0], t[1]))[: scoring.ShelfScoring.max_because]
    return scoring.ScoredBook(book_id, score, tuple(source for _, source in named),
                              tuple(term / total for term, _ in named))


def _neighbour_vote_ranking(version: EmbeddingVersion, sources: list[int], excluded: list[int],
                            weights: dict[int, float], k: int) -> list[scoring.ScoredBook]:
    """Neighbour voting on the book vectors (``recommender.training.scoring``): every input book's nearest books,
    leaving out excluded ones, from its list (``_listed_neighbours``) or else from one pgvector query for all the
    books without one (``vote_neighbours``)."""
    neighbours = max(NEIGHBOURS_PER_BOOK, k)
    rows, unlisted = _listed_neighbours(version, sources, excluded, neighbours)
    if unlisted:
        rows += vote_neighbours(version, unlisted, excluded, neighbours)
    if not rows:
        return []
    return scoring.recommend_for_shelf(
        sources,
        [row[0] for row in rows],
        [row[1] for row in rows],
        [1.0 - float(row[2]) for row in rows],
        neighbour_popularity=[row[3] for row in rows],
        shelf_weights=[float(weights.get(book_id, 1.0)) for book_id in sources],
        k=k,
    )


def vote_neighbours(version: EmbeddingVersion, sources: list[int], excluded: list[int],
                    limit: int) -> list[tuple[int, int, float, int]]:
    """(source, neighbour, cosine distance, the neighbour's popularity) rows: each of ``sources``' ``limit`` nearest
    books of ``version`` but the ``excluded`` ones, each source's in the order the HNSW search found them (one
    query; ``ef_search`` at least ``HNSW_EF_SEARCH``, iterative scan, so no row is lost to the exclusion). Lists are
    made by the same query (``recommender.services.neighbour_lists``), so that a list is what a request's search
    would find."""
    sql = nearest_sql(kind="book", version_id=version.pk, dimensions=version.dimensions,
                      sources="%(sources)s::bigint[]", limit=int(limit), join="JOIN books_book b ON b.id = v.book_id",
                      where="AND v.book_id <> ALL(%(excluded)s::bigint[])", columns={"popularity": "b.popularity"})
    with transaction.atomic(), connection.cursor() as cursor:
        tune_search(ef_search=max(HNSW_EF_SEARCH, limit), iterative=True)
        cursor.execute(sql, {"excluded": list(excluded), "sources": list(sources)})
        return cursor.fetchall()


def _listed_neighbours(version: EmbeddingVersion, sources: list[int], excluded: list[int],
                       neighbours: int) -> tuple[list[tuple[int, int, float, int]], list[int]]:
    """``vote_neighbours``' rows read from the version's lists (one query; none when the version lists no book),
    and the sources they cannot answer for: those without a list, and those whose list was cut at
    ``LISTED_NEIGHBOURS`` and has fewer than ``neighbours`` books left once the excluded ones are out (the search
    would go on past the list)."""
    if neighbours > LISTED_NEIGHBOURS or not version.listed_book_count:
        return [], sources
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT nl.book_id, cardinality(nl.neighbours), listed.neighbour, listed.distance, listed.popularity
            FROM recommender_neighbourlist nl
            LEFT JOIN LATERAL (
                SELECT entry.neighbour, entry.distance, b.popularity, entry.rank
                FROM unnest(nl.neighbours, nl.distances) WITH ORDINALITY AS entry(neighbour, distance, rank)
                JOIN books_book b ON b.id = entry.neighbour
                WHERE entry.neighbour <> ALL(%(excluded)s::bigint[])
                ORDER BY entry.rank
                LIMIT %(neighbours)s
            ) listed ON true
            WHERE nl.version_id = %(version)s AND nl.book_id = ANY(%(sources)s::bigint[])
            ORDER BY nl.book_id, listed.rank
            """,
            {"version": version.pk, "sources": sources, "excluded": list(excluded), "neighbours": neighbours},
        )
        found = cursor.fetchall()
    rows_of: dict[int, list[tuple[int, int, float, int]]] = {}
    cut: dict[int, bool] = {}
    for source, listed, neighbour, distance, popularity in found:
        cut[source] = listed >= LISTED_NEIGHBOURS
        if neighbour is not None:
            rows_of.setdefault(source, []).append((source, neighbour, distance, popularity))
    answered = {source for source in cut if not cut[source] or len(rows_of.get(source, ())) >= neighbours}
    rows = [row for source in sorted(answered) for row in rows_of.get(source, ())]
    return rows, [source for source in sources if source not in answered]


def reader_recommendations(*, user, k: int = 20, collapse: bool = False) -> ReaderRecommendations:
    """Up to ``k`` books for ``user`` from all their shelves (recent books first, weighted by rating), never a
    book on any of their shelves or one they dismissed, with the version that ranked them; with none, why: no
    active version, no shelved book, none of the shelf books it starts from has a vector, or else every book
    near them is shelved or dismissed. With ``collapse``, re-ranked by ``collapsed`` against all their shelves."""
    version = active_version()
    if version is None:
        return ReaderRecommendations(None, [], NoRecommendations.NO_ACTIVE_VERSION)
    weights, shelf_facts = _reader_shelf(user)
    if not weights:
        return ReaderRecommendations(version, [], NoRecommendations.EMPTY_SHELVES)
    shelved = list(weights)
    sources = shelved[:MAX_SOURCE_BOOKS]
    dismissed = DismissedBook.objects.filter(user=user).values_list("book_id", flat=True)
    excluded = set(shelved) | set(dismissed)
    if collapse:
        items = collapsed(_recommendations(version, sources, k * COLLAPSE_OVERFETCH + 20, excluded, weights),
                          shelf=shelved, shelf_facts=shelf_facts)[:k]
    else:
        items = _recommendations(version, sources, k, excluded, weights)
    if items:
        return ReaderRecommendations(version, items, None)
    placed = (BookVector.objects.filter(version=version, book_id__in=sources).exists()
              or ShelfVector.objects.filter(version=version, book_id__in=sources).exists())
    return ReaderRecommendations(version, [], NoRecommendations.ALL_NEIGHBOURS_TAKEN if placed
                                 else NoRecommendations.NO_SHELVED_BOOK_WITH_VECTOR)


def _reader_shelf(user) -> tuple[dict[int, float], dict[int, reranking.BookFacts]]:
    """{book id: weight} of every book on ``user``'s shelves, most recently shelved first (a book on several
    shelves counts with its best rating's weight; unrated: 1.0), and what re-ranking needs of each (one query)."""
    weights: dict[int, float] = {}
    facts: dict[int, reranking.BookFacts] = {}
    entries = ShelfEntry.objects.filter(shelf__user=user).order_by("-added_at", "-id").values_list(
        "book_id", "rating", "book__series_id", "book__series_position", "book__series_position_end", "book__author")
    for book_id, rating, *values in entries:
        weights[book_id] = max(weights.get(book_id, 0.0), rating_weight(rating))
        facts[book_id] = _facts(*values)
    return weights, facts
