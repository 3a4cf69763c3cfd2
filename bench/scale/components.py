"""The training run's NumPy stages alone, at catalogue sizes larger than a whole run can reach here: CPU time.

On vectors with planted structure (``GENRES`` clusters of unit vectors, 64 dimensions as the product's default),
in this process after a warm-up (numba compiles UMAP and NN-descent once a process, ~30 CPU s that do not grow
with size; the results of 2026-12-07 were measured with a 200-book warm-up, so their 5,000-book layout includes
NN-descent's compilation; UMAP also runs 500 epochs up to 10,000 books and 200 above):

* the map's layout (``recommender.training.layout.book_layout``, UMAP);
* evaluation's nearest books: every book's exact neighbours (``nearest_neighbours`` without ``rows``, what
  evaluation computed before) against the sample evaluation now takes (``quality.EVALUATED_BOOKS`` books plus
  1,000 validation shelves' books), with the metrics of both to show the sample measures the same.

Growth exponents as in ``bench.scale.stages``. Results: ``bench/results/scale_components.json``.

Usage: python -m bench.scale.components [--sizes 5000,10000,20000,40000] [--layout-max 40000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from bench.support.common import write_result

DIMENSIONS = 64
GENRES = 30


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000,10000,20000,40000")
    parser.add_argument("--layout-max", type=int, default=40000, help="largest size the layout is run at")
    parser.add_argument("--name", default="scale_components")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    from recommender.training.layout import book_layout

    # numba's compilation, once a process: 4,200 books, as UMAP finds neighbours by NN-descent from 4,096 up
    book_layout(_vectors(4200, 0)[0], seed=0)
    rows = {}
    for n in sizes:
        rows[n] = measure(n, layout=n <= args.layout_max)
        print(n, json.dumps(rows[n]), flush=True)
        path = _write(args.name, sizes, rows)  # after each size: a run stopped early keeps what it measured
    print(json.dumps(_growth(rows)), "\n  ->", path)


def _write(name: str, sizes: list[int], rows: dict):
    return write_result(name, {"sizes_books": sizes, "dimensions": DIMENSIONS, "rows": rows,
                               "growth_exponents_cpu": _growth(rows)})


def _growth(rows: dict) -> dict:
    growth = {}
    for key in ("layout_cpu_seconds", "neighbours_all_cpu_seconds", "neighbours_sampled_cpu_seconds"):
        points = [(n, row[key]) for n, row in rows.items() if row.get(key)]
        if len(points) >= 2:
            x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
            growth[key] = round(float(np.polyfit(x, y, 1)[0]), 2)
    return growth


def measure(n: int, *, layout: bool) -> dict:
    from recommender.training.evaluation import label_knn_accuracy, nearest_neighbours
    from recommender.training.layout import book_layout
    from recommender.training.quality import EVALUATED_BOOKS, NEIGHBOURS

    vectors, genres = _vectors(n, seed=n)
    labels = [str(g) for g in genres]
    row: dict = {"books": n}
    if layout:
        started, clock = time.perf_counter(), time.process_time()
        book_layout(vectors, seed=0)
        row |= {"layout_cpu_seconds": round(time.process_time() - clock, 2),
                "layout_wall_seconds": round(time.perf_counter() - started, 2)}
    rng = np.random.default_rng(1)
    shelf_books = rng.choice(n, min(n, 16_000), replace=False)  # ~1,000 validation readers' visible books
    sample = np.sort(rng.choice(n, EVALUATED_BOOKS, replace=False)) if n > EVALUATED_BOOKS else None
    rows = None if sample is None else np.union1d(sample, shelf_books)
    clock = time.process_time()
    ids, _ = nearest_neighbours(vectors, NEIGHBOURS, rows=rows)
    row["neighbours_sampled_cpu_seconds"] = round(time.process_time() - clock, 2)
    row["genre_knn_accuracy@10_sampled"] = round(label_knn_accuracy(ids, labels, k=10, rows=sample), 4)
    del ids
    if n <= 40_000:  # the n² lists: 40,000 books take ~3 GB and minutes already
        clock = time.process_time()
        ids, _ = nearest_neighbours(vectors, NEIGHBOURS)
        row["neighbours_all_cpu_seconds"] = round(time.process_time() - clock, 2)
        row["genre_knn_accuracy@10_all"] = round(label_knn_accuracy(ids, labels, k=10), 4)
    return row


def _vectors(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``GENRES`` centres (a genre's books close, the genres apart), and each one's genre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(GENRES, DIMENSIONS))
    genres = rng.integers(0, GENRES, n)
    vectors = centres[genres] + rng.normal(scale=1.2, size=(n, DIMENSIONS))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), genres


if __name__ == "__main__":
    sys.exit(main())
