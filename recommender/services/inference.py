"""Vectors for books that arrived after the live version was trained.

Such a book gets, in the live version, the normalised mean of its links' vectors, blended equally with the
normalised mean of the vectors of books sharing a shelf with it, when it has any. It is marked
``is_inferred`` and placed on the map at the mean position of its 5 nearest books. The next training
run gives it a trained vector (and the inferred one goes with the old version).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from django.db import connection, transaction

from recommender.models import BookVector, EmbeddingVersion
from recommender.vectors import nearest_sql, parse_vector, tune_search

MAP_NEIGHBOURS = 5


def book_vectors_infer(*, book_ids: Iterable[int] | None = None) -> list[int]:
    """Gives each book (all books when ``book_ids`` is None) lacking a vector in the active version an
    inferred one; returns the ids of the books that got one (books with no vectored link or shelf
    neighbour get none).
    """
    version = EmbeddingVersion.objects.filter(is_active=True).first()
    if version is None:
        return []
    wanted = None if book_ids is None else sorted({int(book_id) for book_id in book_ids})
    if wanted == []:
        return []
    from_links = _mean_vectors(version, wanted, _LINK_MEANS_SQL)
    from_shelves = _mean_vectors(version, wanted, _SHELF_MEANS_SQL)
    vectors = {}
    for book_id in from_links.keys() | from_shelves.keys():
        parts = [_unit(v) for v in (from_links.get(book_id), from_shelves.get(book_id)) if v is not None]
        vectors[book_id] = _unit(np.sum(parts, axis=0))
    if not vectors:
        return []
    with transaction.atomic():
        BookVector.objects.bulk_create(
            [BookVector(version=version, book_id=book_id, embedding=vector, is_inferred=True)
             for book_id, vector in vectors.items()],
            ignore_conflicts=True,  # a book vectored meanwhile keeps its vector
        )
        _place_on_map(version, sorted(vectors))
    return sorted(vectors)


_LINK_MEANS_SQL = """
    SELECT bl.book_id, avg(lv.embedding)
    FROM books_booklink bl
    JOIN recommender_linkvector lv ON lv.link_id = bl.link_id AND lv.version_id = %(version)s
    WHERE NOT EXISTS (SELECT 1 FROM recommender_bookvector bv
                      WHERE bv.version_id = %(version)s AND bv.book_id = bl.book_id)
      AND (%(all)s OR bl.book_id = ANY(%(books)s::bigint[]))
    GROUP BY bl.book_id
"""

_SHELF_MEANS_SQL = """
    SELECT mine.book_id, avg(bv.embedding)
    FROM books_shelfentry mine
    JOIN books_shelfentry theirs ON theirs.shelf_id = mine.shelf_id AND theirs.book_id <> mine.book_id
    JOIN recommender_bookvector bv ON bv.book_id = theirs.book_id AND bv.version_id = %(version)s
                                  AND NOT bv.is_inferred
    WHERE NOT EXISTS (SELECT 1 FROM recommender_bookvector own
                      WHERE own.version_id = %(version)s AND own.book_id = mine.book_id)
      AND (%(all)s OR mine.book_id = ANY(%(books)s::bigint[]))
    GROUP BY mine.book_id
"""


def _mean_vectors(version: EmbeddingVersion, book_ids: list[int] | None, sql: str) -> dict[int, np.ndarray]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"version": version.pk, "all": book_ids is None, "books": book_ids or []})
        return {book_id: parse_vector(text) for book_id, text in cursor.fetchall()}


def _place_on_map(version: EmbeddingVersion, book_ids: list[int]) -> None:
    nearest = nearest_sql(kind="book", version_id=version.pk, dimensions=version.dimensions, sources="%s::bigint[]",
                          limit=MAP_NEIGHBOURS, where="AND v.map_x IS NOT NULL AND v.book_id <> s.book_id",
                          columns={"map_x": "v.map_x", "map_y": "v.map_y"})
    tune_search(ef_search=None, iterative=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE recommender_bookvector target SET map_x = near.x, map_y = near.y
            FROM (SELECT source, avg(map_x) AS x, avg(map_y) AS y FROM ({nearest}) nn GROUP BY source) near
            WHERE target.version_id = {int(version.pk)} AND target.book_id = near.source
            """,
            [book_ids],
        )


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)
