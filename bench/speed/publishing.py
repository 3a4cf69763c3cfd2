"""Publishing a version: all book and link vectors into pgvector plus the HNSW indexes, at seed scale.

Takes the active version's vectors from the scratch database and publishes them again as a new version through
the product's own services, as a training run does, timing each call and its stages:

* ``version_write``: binary COPY of the book and link vectors in one transaction, fresh statistics;
* ``version_index_books`` (and ``version_mark_ready``): the partial HNSW index (cosine) of the book vectors, then
  the ANN recall@10 check on 200 books. A run does this on a connection of its own while it predicts
  (``training_pipeline``), so what it waits for is the write plus whatever of this outlasts its prediction stage;
* ``version_index_links``: the link index (the links listed as similar links only, those used by
  ``SIMILAR_LINK_MIN_BOOKS`` books or more), built concurrently once the version is live, and its recall@10
  measured the same way (on 1,000 listed links).

"seconds" is the write plus the index and check, as ``version_publish`` runs them one after the other (what a run
waited for until it built the index while predicting); the summary's ``publish_seconds`` is the write alone, what a
run now waits for before it goes on (``bench.speed.product_training``'s stages ``publish`` and ``index_books`` time
it in a real run, the latter what is left of the index after the prediction). The new version is then discarded (it
was never activated, so readers never see it).

Usage: python -m bench.speed.publishing [--build-workers N]   (scratch environment: see bench.support.scratch)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager

import numpy as np

from bench.support.common import write_result

TARGET_SECONDS = 10.0
LINK_RECALL_SAMPLE_SIZE = 1000


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
            _timed(versions, "_copy_link_vectors", stages, "copy_link_vectors"), \
            _timed(versions, "_build_book_index", stages, "build_book_index"), \
            _timed(versions, "version_check_ann_recall", stages, "check_ann_recall"):
        started = time.perf_counter()
        version = versions.version_write(run=None, book_ids=book_ids, book_vectors=book_vectors,
                                         link_ids=link_ids, link_vectors=link_vectors,
                                         link_book_counts=link_book_counts)
        write_seconds = time.perf_counter() - started
        started = time.perf_counter()
        versions.version_index_books(version=version, ids=book_ids, vectors=book_vectors)
        versions.version_mark_ready(version=version)
        ready_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        versions.version_index_links(version=version)
        link_index_seconds = time.perf_counter() - started
        is_listed = link_book_counts >= versions.SIMILAR_LINK_MIN_BOOKS
        link_recall = versions.version_check_ann_recall(version=version, sample_size=LINK_RECALL_SAMPLE_SIZE,
                                                        ids=link_ids[is_listed], vectors=link_vectors[is_listed],
                                                        model=LinkVector)
    finally:
        versions.version_discard(version=version)
    seconds = write_seconds + ready_seconds
    return {
        "source_version_id": active.pk,
        "book_vectors": len(book_ids), "link_vectors": len(link_ids), "dimensions": int(book_vectors.shape[1]),
        "listed_link_vectors": int(is_listed.sum()), "similar_link_min_books": versions.SIMILAR_LINK_MIN_BOOKS,
        "hnsw": {"m": vectors.HNSW_M, "ef_construction": vectors.HNSW_EF_CONSTRUCTION,
                 "ef_search": vectors.HNSW_EF_SEARCH, "build_workers": versions.HNSW_BUILD_WORKERS},
        "seconds": round(seconds, 2),
        "write_seconds": round(write_seconds, 2),
        "book_index_and_check_seconds": round(ready_seconds, 2),
        "stages_seconds": {name: round(value, 2) for name, value in stages.items()},
        "link_index_seconds_after_live": round(link_index_seconds, 2),
        "ann_recall_at_10": version.ann_recall_at_10,
        "link_ann_recall_at_10": link_recall,
        "summary": {"publish_seconds": round(write_seconds, 2), "book_index_and_check_seconds": round(ready_seconds, 2),
                    "target_seconds": TARGET_SECONDS, "met": write_seconds < TARGET_SECONDS,
                    "vectors": len(book_ids) + len(link_ids)},
    }


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
