"""Nearest books: the HNSW query in PostgreSQL vs an exact scan in PostgreSQL vs NumPy brute force in memory.

On the active embedding version of the scratch database, for the same randomly drawn books (seeded):

* served: the product's selector itself (``recommender.selectors.similar_books(book=..., k=10)``, ORM
  and all), with the plan PostgreSQL chose for its SQL;
* HNSW: the nearest-neighbour query in its index-friendly form (the version's rows ordered by cosine
  distance on the ``vector(dim)`` cast to the query book's vector, LIMIT 10, then joined to the books),
  with ``hnsw.ef_search`` set in the same transaction, at pgvector's default (40), at 100, at the
  product's (``HNSW_EF_SEARCH``, 200) and at 400, to show what recall costs;
* exact: the same SQL with index scans disabled for the transaction, so PostgreSQL computes every
  distance of the version and sorts (the ground truth);
* NumPy: every vector of the version in memory, one matrix-vector product and a partial sort per query
  (the floor: no database, no network, no SQL).

Latency is the client-side round trip of one query on one warm connection (psycopg over the local
socket), queries one after another. Recall@10 is the share of the exact 10 nearest books the method returns.

Usage: python -m bench.speed.nearest [--queries 1000] [--exact-queries 300]   (scratch environment: see bench.support.scratch)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from bench.support.common import percentiles_ms, write_result

K = 10
EF_SEARCH_VALUES = (40, 100, 200, 400)


def main(argv: list[str] | None = None) -> None:
    from bench.support.scratch import django_setup

    django_setup()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--exact-queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", default="nearest")
    args = parser.parse_args(argv)
    figures = run(os.environ["DATABASE_URL"], queries=args.queries, exact_queries=args.exact_queries, seed=args.seed)
    path = write_result(args.name, figures)
    print(f"nearest: {json.dumps(figures['summary'])}\n  -> {path}")


def run(database_url: str, *, queries: int = 1000, exact_queries: int = 300, seed: int = 7) -> dict:
    """Measures the three methods on the active version and returns the figures."""
    import psycopg

    from recommender.vectors import HNSW_EF_SEARCH

    # Autocommit, so that each ``connection.transaction()`` is a real transaction and its SET LOCALs end with it.
    # No prepared statements (as Django's connections): a prepared, generic plan may not use the index.
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as connection:
        version, dimensions = _active_version(connection)
        ids, vectors = _vectors(connection, version)
        rng = np.random.default_rng(seed)
        sample = rng.choice(ids, size=min(queries, len(ids)), replace=False)
        exact_sample = sample[: min(exact_queries, len(sample))]
        sql = _similar_sql(version, dimensions)

        exact_ids, exact_times = _timed_sql(connection, sql, exact_sample, ef_search=None)
        served_ids, served_times, served_sql = _timed_selector(sample)
        methods = {"postgres_exact": {"latency": percentiles_ms(exact_times), "recall_at_10": 1.0,
                                      "plan": _plan(connection, sql, int(exact_sample[0]), ef_search=None)}}
        for ef_search in EF_SEARCH_VALUES:
            found, times = _timed_sql(connection, sql, sample, ef_search=ef_search)
            methods[f"postgres_hnsw_ef{ef_search}"] = {
                "latency": percentiles_ms(times),
                "recall_at_10": _recall(found[: len(exact_sample)], exact_ids),
                "plan": _plan(connection, sql, int(sample[0]), ef_search=ef_search),
            }
            method = methods[f"postgres_hnsw_ef{ef_search}"]
            method["uses_hnsw_index"] = "hnsw" in method["plan"]
        selector_plan = _plan(connection, served_sql, int(sample[0]), ef_search=HNSW_EF_SEARCH, raw=True)
        methods["selector_as_served"] = {"latency": percentiles_ms(served_times),
                                         "recall_at_10": _recall(served_ids[: len(exact_sample)], exact_ids),
                                         "plan": selector_plan, "uses_hnsw_index": "hnsw" in selector_plan}
    found, times = _timed_numpy(ids, vectors, sample)
    methods["numpy_brute_force"] = {"latency": percentiles_ms(times),
                                    "recall_at_10": _recall(found[: len(exact_sample)], exact_ids)}

    hnsw, served = methods[f"postgres_hnsw_ef{HNSW_EF_SEARCH}"], methods["selector_as_served"]
    return {
        "version_id": version, "dimensions": dimensions, "books": len(ids), "k": K,
        "product_ef_search": HNSW_EF_SEARCH,
        "queries": len(sample), "exact_queries": len(exact_sample),
        "methods": methods,
        "summary": {
            "hnsw_p50_ms": hnsw["latency"]["p50_ms"], "hnsw_p99_ms": hnsw["latency"]["p99_ms"],
            "hnsw_recall_at_10": hnsw["recall_at_10"],
            "selector_p50_ms": served["latency"]["p50_ms"], "selector_recall_at_10": served["recall_at_10"],
            "selector_uses_hnsw_index": served["uses_hnsw_index"],
            "exact_p50_ms": methods["postgres_exact"]["latency"]["p50_ms"],
            "numpy_p50_ms": methods["numpy_brute_force"]["latency"]["p50_ms"],
            "target": f"recall@10 >= 0.98 and p50 < 2 ms in the database (HNSW query, ef_search {HNSW_EF_SEARCH})",
            "met": hnsw["recall_at_10"] >= 0.98 and hnsw["latency"]["p50_ms"] < 2.0,
            "met_as_served": served["recall_at_10"] >= 0.98 and served["latency"]["p50_ms"] < 2.0,
        },
    }


def _active_version(connection) -> tuple[int, int]:
    row = connection.execute("SELECT id, dimensions FROM recommender_embeddingversion WHERE is_active").fetchone()
    if row is None:
        raise SystemExit("no active embedding version in the scratch database: train one first")
    return int(row[0]), int(row[1])


def _vectors(connection, version: int) -> tuple[np.ndarray, np.ndarray]:
    from pgvector.psycopg import register_vector

    register_vector(connection)
    rows = connection.execute(
        "SELECT book_id, embedding FROM recommender_bookvector WHERE version_id = %s ORDER BY book_id", [version]
    ).fetchall()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    vectors = np.stack([np.asarray(row[1], dtype=np.float32) for row in rows])
    return ids, vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _similar_sql(version: int, dimensions: int) -> str:
    """Nearest books of one book by the version's HNSW index: nearest rows first, then the join to the books."""
    cast = f"vector({dimensions})"
    return f"""
        WITH nearest AS (
            SELECT bv.book_id,
                   bv.embedding::{cast} <=> (SELECT q.embedding::{cast} FROM recommender_bookvector q
                                             WHERE q.version_id = {version} AND q.book_id = %(book)s) AS distance
            FROM recommender_bookvector bv
            WHERE bv.version_id = {version} AND bv.book_id <> %(book)s
            ORDER BY distance
            LIMIT {K}
        )
        SELECT b.id, nearest.distance FROM nearest JOIN books_book b ON b.id = nearest.book_id ORDER BY nearest.distance
    """


def _timed_selector(books: np.ndarray) -> tuple[list[list[int]], list[float], str]:
    """The product's selector, timed call by call; also returns the SQL of its nearest-neighbour query."""
    from django.db import connection as django_connection
    from django.test.utils import CaptureQueriesContext

    from books.models import Book
    from recommender.selectors import similar_books

    found, times = [], []
    for i, book in enumerate(np.concatenate([books[:20], books])):
        started = time.perf_counter()
        neighbours = similar_books(book=Book(pk=int(book)), k=K)
        elapsed = time.perf_counter() - started
        if i >= 20:
            times.append(elapsed)
            found.append([n.book.pk for n in neighbours])
    with CaptureQueriesContext(django_connection) as queries:
        similar_books(book=Book(pk=int(books[0])), k=K)
    sql = max((q["sql"] for q in queries.captured_queries if "<=>" in q["sql"]), key=len, default="")
    return found, times, sql


def _timed_sql(connection, sql: str, books: np.ndarray, *,
               ef_search: int | None) -> tuple[list[list[int]], list[float]]:
    found, times = [], []
    for i, book in enumerate(np.concatenate([books[:20], books])):  # the first 20 warm the caches
        started = time.perf_counter()
        with connection.transaction():
            _configure(connection, ef_search)
            rows = connection.execute(sql, {"book": int(book)}).fetchall()
        elapsed = time.perf_counter() - started
        if i >= 20:
            times.append(elapsed)
            found.append([row[0] for row in rows])
    return found, times


def _configure(connection, ef_search: int | None) -> None:
    if ef_search is None:
        connection.execute("SELECT set_config('enable_indexscan', 'off', true),"
                           " set_config('enable_bitmapscan', 'off', true)")
    else:
        connection.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef_search)])


def _plan(connection, sql: str, book: int, *, ef_search: int | None, raw: bool = False) -> str:
    """The plan's scan, sort and limit lines; ``raw`` SQL has its parameters already in place."""
    with connection.transaction():
        _configure(connection, ef_search)
        rows = connection.execute("EXPLAIN " + sql, None if raw else {"book": book}).fetchall()
    return " | ".join(row[0].strip() for row in rows if "Scan" in row[0] or "Sort" in row[0] or "Limit" in row[0])


def _timed_numpy(ids: np.ndarray, vectors: np.ndarray, books: np.ndarray) -> tuple[list[list[int]], list[float]]:
    """One matrix-vector product and a partial sort per query, on one BLAS thread (a query is too small to share)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _numpy_queries(ids, vectors, books)


def _numpy_queries(ids: np.ndarray, vectors: np.ndarray, books: np.ndarray) -> tuple[list[list[int]], list[float]]:
    rows = np.searchsorted(ids, books)
    found, times = [], []
    for i, row in enumerate(np.concatenate([rows[:20], rows])):
        started = time.perf_counter()
        sims = vectors @ vectors[row]
        sims[row] = -np.inf
        top = np.argpartition(-sims, K)[:K]
        top = top[np.argsort(-sims[top])]
        elapsed = time.perf_counter() - started
        if i >= 20:
            times.append(elapsed)
            found.append(ids[top].tolist())
    return found, times


def _recall(found: list[list[int]], exact: list[list[int]]) -> float:
    return round(float(np.mean([len(set(f) & set(e)) / max(len(e), 1) for f, e in zip(found, exact, strict=True)])), 4)


if __name__ == "__main__":
    sys.exit(main())
