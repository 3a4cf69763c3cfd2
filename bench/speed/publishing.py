"""Publishing a version: all book and link vectors into pgvector, then its HNSW indexes once live, at seed scale.

Takes the active version's vectors from the scratch database and publishes them again as a new version
through the product's own service (``recommender.services.versions.version_publish``: binary COPY of the
book and link vectors in one transaction, fresh statistics), timing the whole call and each of its stages:
what a training run waits for before it activates the version. Then, as a run does once the version is live,
the book index is built and its ANN recall@10 checked on 200 books (``version_index_books``, one transaction)
and the link index built (the links listed as similar links only, those used by ``SIMILAR_LINK_MIN_BOOKS``
books or more; ``version_index_links``, concurrently), each timed, and the link index's recall@10 measured the
same way (on 1,000 listed links). Before the book index exists and again after, the nearest-neighbour queries
readers send are timed on the new version (the selectors' SQL: similar books, k=10, of 50 books; neighbour
voting, 100 neighbours each, of 10 books and of 200, a reader's most): what readers wait for meanwhile. The new
version is then discarded (it was never activated, so readers never see it).

Usage: python -m bench.speed.publishing [--build-workers N]   (scratch environment: see bench.support.scratch)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager

import numpy as np

from bench.support.common import write_result

TARGET_SECONDS = 10.0
LINK_RECALL_SAMPLE_SIZE = 1000
SIMILAR_QUERIES = 50
VOTING_QUERIES = 5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="publishing")
    parser.add_argument("--build-workers", type=int, default=None,
                        help="parallel maintenance workers of the index builds (default: the product's)")
    args = parser.parse_args(argv)
    from bench.support.scratch import django_setup

    django_setup()
    if args.build_workers is not None:
        from recommender.services import versions

        versions.HNSW_BUILD_WORKERS = args.build_workers
    figures = run()
    path = write_result(args.name, figures)
    print(f"publishing: {json.dumps(figures['summary'])}\n  -> {path}")


def run() -> dict:
    """Publishes the active version's vectors as a new version, times it, discards it; returns the figures."""
    from recommender import vectors
    from recommender.models import BookVector, EmbeddingVersion, LinkVector
    from recommender.services import versions

    active = EmbeddingVersion.objects.filter(is_active=True).first()
    if active is None:
        raise SystemExit("no active embedding version in the scratch database: train one first")
    book_ids, book_vectors = _vectors(BookVector.objects.filter(version=active), "book_id")
    link_ids, link_vectors = _vectors(LinkVector.objects.filter(version=active), "link_id")
    link_book_counts = _books_per_link(link_ids)

    stages: dict[str, float] = {}
    with _timed(versions, "_copy_book_vectors", stages, "copy_book_vectors"), \
            _timed(versions, "_copy_link_vectors", stages, "copy_link_vectors"):
        started = time.perf_counter()
        version = versions.version_publish(run=None, book_ids=book_ids, book_vectors=book_vectors,
                                           link_ids=link_ids, link_vectors=link_vectors,
                                           link_book_counts=link_book_counts)
        seconds = time.perf_counter() - started
    try:
        queries = _reader_queries(version, book_ids)
        exact = _time_queries(version, queries)
        index_stages: dict[str, float] = {}
        with _timed(versions, "_build_book_index", index_stages, "build_book_index"), \
                _timed(versions, "version_check_ann_recall", index_stages, "check_ann_recall"):
            started = time.perf_counter()
            versions.version_index_books(version=version, ids=book_ids, vectors=book_vectors)
            book_index_seconds = time.perf_counter() - started
        indexed = _time_queries(version, queries)
        started = time.perf_counter()
        versions.version_index_links(version=version)
        link_index_seconds = time.perf_counter() - started
        is_listed = link_book_counts >= versions.SIMILAR_LINK_MIN_BOOKS
        link_recall = versions.version_check_ann_recall(version=version, sample_size=LINK_RECALL_SAMPLE_SIZE,
                                                        ids=link_ids[is_listed], vectors=link_vectors[is_listed],
                                                        model=LinkVector)
    finally:
        versions.version_discard(version=version)
    return {
        "source_version_id": active.pk,
        "book_vectors": len(book_ids), "link_vectors": len(link_ids), "dimensions": int(book_vectors.shape[1]),
        "listed_link_vectors": int(is_listed.sum()), "similar_link_min_books": versions.SIMILAR_LINK_MIN_BOOKS,
        "hnsw": {"m": vectors.HNSW_M, "ef_construction": vectors.HNSW_EF_CONSTRUCTION,
                 "ef_search": vectors.HNSW_EF_SEARCH, "build_workers": versions.HNSW_BUILD_WORKERS},
        "load_average_1min": round(os.getloadavg()[0], 2),
        "seconds": round(seconds, 2),
        "stages_seconds": {name: round(value, 2) for name, value in stages.items()},
        "book_index_seconds_after_live": round(book_index_seconds, 2),
        "book_index_stages_seconds": {name: round(value, 2) for name, value in index_stages.items()},
        "link_index_seconds_after_live": round(link_index_seconds, 2),
        "ann_recall_at_10": version.ann_recall_at_10,
        "link_ann_recall_at_10": link_recall,
        "reader_queries_ms": {"before_book_index (exact scan)": exact, "with_book_index": indexed},
        "summary": {"publish_seconds": round(seconds, 2), "target_seconds": TARGET_SECONDS,
                    "met": seconds < TARGET_SECONDS, "vectors": len(book_ids) + len(link_ids),
                    "book_index_seconds_after_live": round(book_index_seconds, 2)},
    }


def _reader_queries(version, book_ids: np.ndarray) -> dict[str, tuple[str, int, bool, list[dict]]]:
    """The nearest-neighbour queries readers send, by name: (SQL, ef_search, iterative scan, each run's parameters).

    The SQL is the selectors' (``similar_books``; ``_neighbour_vote_ranking`` with nothing excluded but the
    source books), built by the same ``nearest_sql``; each names its source books."""
    from recommender.selectors.recommendations import MAX_SOURCE_BOOKS, NEIGHBOURS_PER_BOOK
    from recommender.vectors import HNSW_EF_SEARCH, nearest_sql

    rng = np.random.default_rng(11)
    similar = nearest_sql(kind="book", version_id=version.pk, dimensions=version.dimensions,
                          sources="%(sources)s::bigint[]", limit=10, where="AND v.book_id <> s.book_id")
    voting = nearest_sql(kind="book", version_id=version.pk, dimensions=version.dimensions,
                         sources="%(sources)s::bigint[]", limit=NEIGHBOURS_PER_BOOK,
                         join="JOIN books_book b ON b.id = v.book_id",
                         where="AND v.book_id <> ALL(%(excluded)s::bigint[])", columns={"popularity": "b.popularity"})
    one_each = [[int(book)] for book in rng.choice(book_ids, SIMILAR_QUERIES, replace=False)]
    tens = [rng.choice(book_ids, 10, replace=False).tolist() for _ in range(VOTING_QUERIES)]
    shelf = [rng.choice(book_ids, MAX_SOURCE_BOOKS, replace=False).tolist()]
    return {
        "similar_books": (similar, HNSW_EF_SEARCH, False, [{"sources": s} for s in one_each]),
        "voting_10_books": (voting, max(HNSW_EF_SEARCH, NEIGHBOURS_PER_BOOK), True,
                            [{"sources": s, "excluded": s} for s in tens]),
        f"voting_{MAX_SOURCE_BOOKS}_books": (voting, max(HNSW_EF_SEARCH, NEIGHBOURS_PER_BOOK), True,
                                             [{"sources": s, "excluded": s} for s in shelf]),
    }


def _time_queries(version, queries: dict) -> dict[str, dict]:
    """Each query's latency (ms: p50, p90, max and how many), one after another on the benchmark's connection,
    with the search knobs set as the selectors set them."""
    from django.db import connection, transaction

    from recommender.vectors import tune_search

    figures = {}
    for name, (sql, ef_search, iterative, runs) in queries.items():
        seconds = []
        for params in runs:
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                tune_search(ef_search=ef_search, iterative=iterative)
                cursor.execute(sql, params)
                cursor.fetchall()
            seconds.append(time.perf_counter() - started)
        ms = np.array(seconds) * 1000
        figures[name] = {"p50": round(float(np.percentile(ms, 50)), 1), "p90": round(float(np.percentile(ms, 90)), 1),
                         "max": round(float(ms.max()), 1), "queries": len(ms)}
    return figures


def _books_per_link(link_ids: np.ndarray) -> np.ndarray:
    """How many books use each link (``BookLink`` rows), as a training run counts them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT link_id, count(*) FROM books_booklink GROUP BY link_id")
        counts = dict(cursor.fetchall())
    return np.array([counts.get(int(link_id), 0) for link_id in link_ids], dtype=np.int64)


def _vectors(queryset, id_field: str) -> tuple[np.ndarray, np.ndarray]:
    rows = list(queryset.order_by(id_field).values_list(id_field, "embedding"))
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    return ids, np.stack([np.asarray(row[1], dtype=np.float32) for row in rows])


@contextmanager
def _timed(module, attribute: str, stages: dict[str, float], label: str):
    """Wraps ``module.attribute`` so each call adds its duration to ``stages[label]`` (instrumentation only)."""
    original = getattr(module, attribute)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            stages[label] = stages.get(label, 0.0) + time.perf_counter() - started

    setattr(module, attribute, timed)
    try:
        yield
    finally:
        setattr(module, attribute, original)


if __name__ == "__main__":
    sys.exit(main())
