"""The ground floor of the vector tables: casts, HNSW settings, per-query tuning, binary COPY, and the one
nearest-neighbour query every similar-books, recommendation, map-placement and recall-check read is built on.

Vector columns have no fixed dimension; each version's HNSW index is built on the cast ``embedding::vector(d)``,
so every query orders by the same cast to use it. Search knobs are set with ``set_config(..., true)``: for the
current transaction only.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from django.db import connection
from pgvector.psycopg.halfvec import register_halfvec_info
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

HNSW_M = 12
"""Links per node of the HNSW graphs (pgvector's default: 16). At seed scale 12 builds the book index in 6.0 s against
7.8 s for 16 at a load average of 10 on 2 cores, for recall@10 at ``HNSW_EF_SEARCH`` 0.993 against 0.996 (1,000
books); 8 fell to 0.982, too near the 0.98 served (BENCHMARKS.md §4, §5)."""
HNSW_EF_CONSTRUCTION = 64
"""Candidate list of the index builds: at 40 the book index found 0.977 of the exact 10 nearest, below the 0.98 served."""
HNSW_BUILD_WORKERS = 4
"""Parallel maintenance workers of an index build (besides the leader), ``max_parallel_maintenance_workers``: the
build is CPU work, and on a busy machine its share of the cores grows with its processes. At a load average of
10-13 on 2 cores the book index took 8.0-12.7 s with 4 against 9.7-14.4 s with 2 (PostgreSQL's default), the link
index 8.2-9.2 s against 10.6-12.6 s (BENCHMARKS.md §4); the work is the same."""
HNSW_BUILD_MEMORY = "256MB"
"""``maintenance_work_mem`` of an index build: the seed-scale graphs (~20 MB each) are built in memory."""
HNSW_EF_SEARCH = 200
"""``hnsw.ef_search`` of the serving queries and of the recall check (pgvector's default: 40): 0.986 recall@10
at the original's scale (BENCHMARKS.md)."""

VECTOR_TABLES = {"book": ("recommender_bookvector", "book_id"), "link": ("recommender_linkvector", "link_id")}
"""The vector tables a nearest-neighbour query reads, by kind: (table, the column naming what a row is of)."""


def vector_sql(dimensions: int) -> str:
    """The cast the per-version HNSW indexes are built on (the column itself has no fixed dimension)."""
    return f"vector({int(dimensions)})"


def book_index_name(version_id: int) -> str:
    return f"bookvector_hnsw_v{int(version_id)}"


def link_index_name(version_id: int) -> str:
    return f"linkvector_hnsw_v{int(version_id)}"


def nearest_sql(*, kind: str, version_id: int, dimensions: int, sources: str, limit: str | int,
                where: str = "", join: str = "", columns: Mapping[str, str] | None = None) -> str:
    """SQL of the ``limit`` nearest rows (cosine, on the version's HNSW index) to each source row of one version.

    ``kind`` is "book" or "link"; ``sources`` is the SQL (usually a placeholder) of the array of source ids;
    the candidate row is ``v``, the source row ``s``. ``where`` (starting with AND) and ``join`` narrow the
    candidates; ``columns`` ({name: expression}) adds output columns. Rows: ``source``, ``neighbour``,
    ``distance`` (cosine distance), then ``columns`` in order; a source without a vector gives no row.
    """
    table, key = VECTOR_TABLES[kind]
    cast = vector_sql(dimensions)
    columns = dict(columns or {})
    inner = "".join(f", {expression} AS {name}" for name, expression in columns.items())
    outer = "".join(f", nn.{name}" for name in columns)
    return f"""
        SELECT s.{key} AS source, nn.{key} AS neighbour, nn.distance{outer}
        FROM {table} s
        CROSS JOIN LATERAL (
            SELECT v.{key}, v.embedding::{cast} <=> s.embedding::{cast} AS distance{inner}
            FROM {table} v {join}
            WHERE v.version_id = {int(version_id)} {where}
            ORDER BY distance
            LIMIT {limit}
        ) nn
        WHERE s.version_id = {int(version_id)} AND s.{key} = ANY({sources})
    """


def tune_search(*, ef_search: int | None, iterative: bool) -> None:
    """Sets the HNSW search knobs for the current transaction only (``ef_search`` None: pgvector's default).

    ``iterative`` (relaxed order) lets a filtered query scan on until it has its rows, instead of returning
    fewer when the filter drops candidates; rows may then come back with near-ties swapped.
    """
    with connection.cursor() as cursor:
        if ef_search is None:
            cursor.execute("SELECT set_config('hnsw.iterative_scan', %s, true)",
                           ["relaxed_order" if iterative else "off"])
        else:
            cursor.execute(
                "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true)",
                [str(ef_search), "relaxed_order" if iterative else "off"],
            )


def copy_rows(table: str, columns: list[str], types: list[str], rows: Iterable[tuple]) -> None:
    """Binary COPY of rows into ``table`` on Django's connection (inside the caller's transaction)."""
    with connection.cursor() as cursor:
        psycopg_cursor = cursor.cursor
        # pgvector's dumpers on this cursor only, so Django's own queries keep their usual adaptation.
        register_vector_info(psycopg_cursor, TypeInfo.fetch(psycopg_cursor.connection, "vector"))
        register_halfvec_info(psycopg_cursor, TypeInfo.fetch(psycopg_cursor.connection, "halfvec"))
        with psycopg_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # PostgreSQL's binary COPY header: no flags, no extension
_COPY_TRAILER = b"\xff\xff"


def copy_columns(table: str, columns: Mapping[str, np.ndarray]) -> None:
    """Binary COPY of whole columns into ``table`` (inside the caller's transaction), encoded by NumPy at once.

    Each value array has one entry per row: int64 (``bigint``), bool, float64 (``float8``; a column that is all
    NaN is written as NULLs) or a 2-D float32 array (``vector``, one row each). It writes what ``copy_rows``
    would, without a Python loop over the rows (BENCHMARKS.md §4 has the timings). A float column mixing NaN and
    numbers goes through ``copy_rows`` (its rows differ in length).
    """
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    n = len(next(iter(arrays.values())))
    mixed = [name for name, values in arrays.items()
             if values.dtype.kind == "f" and values.ndim == 1 and 0 < np.isnan(values).sum() < n]
    if mixed:
        types = [_copy_type(values) for values in arrays.values()]
        rows = zip(*(_python_values(values) for values in arrays.values()))
        copy_rows(table, list(arrays), types, rows)
        return
    fields, values_of = [("fields", ">i2")], {"fields": len(arrays)}
    for index, values in enumerate(arrays.values()):
        length, value = f"length{index}", f"value{index}"
        if values.ndim == 2:  # pgvector's binary vector: dimensions, an unused int16, big-endian float4s
            fields += [(length, ">i4"), (f"dim{index}", ">i2"), (f"unused{index}", ">i2"),
                       (value, ">f4", (values.shape[1],))]
            values_of.update({length: 4 + 4 * values.shape[1], f"dim{index}": values.shape[1], f"unused{index}": 0,
                              value: values})
        elif values.dtype.kind == "f" and n and np.isnan(values).all():
            fields.append((length, ">i4"))
            values_of[length] = -1  # NULL: no bytes follow
        else:
            kind = {"b": ">?", "i": ">i8", "u": ">i8", "f": ">f8"}[values.dtype.kind]
            fields += [(length, ">i4"), (value, kind)]
            values_of.update({length: np.dtype(kind).itemsize, value: values})
    records = np.empty(n, dtype=np.dtype(fields))
    for name, value in values_of.items():
        records[name] = value
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({', '.join(arrays)}) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.write(_COPY_SIGNATURE + records.tobytes() + _COPY_TRAILER)


def _copy_type(values: np.ndarray) -> str:
    if values.ndim == 2:
        return "vector"
    return {"b": "bool", "i": "bigint", "u": "bigint", "f": "float8"}[values.dtype.kind]


def _python_values(values: np.ndarray) -> list:
    if values.ndim == 2:
        return list(values.astype(np.float32))
    if values.dtype.kind == "f":
        return [None if not np.isfinite(value) else float(value) for value in values.tolist()]
    return values.tolist()


def parse_vector(value) -> np.ndarray:
    """A vector as read back from SQL (pgvector's text form, or already a sequence) as float32."""
    if isinstance(value, str):
        return np.array(value.strip("[]").split(","), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)
