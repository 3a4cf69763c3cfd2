"""Embedding versions: publishing a run's vectors, checking them, switching them on and off, pruning.

A version is written beside the live one: its rows are bulk-loaded with binary COPY (``version_write``), then
a partial HNSW index (cosine) is built over that version's book rows only, then ANN recall@10 is measured
against exact search on a sample of books (``version_index_books``). Only then is the version marked ready
(``version_mark_ready``), and only a ready version can be activated. The index build is CPU work in PostgreSQL
that takes as much longer as the machine is busier (BENCHMARKS.md §4), so a training run does it on a connection
of its own while it goes on predicting, and waits only for what is left of it. Activation and rollback flip
``is_active`` in one transaction, so readers see either the old version or the new one, never a mix.

The version's link index (similar links) is built by ``version_index_links`` once the version is decided on
(the training run does it right after activating), not before it goes live: building it was half of
publishing (BENCHMARKS.md §4), and without it a similar-links query is still answered, exactly, by a scan of
the version's listed links (~30 ms at seed scale on a busy machine). It is built ``CONCURRENTLY``, so readers
of the live version never wait for it; a worker that dies before it is built leaves the version serving, and
the next worker to start builds it (``versions_index_links_missing``).
"""
from __future__ import annotations

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from pgvector import HalfVector

from config.errors import StateConflict
from recommender.models import BookVector, EmbeddingVersion, LinkVector, ShelfVector, TrainingRun
from recommender.services.inference import book_vectors_infer
from recommender.training.shelf_model import ShelfModel
from recommender.vectors import (
    HNSW_BUILD_MEMORY,
    HNSW_BUILD_WORKERS,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    book_index_name,
    copy_columns,
    copy_rows,
    link_index_name,
    nearest_sql,
    tune_search,
    vector_sql,
)

SIMILAR_LINK_MIN_BOOKS = 4
"""Links used by fewer books keep a vector (new books' vectors are inferred from their links) but are not
offered as similar links nor put in the link index: the original method kept only links used by 4 books or
more, and at seed scale the links used by 2 or 3 books are half of all links, so leaving them out halves the
link index build, the larger part of publishing."""
MIN_ANN_RECALL_AT_10 = 0.9
"""A version whose index finds fewer of the exact 10 nearest books than this is never marked ready."""
RECALL_SAMPLE_SIZE = 200
ACTIVATION_LOCK = 0x6C697665  # any constant ("live"): identifies this lock among the database's advisory locks
LINK_INDEX_LOCK = 0x6C696E6B  # ("link"): one build of a version's link index at a time


class VersionNotReady(StateConflict, ValueError):
    """The version cannot go live: its vectors or index are not written and checked."""


class NoPreviousVersion(StateConflict, ValueError):
    """There is no earlier ready version to roll back to."""


class AnnRecallTooLow(RuntimeError):
    """The version's HNSW index misses too many exact nearest neighbours to serve."""


def version_publish(**write_arguments) -> EmbeddingVersion:
    """Writes a new, inactive version and makes it ready: vectors COPYed (``version_write``, whose keyword arguments
    it takes), book HNSW index built and recall checked (``version_index_books``), marked ready
    (``version_mark_ready``). On any failure the half-written version is deleted and the error re-raised; the live
    version is never touched. Raises AnnRecallTooLow when the index does not meet ``MIN_ANN_RECALL_AT_10``.
    """
    version = version_write(**write_arguments)
    version_index_books(version=version, ids=write_arguments["book_ids"], vectors=write_arguments["book_vectors"])
    return version_mark_ready(version=version)


def version_write(
    *,
    run: TrainingRun | None,
    book_ids: np.ndarray,
    book_vectors: np.ndarray,
    link_ids: np.ndarray,
    link_vectors: np.ndarray,
    map_coords: np.ndarray | None = None,
    layout_method: str = "",
    metrics: dict | None = None,
    shelf_model: ShelfModel | None = None,
    shelf_book_ids: np.ndarray | None = None,
    link_book_counts: np.ndarray | None = None,
) -> EmbeddingVersion:
    """Writes a new version's vectors, not ready yet: book and link vectors COPYed in one transaction, both tables'
    statistics refreshed. ``version_index_books`` then builds and checks its book index, ``version_mark_ready``
    makes it ready.

    ``shelf_model`` (with the database id of each of its books in ``shelf_book_ids``) is written beside the book
    vectors, in the same transaction. ``link_book_counts`` (how many books use each link) lists only links used by
    ``SIMILAR_LINK_MIN_BOOKS`` books or more as similar links (and in the link index, which ``version_index_links``
    builds); without it every link is listed. On any failure the half-written version is deleted and the error
    re-raised.
    """
    dimensions = int(book_vectors.shape[1])
    with transaction.atomic():
        version = EmbeddingVersion.objects.create(
            training_run=run, dimensions=dimensions, book_count=len(book_ids), link_count=len(link_ids),
            metrics=metrics or {}, layout_method=layout_method,
            shelf_model_book_count=0 if shelf_model is None else len(shelf_model),
            shelf_model_solver="neighbourhood" if shelf_model is not None and shelf_model.is_sparse else "exact",
        )
        _copy_book_vectors(version, book_ids, book_vectors, map_coords)
        listed = np.ones(len(link_ids), bool) if link_book_counts is None else (
            np.asarray(link_book_counts) >= SIMILAR_LINK_MIN_BOOKS)
        _copy_link_vectors(version, link_ids, link_vectors, listed)
        if shelf_model is not None:
            _copy_shelf_vectors(version, shelf_book_ids, shelf_model)
        _drop_vectors_of_deleted(version)
    try:
        with connection.cursor() as cursor:
            # Fresh statistics for both tables: without them the planner takes the new version for a handful of
            # rows and sorts them exactly instead of using its index (similar links did, until autovacuum came).
            cursor.execute(f"ANALYZE {BookVector._meta.db_table}, {LinkVector._meta.db_table}")
    except BaseException:
        version_discard(version=version)
        raise
    return version


def version_index_books(*, version: EmbeddingVersion, ids: np.ndarray | None = None,
                        vectors: np.ndarray | None = None) -> float:
    """Builds a written version's partial HNSW index of book vectors and checks its ANN recall@10 (stored on the
    version); returns the recall. It does not make the version ready (``version_mark_ready`` does).

    ``ids``/``vectors``: the version's book vectors when the caller holds them (the check reads them back
    otherwise). It needs nothing of the caller's connection but the committed version, so a training run calls it
    from a thread of its own while it goes on predicting (``training_pipeline``). On any failure the version is
    deleted and the error re-raised: AnnRecallTooLow when the index does not meet ``MIN_ANN_RECALL_AT_10``.
    """
    try:
        _build_book_index(version)
        recall = version_check_ann_recall(version=version, ids=ids, vectors=vectors)
        if recall < MIN_ANN_RECALL_AT_10:
            raise AnnRecallTooLow(
                f"ANN recall@10 of version {version.pk} is {recall:.3f}, below {MIN_ANN_RECALL_AT_10}"
            )
        version.ann_recall_at_10 = recall
        version.save(update_fields=["ann_recall_at_10"])
    except BaseException:
        version_discard(version=version)
        raise
    return recall


def version_mark_ready(*, version: EmbeddingVersion) -> EmbeddingVersion:
    """Marks a version whose book index passed its check (``version_index_books``) ready, so that it can go live;
    raises VersionNotReady for one whose index was not checked. A training run marks it at its very end, so that a
    worker dying earlier (while the index builds, say) leaves no ready version of a failed run behind."""
    updated = EmbeddingVersion.objects.filter(pk=version.pk, ann_recall_at_10__gte=MIN_ANN_RECALL_AT_10).update(
        is_ready=True)
    if not updated:
        raise VersionNotReady(f"Version {version.pk} has no checked book index.")
    version.is_ready = True
    return version


def version_check_ann_recall(*, version: EmbeddingVersion, sample_size: int = RECALL_SAMPLE_SIZE,
                             seed: int = 0, ids: np.ndarray | None = None, vectors: np.ndarray | None = None,
                             model: type[BookVector] | type[LinkVector] = BookVector) -> float:
    """Mean share of each sampled book's (``model=LinkVector``: link's) exact 10 nearest that the HNSW
    index query returns.

    Exact neighbours are computed in NumPy from ``ids`` and ``vectors`` when the caller holds the
    vectors it has just written (publishing: reading 37k vectors back through the ORM took longer than
    the check itself), else from the stored vectors; either way the same rows are sampled. The index
    query is the one the serving selectors run (same cast, same ``ef_search``).
    """
    if ids is None:
        ids, vectors = _stored_vectors(version, model)
    else:
        order = np.argsort(ids, kind="stable")
        ids, vectors = np.asarray(ids, dtype=np.int64)[order], np.asarray(vectors, dtype=np.float32)[order]
    k = min(10, len(ids) - 1)
    if k <= 0:
        return 1.0
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(ids), size=min(sample_size, len(ids)), replace=False))
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    unit = vectors / norms
    sims = unit[sample] @ unit.T
    sims[np.arange(len(sample)), sample] = -np.inf
    exact = np.argpartition(-sims, k - 1, axis=1)[:, :k]  # the k nearest, in any order (a full sort took ~1 s)

    kind = "book" if model is BookVector else "link"
    sql = nearest_sql(kind=kind, version_id=version.pk, dimensions=version.dimensions, sources="%s::bigint[]",
                      limit=k + 1, where="AND v.is_listed" if model is LinkVector else "")
    with transaction.atomic(), connection.cursor() as cursor:
        tune_search(ef_search=HNSW_EF_SEARCH, iterative=False)
        cursor.execute(sql, [ids[sample].tolist()])
        found: dict[int, set[int]] = {}
        for source, neighbour, _distance in cursor.fetchall():
            if source != neighbour:
                found.setdefault(source, set()).add(neighbour)
    hits = [len(found.get(int(ids[row]), set()) & set(ids[exact[i]].tolist())) / k for i, row in enumerate(sample)]
    return float(np.mean(hits))


@transaction.atomic
def version_activate(*, version: EmbeddingVersion) -> EmbeddingVersion:
    """Makes ``version`` the one readers are served from, in one transaction; raises VersionNotReady if it is not ready."""
    _serialise_activations()
    locked = EmbeddingVersion.objects.select_for_update().get(pk=version.pk)
    if not locked.is_ready:
        raise VersionNotReady(f"Version {locked.pk} is not ready (vectors, index or recall check missing).")
    if locked.is_active:
        return locked
    EmbeddingVersion.objects.filter(is_active=True).update(is_active=False)
    locked.is_active = True
    locked.activated_at = timezone.now()
    locked.save(update_fields=["is_active", "activated_at"])
    version.is_active, version.activated_at = locked.is_active, locked.activated_at
    # Books imported while it trained (or after it was first live) get their inferred vector in it too.
    book_vectors_infer()
    return locked


@transaction.atomic
def version_rollback() -> EmbeddingVersion:
    """Activates the ready version older than the live one that served last (the newest older one if none served);
    returns it.

    Raises NoPreviousVersion when there is none.
    """
    _serialise_activations()
    live = EmbeddingVersion.objects.select_for_update().filter(is_active=True).first()
    previous = _rollback_target(live)
    if previous is None:
        raise NoPreviousVersion("There is no earlier ready version to roll back to.")
    return version_activate(version=previous)


def version_rollback_target() -> EmbeddingVersion | None:
    """The version a rollback would activate now (what "Roll back" names before it is confirmed), or None."""
    return _rollback_target(EmbeddingVersion.objects.filter(is_active=True).first())


def _rollback_target(live: EmbeddingVersion | None) -> EmbeddingVersion | None:
    """What a rollback activates: of the ready versions older than ``live``, the one that served last (a version
    tried and rolled back from, held back by the quality gate say, is not it), else the newest."""
    older = EmbeddingVersion.objects.filter(is_ready=True, is_active=False)
    if live is not None:
        older = older.filter(pk__lt=live.pk)
    return (older.filter(activated_at__isnull=False).order_by("-activated_at", "-pk").first()
            or older.order_by("-pk").first())


def _serialise_activations() -> None:
    """One activation or rollback at a time (until the transaction ends): two at once would both switch the
    live version off and on, and the second would break the one-active-version constraint."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACTIVATION_LOCK])


def versions_prune(*, keep: int | None = None) -> list[int]:
    """Deletes all but the newest ``keep`` versions (settings.EMBEDDING_VERSIONS_KEPT), never the active one and,
    when ``keep`` is 2 or more, never the one a rollback would activate (however many newer versions never went
    live, e.g. held back by the quality gate).

    Versions that never became ready (left by a failed run) are deleted too. Returns the deleted ids.
    """
    keep = settings.EMBEDDING_VERSIONS_KEPT if keep is None else keep
    ready = list(EmbeddingVersion.objects.filter(is_ready=True).order_by("-pk").values_list("pk", "is_active"))
    kept = {pk for pk, _ in ready[:max(keep, 1)]} | {pk for pk, active in ready if active}
    live = EmbeddingVersion.objects.filter(is_active=True).first()
    rollback_target = _rollback_target(live) if live is not None and keep > 1 else None
    if rollback_target is not None:
        kept.add(rollback_target.pk)
    doomed = list(EmbeddingVersion.objects.exclude(pk__in=kept).filter(is_active=False)
                  .exclude(training_run__status__in=TrainingRun.OPEN_STATUSES)
                  .values_list("pk", flat=True))
    return [pk for pk in doomed if version_discard(version=EmbeddingVersion(pk=pk))]


def version_discard(*, version: EmbeddingVersion) -> bool:
    """Drops an inactive version's indexes and deletes its vectors and row, without blocking readers; returns
    whether it did (a version gone already, or live — staff may have activated it meanwhile — is left alone).

    The version is first marked not ready, so nobody can activate it meanwhile. A plain ``DROP INDEX`` would hold
    an exclusive lock on the vector tables until commit, stalling every similar-books and recommendation query
    behind it; ``DROP INDEX CONCURRENTLY`` does not, but cannot run inside a transaction, so a caller that is in one
    (a test) gets the plain drop. The row deletes take only row locks.
    """
    with transaction.atomic():
        locked = EmbeddingVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None or locked.is_active:
            return False
        locked.is_ready = False
        locked.save(update_fields=["is_ready"])
    concurrently = "" if connection.in_atomic_block else " CONCURRENTLY"
    with connection.cursor() as cursor:
        for name in (book_index_name(locked.pk), link_index_name(locked.pk)):
            cursor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")
    with transaction.atomic(), connection.cursor() as cursor:
        # Plain DELETEs: the ORM's cascade would load every vector row first.
        for table in ("recommender_bookvector", "recommender_linkvector", "recommender_shelfvector"):
            cursor.execute(f"DELETE FROM {table} WHERE version_id = %s", [locked.pk])
        EmbeddingVersion.objects.filter(pk=locked.pk).delete()
    return True


def _drop_vectors_of_deleted(version: EmbeddingVersion) -> None:
    """Deletes the version's vectors of books and links that are gone (deleted or merged while it trained), in one
    set-wise statement per table: the vector tables have no foreign-key constraints to check it row by row."""
    with connection.cursor() as cursor:
        for table, key, target in (("recommender_bookvector", "book_id", "books_book"),
                                   ("recommender_linkvector", "link_id", "books_link")):
            cursor.execute(f"DELETE FROM {table} v WHERE v.version_id = %s"
                           f" AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = v.{key})", [version.pk])


def _copy_book_vectors(version, book_ids, vectors, map_coords) -> None:
    n = len(book_ids)
    coords = np.asarray(map_coords, dtype=np.float64) if map_coords is not None else np.full((n, 2), np.nan)
    coords = np.where(np.isfinite(coords), coords, np.nan)
    copy_columns(BookVector._meta.db_table, {
        "version_id": np.full(n, version.pk, np.int64), "book_id": np.asarray(book_ids, np.int64),
        "embedding": np.asarray(vectors, np.float32), "map_x": coords[:, 0], "map_y": coords[:, 1],
        "is_inferred": np.zeros(n, bool),
    })


def _copy_link_vectors(version, link_ids, vectors, listed) -> None:
    n = len(link_ids)
    copy_columns(LinkVector._meta.db_table, {
        "version_id": np.full(n, version.pk, np.int64), "link_id": np.asarray(link_ids, np.int64),
        "embedding": np.asarray(vectors, np.float32), "is_listed": np.asarray(listed, bool),
    })


def _copy_shelf_vectors(version, book_ids, model: ShelfModel) -> None:
    if len(book_ids) != len(model):
        raise ValueError("shelf_book_ids must name every book of the shelf model")
    if model.is_sparse:
        _copy_shelf_neighbours(version, book_ids, model)
        return
    rows = ((version.pk, int(book_id), position, HalfVector(vector))
            for position, (book_id, vector) in enumerate(zip(book_ids, model.shelf_vectors), start=1))
    copy_rows(ShelfVector._meta.db_table, ["version_id", "book_id", "position", "vector"],
          ["bigint", "bigint", "int4", "halfvec"], rows)


def _copy_shelf_neighbours(version, book_ids, model: ShelfModel) -> None:
    """Each book's neighbour list: the 1-based positions of its row's non-zero weights and the weights (both
    null for a row without any: a vector has at least one component)."""
    weights = model.shelf_vectors
    rows = (
        (version.pk, int(book_id), position,
         *((None, None) if start == stop else
           ((weights.indices[start:stop] + 1).tolist(), HalfVector(weights.data[start:stop]))))
        for position, (book_id, start, stop) in enumerate(
            zip(book_ids, weights.indptr[:-1], weights.indptr[1:]), start=1)
    )
    copy_rows(ShelfVector._meta.db_table, ["version_id", "book_id", "position", "neighbours", "weights"],
              ["bigint", "bigint", "int4", "int4[]", "halfvec"], rows)


def _build_book_index(version: EmbeddingVersion) -> None:
    """Builds the version's partial HNSW index of book vectors.

    The build is CPU-bound work in the PostgreSQL server, done by the leader and ``HNSW_BUILD_WORKERS`` parallel
    maintenance workers; the graph fits in ``maintenance_work_mem`` (no on-disk build).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # CREATE INDEX refuses to run while deferred FK checks are pending (when the caller's transaction
        # still holds the COPY, e.g. in tests): run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _tune_build(cursor)
        cursor.execute(_index_sql(version, "book"))


def version_index_links(*, version: EmbeddingVersion) -> bool:
    """Builds the version's partial HNSW index of listed link vectors unless it has a valid one; returns whether
    it built one.

    Outside a transaction the index is built ``CONCURRENTLY``: queries and writes on the link table go on
    meanwhile, and a build cut short (a worker killed) leaves an invalid index, which the next call drops and
    builds again. Inside one (tests) it is a plain build. One build per version at a time (advisory lock).
    """
    name = link_index_name(version.pk)
    concurrently = not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LINK_INDEX_LOCK, version.pk])
        try:
            cursor.execute("SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid"
                           " WHERE c.relname = %s", [name])
            found = cursor.fetchone()
            if found is not None and found[0]:
                return False
            if not EmbeddingVersion.objects.filter(pk=version.pk, is_ready=True).exists():
                return False  # discarded meanwhile (pruned, or its run failed): nothing to serve
            if found is not None:
                cursor.execute(f"DROP INDEX{' CONCURRENTLY' if concurrently else ''} IF EXISTS {name}")
            _tune_build(cursor, local=not concurrently)
            cursor.execute(_index_sql(version, "link", concurrently=concurrently))
            return True
        finally:
            if concurrently:  # the settings were the session's: leave the connection as it was
                cursor.execute("RESET maintenance_work_mem")
                cursor.execute("RESET max_parallel_maintenance_workers")
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LINK_INDEX_LOCK, version.pk])


def versions_index_links_missing() -> list[int]:
    """Builds the link index of every ready version that lacks a valid one (a worker died between activating
    a version and indexing its links); returns their ids. Live version first."""
    versions = EmbeddingVersion.objects.filter(is_ready=True).order_by("-is_active", "-pk")
    return [version.pk for version in versions if version_index_links(version=version)]


def _tune_build(cursor, *, local: bool = True) -> None:
    """The index build's memory and parallel workers: for the transaction (``local``) or else the session."""
    scope = "true" if local else "false"
    cursor.execute(
        f"SELECT set_config('maintenance_work_mem', %s, {scope}),"
        f" set_config('max_parallel_maintenance_workers', %s, {scope})",
        [HNSW_BUILD_MEMORY, str(HNSW_BUILD_WORKERS)],
    )


def _index_sql(version: EmbeddingVersion, kind: str, *, concurrently: bool = False) -> str:
    """CREATE INDEX of the version's partial HNSW index of book or (listed) link vectors."""
    name, table, only = ((book_index_name(version.pk), BookVector._meta.db_table, "") if kind == "book" else
                         (link_index_name(version.pk), LinkVector._meta.db_table, " AND is_listed"))
    return (
        f"CREATE INDEX{' CONCURRENTLY' if concurrently else ''} IF NOT EXISTS {name} ON {table}"
        f" USING hnsw ((embedding::{vector_sql(version.dimensions)}) vector_cosine_ops)"
        f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        f" WHERE version_id = {int(version.pk)}{only}"
    )


def _vector_key(model: type[BookVector] | type[LinkVector]) -> str:
    """The column naming what a vector row is of: ``book_id`` or ``link_id``."""
    return "book_id" if model is BookVector else "link_id"


def _stored_vectors(version: EmbeddingVersion, model) -> tuple[np.ndarray, np.ndarray]:
    key = _vector_key(model)
    rows = model.objects.filter(version=version)
    if model is LinkVector:
        rows = rows.filter(is_listed=True)
    rows = list(rows.order_by(key).values_list(key, "embedding"))
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, version.dimensions), np.float32)
    ids = np.array([row_id for row_id, _ in rows], dtype=np.int64)
    return ids, np.stack([np.asarray(vector, dtype=np.float32) for _, vector in rows])
