"""Neighbour lists: the nearest books of each book a version's shelf model leaves out, stored with the version.

A recommendation for such a book is answered by neighbour voting on the book vectors
(``recommender.selectors.recommendations``), which needs the book's nearest books. Searched per request, that is one
HNSW query with a wide ``ef_search`` per request that has such a book (BENCHMARKS.md §15: at 200,000 books, 37 % of
5-book requests, ~10 ms of PostgreSQL each). Listed here once, after the version is published and before it goes
live, by the very query a request would run (``vote_neighbours``), a request reads them in one lookup and gets the
same neighbours. The work is one index search per such book: about n log n for the catalogue, never n × n.
"""
from __future__ import annotations

from django.db import connection, transaction

from recommender.models import EmbeddingVersion, NeighbourList
from recommender.selectors.recommendations import LISTED_NEIGHBOURS, vote_neighbours
from recommender.vectors import copy_rows

SEARCH_BATCH = 500
"""Books whose neighbours one query searches (and one COPY stores)."""


def neighbour_lists_store(*, version: EmbeddingVersion) -> int:
    """Stores the ``LISTED_NEIGHBOURS`` nearest books (``NeighbourList``) of every book with a vector in ``version``
    that its shelf model leaves out (no shelf vector, or one that says nothing for any book) and returns how many
    it listed, then records how many books the version has listed (``listed_book_count``: until then its requests
    search the index). A version without a shelf model lists none: every book would be one, and the per-request
    search answers for them as before. Each batch is written in its own transaction; a version left half-listed
    still serves the same answers (a book without a list is searched)."""
    if not version.shelf_model_book_count:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bv.book_id FROM recommender_bookvector bv WHERE bv.version_id = %(version)s AND NOT EXISTS ("
            " SELECT 1 FROM recommender_shelfvector sv WHERE sv.version_id = %(version)s AND sv.book_id = bv.book_id"
            " AND (sv.vector IS NOT NULL OR cardinality(sv.neighbours) > 0))"
            " AND NOT EXISTS (SELECT 1 FROM recommender_neighbourlist nl"
            " WHERE nl.version_id = %(version)s AND nl.book_id = bv.book_id)"
            " ORDER BY bv.book_id",
            {"version": version.pk},
        )
        unknown = [book_id for (book_id,) in cursor.fetchall()]
    for start in range(0, len(unknown), SEARCH_BATCH):
        batch = unknown[start:start + SEARCH_BATCH]
        found = vote_neighbours(version, batch, [], LISTED_NEIGHBOURS)
        lists: dict[int, tuple[list[int], list[float]]] = {}
        for source, neighbour, distance, _ in found:
            listed = lists.setdefault(source, ([], []))
            listed[0].append(neighbour)
            listed[1].append(float(distance))
        with transaction.atomic():
            copy_rows(NeighbourList._meta.db_table, ["version_id", "book_id", "neighbours", "distances"],
                      ["int8", "int8", "int8[]", "float8[]"],
                      ((version.pk, source, neighbours, distances) for source, (neighbours, distances) in lists.items()))
    listed = NeighbourList.objects.filter(version=version).count()
    EmbeddingVersion.objects.filter(pk=version.pk).update(listed_book_count=listed)
    version.listed_book_count = listed
    return len(unknown)
