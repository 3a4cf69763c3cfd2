"""The shelf model at catalogue scale: the neighbourhood solver's fit time, peak memory and stored size at
several catalogue sizes, its recall of planted tastes for head and tail books, and shelf recommendations served
from PostgreSQL at the largest size (the selector in-process, and ``POST /api/v1/recommendations/`` under ``wrk``
beside the health endpoint, as ``bench.speed.http_load`` runs them).

The data is a seeded synthetic shelf matrix (``synthetic``): ``n`` books with power-law popularity, each of a
latent genre; ``5 n`` readers, each drawing most of a shelf (about 20 books, log-normal) from two genres by
popularity and the rest from the whole catalogue; about 25 tags a book (40 draws), most from its genre's own tags, some from a
catalogue-wide pool (a few of which, like "fiction", are on nearly every book). At 200,000 books that is 1,000,000
readers, ~20,000,000 shelf entries and 5,000,000 book–tag pairs. Held-out readers (2,000, never trained on) hide
20 % of their shelf; Recall@20 is reported for all hidden books and apart for head books (the most shelved ones
holding half the shelf entries) and tail books, beside popularity's. The planted tastes (``planted_taste_figures``):
each recommender — the neighbourhood shelf model, item-kNN (each book's 100 most cosine-similar books by training
shelves, a shelf's books' similarities summed) and popularity, in the same run — ranks the head books alone and the
tail books alone for each held-out reader; Recall@20 of that part's hidden books and the share of the 20 that are of
the reader's two planted genres. Fit time is recorded in wall and CPU seconds (the CPU of all the solver's threads:
the figure that does not depend on the machine's other load). Beside the product's defaults (which choose the
tail blend and scale on held-out training shelves: ``shelf_model_tail_selection_readers``), each
``--compare-tail-blends`` pair (``shelf_model_tail_blend:shelf_model_tail_scale``, fixed, nothing held out; by
default 0:1, the solver without the tail blend) is fitted on the same data and measured the same way.

Each size's fit runs in a child process (its peak resident memory is the child's own).

Serving can be measured at a size larger than any fitted one with ``--tile-from SIZE``: the model fitted at SIZE
is repeated along the diagonal (its books' neighbour lists, as long as a real fit's, copied for each block of
SIZE books) — what a query reads is a few books' lists, at most ``shelf_model_out_neighbours`` long each, so the
catalogue's size enters only through the table's indexes.

Usage: python -m bench.speed.shelf_model_scale [--sizes 10000,50000,200000] [--serve 200000 [--tile-from 10000]]
       [--duration 30] [--compare-tail-blends 0:1,1:0.1]
Writes bench/results/shelf_model_scale.json (``--sizes ""`` measures serving only and keeps the fits there).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from bench.support.common import (
    PROJECT_DIR,
    PYTHON,
    WORK_DIR,
    RssSampler,
    own_peak_rss_mib,
    percentiles_ms,
    write_result,
)

READERS_PER_BOOK = 5
MEAN_SHELF = 23
TAG_DRAWS_PER_BOOK = 40
HELD_OUT_READERS = 2000
K = 20
KNN_NEIGHBOURS = 100  # as the product's neighbour voting reads them


def synthetic(n_books: int, seed: int = 0) -> dict:
    """The seeded synthetic catalogue: shelves (reader, book), tags (book, tag), each book's genre."""
    rng = np.random.default_rng([seed, n_books])
    n_genres = max(10, n_books // 1000)
    genre = rng.integers(n_genres, size=n_books)
    popularity = 1.0 / np.arange(1, n_books + 1) ** 0.9
    popularity = popularity[rng.permutation(n_books)]
    by_genre = np.argsort(genre, kind="stable")
    cumulative = np.cumsum(popularity[by_genre])
    genre_end = np.searchsorted(genre[by_genre], np.arange(n_genres), side="right")
    genre_start = np.concatenate([[0], genre_end[:-1]])
    low = np.where(genre_start > 0, cumulative[genre_start - 1], 0.0)
    mass = cumulative[genre_end - 1] - low

    n_readers = READERS_PER_BOOK * n_books
    sizes = np.clip(np.round(rng.lognormal(np.log(MEAN_SHELF) - 0.32, 0.8, n_readers)), 2, 500).astype(np.int64)
    reader = np.repeat(np.arange(n_readers), sizes)
    tastes = rng.integers(n_genres, size=(n_readers, 2))
    draw = rng.random(len(reader))
    chosen = tastes[reader, (draw < 0.45).astype(int)]
    from_genre = draw < 0.85
    u = rng.random(len(reader))
    books = np.empty(len(reader), np.int64)
    target = low[chosen[from_genre]] + u[from_genre] * mass[chosen[from_genre]]
    books[from_genre] = by_genre[np.minimum(np.searchsorted(cumulative, target), n_books - 1)]
    overall = np.cumsum(popularity)
    books[~from_genre] = np.minimum(np.searchsorted(overall, u[~from_genre] * overall[-1]), n_books - 1)
    pairs = np.unique(reader * n_books + books)

    own_tags, pool = 50, max(1000, n_books // 10)
    tag_book = np.repeat(np.arange(n_books), TAG_DRAWS_PER_BOOK)
    from_own = rng.random(len(tag_book)) < 0.7
    zipf_own = np.minimum(rng.zipf(1.3, len(tag_book)) - 1, own_tags - 1)
    zipf_pool = np.minimum(rng.zipf(1.2, len(tag_book)) - 1, pool - 1)
    tag = np.where(from_own, genre[tag_book] * own_tags + zipf_own, n_genres * own_tags + zipf_pool)
    tag_pairs = np.unique(tag_book * (n_genres * own_tags + pool) + tag)
    return {"n_books": n_books, "n_readers": n_readers, "genre": genre, "popularity": popularity, "tastes": tastes,
            "shelf_reader": pairs // n_books, "shelf_book": pairs % n_books,
            "tag_book": tag_pairs // (n_genres * own_tags + pool), "tag": tag_pairs % (n_genres * own_tags + pool),
            "n_tags": n_genres * own_tags + pool}


def fit_one(n_books: int, out: Path, compare_tail_blends: list[tuple[float, float]]) -> dict:
    """Generates the catalogue, fits the neighbourhood shelf model (the product's defaults, and beside it each
    of ``compare_tail_blends``: (shelf_model_tail_blend, shelf_model_tail_scale) pairs), measures it; saves the
    default model to ``out``."""
    from recommender.training import PairSet, TrainingParams
    from recommender.training.evaluation import ShelfCase, popularity_recommender, shelf_recall_ndcg
    from recommender.training.shelf_model import recommend_from_shelf_model, solver_threads, train_shelf_model

    started = time.perf_counter()
    data = synthetic(n_books)
    generated = time.perf_counter() - started
    reader, book = data["shelf_reader"], data["shelf_book"]
    rng = np.random.default_rng(7)
    held_out = rng.choice(data["n_readers"], HELD_OUT_READERS, replace=False)
    is_held = np.isin(reader, held_out)
    cases = []
    for user in held_out:
        shelf = rng.permutation(book[reader == user])
        visible = max(1, int(np.floor(0.8 * len(shelf))))
        if visible < len(shelf):
            cases.append(ShelfCase(int(user), shelf[:visible], shelf[visible:]))
    train_reader, train_book = reader[~is_held], book[~is_held]
    _, readers = np.unique(train_reader, return_inverse=True)
    shelves = PairSet.build(train_book, readers, n_books=n_books, n_links=int(readers.max()) + 1)
    content = PairSet.build(data["tag_book"], data["tag"], n_books=n_books, n_links=data["n_tags"])
    params = TrainingParams(shelf_model_solver="neighbourhood")
    genre, tastes = data["genre"], data["tastes"]
    del data, reader, book, is_held
    rss_before = own_peak_rss_mib()

    stages: list[tuple[float, str]] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    model = train_shelf_model(shelves=shelves, content=content, params=params,
                              on_stage=lambda d: stages.append((round(time.perf_counter() - started, 1), d)))
    fit_seconds, fit_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = own_peak_rss_mib()
    compared, compared_figures = {}, {}
    for blend, scale in compare_tail_blends:
        # The same fit with another tail blend (item-kNN's votes for tail books; 0: none) and tail scale, in the
        # same run.
        name = f"shelf model, tail blend {blend:g}, tail scale {scale:g}"
        cpu_started = time.process_time()
        compared[name] = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(
            shelf_model_solver="neighbourhood", shelf_model_tail_selection_readers=0, shelf_model_tail_blend=blend,
            shelf_model_tail_scale=scale))
        compared_figures[name] = {"fit_cpu_seconds": round(time.process_time() - cpu_started, 1),
                                  "stored_weights": int(compared[name].shelf_vectors.nnz)}

    shelf_count = np.bincount(train_book, minlength=n_books).astype(np.float64)
    order = np.argsort(-shelf_count)
    head = np.zeros(n_books, bool)
    head[order[: int(np.searchsorted(np.cumsum(shelf_count[order]), shelf_count.sum() / 2)) + 1]] = True
    recommenders = {name: (lambda shelf, k, fitted=fitted: recommend_from_shelf_model(fitted, shelf, k))
                    for name, fitted in {"shelf model": model, **compared}.items()}
    recommenders["popularity"] = popularity_recommender(shelf_count)
    quality = {}
    for name, recommend in recommenders.items():
        quality[name] = {"all": shelf_recall_ndcg(recommend, cases, K)}
        for part, mask in (("head", head), ("tail", ~head)):
            part_cases = [ShelfCase(c.user_id, c.visible, c.hidden[mask[c.hidden]]) for c in cases]
            quality[name][part] = shelf_recall_ndcg(recommend, [c for c in part_cases if len(c.hidden)], K)
    started = time.process_time()
    knn_ids, knn_sims = item_knn_lists(train_reader, train_book, n_books, KNN_NEIGHBOURS)
    knn_cpu_seconds = time.process_time() - started
    planted = planted_taste_figures(
        cases, head, genre, tastes, shelf_count,
        {"shelf model": shelf_model_scores(model, n_books),
         **{name: shelf_model_scores(fitted, n_books) for name, fitted in compared.items()},
         "item-kNN": knn_scores(knn_ids, knn_sims), "popularity": lambda shelf: shelf_count})
    weights = model.shelf_vectors
    lengths = np.diff(weights.indptr)
    np.savez(out, book_index=model.book_index, indptr=weights.indptr, indices=weights.indices, data=weights.data)
    return {
        "books": n_books, "training_readers": int(shelves.n_links), "shelf_entries": int(len(train_book)),
        "tag_pairs": int(len(content)), "generate_seconds": round(generated, 1),
        "modelled_books": len(model), "share_of_catalogue_modelled": round(len(model) / n_books, 4),
        "fit_seconds": round(fit_seconds, 1), "fit_cpu_seconds": round(fit_cpu_seconds, 1),
        "solver_threads": solver_threads(), "fit_stages": stages,
        "peak_rss_mib": round(peak, 1), "rss_before_fit_mib": round(rss_before, 1),
        "stored_weights": int(weights.nnz), "list_length_mean": round(float(lengths.mean()), 1),
        "list_length_max": int(lengths.max()),
        "stored_bytes_estimate": int(weights.nnz * 6 + len(model) * 64),
        "held_out_readers": len(cases), "head_books": int(head.sum()), "quality": quality,
        "planted_tastes": planted, "item_knn_cpu_seconds": round(knn_cpu_seconds, 1),
        "compared_fits": compared_figures, "chosen_tail_blend": model.tail_blend, "chosen_tail_scale": model.tail_scale,
        "params": {k: v for k, v in params.to_dict().items() if k.startswith("shelf_model")},
    }


def item_knn_lists(readers: np.ndarray, books: np.ndarray, n_books: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Item-kNN: each book's ``k`` most similar books by cosine of their training shelves (sparse, a block of
    books at a time), as ids and similarities (n_books × k; a shorter list is padded with id -1, similarity 0)."""
    import scipy.sparse as sp

    _, rows = np.unique(readers, return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, books)), shape=(rows.max() + 1, n_books))
    matrix.data[:] = 1.0
    norms = np.sqrt(np.asarray(matrix.sum(axis=0), np.float64).ravel())
    by_book = matrix.T.tocsr()
    ids, sims = np.full((n_books, k), -1, np.int64), np.zeros((n_books, k), np.float32)
    for start in range(0, n_books, 200):
        stop = min(start + 200, n_books)
        block = (by_book[start:stop] @ matrix).tocoo()
        row, col = block.row.astype(np.int64), block.col.astype(np.int64)
        value = block.data / np.maximum(norms[row + start] * norms[col], 1e-12)
        keep = row + start != col
        row, col, value = row[keep], col[keep], value[keep]
        order = np.lexsort((col, -value, row))
        row, col, value = row[order], col[order], value[order]
        rank = np.arange(len(row)) - np.searchsorted(row, row)
        top = rank < k
        ids[row[top] + start, rank[top]], sims[row[top] + start, rank[top]] = col[top], value[top]
    return ids, sims


def shelf_model_scores(model, n_books: int):
    """A shelf's score of every book under the shelf model (the sum of its books' rows; unmodelled books 0)."""
    position = np.full(n_books, -1, np.int64)
    position[model.book_index] = np.arange(len(model.book_index))

    def scores(shelf: np.ndarray) -> np.ndarray:
        at = position[shelf]
        row = np.asarray(model.shelf_vectors[at[at >= 0]].sum(axis=0), np.float64).ravel()
        whole = np.zeros(n_books)
        whole[model.book_index] = row
        return whole

    return scores


def knn_scores(ids: np.ndarray, sims: np.ndarray):
    """A shelf's score of every book under item-kNN: the sum of the shelf books' cosine to it (neighbour voting)."""
    def scores(shelf: np.ndarray) -> np.ndarray:
        listed = ids[shelf].ravel()
        return np.bincount(listed[listed >= 0], weights=sims[shelf].ravel()[listed >= 0], minlength=len(ids))

    return scores


def planted_taste_figures(cases: list, head: np.ndarray, genre: np.ndarray, tastes: np.ndarray,
                          shelf_count: np.ndarray, recommenders: dict) -> dict:
    """For head books and for tail books apart, each recommender ranking only that part's books (not on the
    visible shelf; books it gives no score filled by popularity): Recall@20 of the part's hidden books, and the
    planted-taste precision@20 — the share of the 20 that are of one of the reader's two planted genres (a
    random pick's: about 2 / genres)."""
    n_genres = int(genre.max()) + 1
    popular_first = np.argsort(-shelf_count, kind="stable")
    figures = {}
    for name, scores_of in recommenders.items():
        figures[name] = {}
        parts = {"head": head, "tail": ~head}
        sums = {part: {"recall": [], "taste": []} for part in parts}
        for case in cases:
            scores = scores_of(case.visible)
            on_shelf = np.zeros(len(head), bool)
            on_shelf[case.visible] = True
            liked = np.isin(genre, tastes[case.user_id])
            for part, mask in parts.items():
                candidate = mask & ~on_shelf
                scored = np.flatnonzero(candidate & (scores > 0))
                top = scored[np.lexsort((scored, -shelf_count[scored], -scores[scored]))][:K] if len(scored) else scored
                if len(top) < K:
                    fill = popular_first[candidate[popular_first]][: 2 * K]
                    top = np.concatenate([top, fill[~np.isin(fill, top)][: K - len(top)]])
                hidden = case.hidden[mask[case.hidden]]
                if len(hidden):
                    sums[part]["recall"].append(np.isin(top, hidden).sum() / min(len(hidden), K))
                sums[part]["taste"].append(liked[top].mean())
        for part in parts:
            figures[name][part] = {f"recall@{K}": round(float(np.mean(sums[part]["recall"])), 4),
                                   "readers_with_hidden": len(sums[part]["recall"]),
                                   f"taste_precision@{K}": round(float(np.mean(sums[part]["taste"])), 4)}
    figures["random_taste_precision"] = round(2 / n_genres, 4)
    return figures


def serve(n_books: int, model_file: Path, duration: int, connections: int, tile_from: int | None) -> dict:
    """At one size: the catalogue's books and a version with the fitted model in a scratch database, then the
    selector's latency in-process and the endpoint's under wrk."""
    from bench.support.scratch import fresh_database

    env = fresh_database(database="bookvec_shelfscale")
    child = subprocess.run([PYTHON, "-m", "bench.speed.shelf_model_scale", "--load", str(n_books),
                            "--model-file", str(model_file), *(["--tile-from", str(tile_from)] if tile_from else [])],
                           env=env, cwd=PROJECT_DIR, capture_output=True,
                           text=True)
    if child.returncode:
        raise RuntimeError(child.stderr[-3000:])
    loaded = json.loads(child.stdout.strip().splitlines()[-1])
    ids_file = loaded.pop("book_ids_file")
    return {**loaded, "http": http_figures(env, ids_file, duration, connections)}


def load_and_measure(n_books: int, model_file: Path, tile_from: int | None) -> dict:
    """(In a child with the scratch database's environment.) Writes the books and publishes the version."""
    import django

    django.setup()
    import scipy.sparse as sp
    from django.db import connection, transaction

    from recommender.selectors.recommendations import book_recommendations
    from recommender.services.versions import version_activate, version_publish
    from recommender.training.shelf_model import ShelfModel
    from recommender.vectors import copy_rows

    saved = np.load(model_file)
    n = len(saved["book_index"])
    weights = sp.csr_matrix((saved["data"], saved["indices"], saved["indptr"]), shape=(n, n))
    book_index = saved["book_index"]
    if tile_from:
        copies = n_books // tile_from
        weights = sp.block_diag([weights] * copies, format="csr", dtype=np.float32)
        book_index = np.concatenate([book_index + copy * tile_from for copy in range(copies)])
    model = ShelfModel(book_index=book_index, shelf_vectors=weights)
    from datetime import UTC, datetime

    from psycopg.types.json import Jsonb

    now, empty = datetime.now(UTC), Jsonb({})
    started = time.perf_counter()
    with transaction.atomic():
        copy_rows("books_book", ["external_id", "source", "title", "author", "genre", "country", "language",
                                 "publisher", "pages_raw", "isbn", "cover_url", "metadata", "search_text",
                                 "popularity", "created_at", "updated_at"],
                  ["text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "jsonb",
                   "text", "int4", "timestamptz", "timestamptz"],
                  ((f"generic:scale-{i}", "generic", f"Scale book {i}", f"Author {i % 5000}", "", "", "", "", "", "",
                    "", empty, f"scale book {i}", 0, now, now) for i in range(n_books)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM books_book WHERE external_id LIKE 'generic:scale-%%' ORDER BY id")
        book_ids = np.array([row[0] for row in cursor.fetchall()], np.int64)
    books_seconds = time.perf_counter() - started
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(n_books, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    version = version_publish(run=None, book_ids=book_ids, book_vectors=vectors, link_ids=np.zeros(0, np.int64),
                              link_vectors=np.zeros((0, 16), np.float32), shelf_model=model,
                              shelf_book_ids=book_ids[model.book_index])
    version_activate(version=version)
    publish_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('recommender_shelfvector')")
        shelf_bytes = cursor.fetchone()[0]

    modelled = book_ids[model.book_index]
    latencies = {}
    for shelf_size in (5, 50, 200):
        seconds = []
        for _ in range(100):
            shelf = rng.choice(modelled, shelf_size, replace=False).tolist()
            began = time.perf_counter()
            results = book_recommendations(book_ids=shelf, k=20)
            seconds.append(time.perf_counter() - began)
            assert len(results) == 20 and all(r.because for r in results)
        latencies[f"shelf_of_{shelf_size}"] = percentiles_ms(seconds)
    ids_file = WORK_DIR / "shelf_scale_ids.lua"
    ids_file.write_text("book_ids = {" + ",".join(map(str, modelled.tolist())) + "}\n")
    return {"books_written_seconds": round(books_seconds, 1), "publish_and_activate_seconds": round(publish_seconds, 1),
            "shelfvector_table_bytes": shelf_bytes, "selector_latency": latencies, "book_ids_file": str(ids_file)}


def http_figures(env: dict, ids_file: str, duration: int, connections: int) -> dict:
    """``POST /api/v1/recommendations/`` (5 random modelled books, k=20) and the health endpoint under wrk."""
    from bench.speed.http_load import WRK_DIR, _parse, ensure_wrk, free_port, start_gunicorn, stop_server, wait_until_up

    wrk = ensure_wrk()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, 3, env={**os.environ, **env})
    results = {}
    try:
        wait_until_up(base + "/api/v1/health/", server)
        wrk_env = {**os.environ, "BOOKVEC_WRK_IDS": ids_file, "BOOKVEC_WRK_COMMON": str(WRK_DIR / "common.lua")}
        for name, script, extra in (("recommendations", "recommendations.lua", {}),
                                    ("health", "fixed_path.lua", {"BOOKVEC_WRK_PATH": "/api/v1/health/"})):
            command = [wrk, "-t2", f"-c{connections}", "--timeout", "10s", "-s", str(WRK_DIR / script), base]
            subprocess.run([*command[:3], "-d", "2s", *command[3:]], env={**wrk_env, **extra}, capture_output=True,
                           check=True)
            with RssSampler(server.pid) as memory:
                output = subprocess.run([*command[:3], "-d", f"{duration}s", *command[3:]], env={**wrk_env, **extra},
                                        capture_output=True, text=True, check=True).stdout
            results[name] = {**_parse(output), "largest_worker_peak_rss_mib": round(memory.largest_process_mib, 1)}
    finally:
        stop_server(server)
    ratio = results["recommendations"]["requests_per_second"] / results["health"]["requests_per_second"]
    return {"connections": connections, "duration_seconds": duration, "gunicorn_workers": 3, "endpoints": results,
            "recommendations_vs_health": round(ratio, 2)}


def growth_exponent(sizes: list[int], values: list[float]) -> float | None:
    """e in value ∝ size^e, least squares on the logs."""
    if len(sizes) < 2:
        return None
    return round(float(np.polyfit(np.log(sizes), np.log(values), 1)[0]), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,50000,200000")
    parser.add_argument("--serve", type=int, default=None,
                        help="the size to serve from PostgreSQL (default: the largest; 0: none)")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tile-from", type=int, default=None,
                        help="serve the model fitted at this size, repeated up to --serve books")
    parser.add_argument("--compare-tail-blends", default="0:1",
                        help="also fit these shelf_model_tail_blend:shelf_model_tail_scale pairs at each size, for "
                             "the same figures (default: the solver without the blend)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(fit_one(args.one, args.model_file,
                                 [tuple(map(float, pair.split(":"))) for pair in args.compare_tail_blends.split(",")
                                  if pair])))
        return
    if args.load:
        print(json.dumps(load_and_measure(args.load, args.model_file, args.tile_from)))
        return

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if sizes:
        fits = []
        for size in sizes:
            model_file = WORK_DIR / f"shelf_scale_{size}.npz"
            print(f"[{time.strftime('%H:%M:%S')}] fitting {size:,} books", flush=True)
            child = subprocess.run([PYTHON, "-m", "bench.speed.shelf_model_scale", "--one", str(size),
                                    "--model-file", str(model_file), "--compare-tail-blends",
                                    args.compare_tail_blends], cwd=PROJECT_DIR, capture_output=True, text=True,
                                   env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)})
            if child.returncode:
                raise RuntimeError(child.stderr[-3000:])
            fits.append(json.loads(child.stdout.strip().splitlines()[-1]))
            print(json.dumps({k: v for k, v in fits[-1].items() if k not in ("fit_stages", "params", "planted_tastes", "quality")}), flush=True)
            save({"fits": fits})
        save({"fits": fits, "growth_exponents": {
            key: growth_exponent(sizes, [fit[key] for fit in fits])
            for key in ("fit_seconds", "fit_cpu_seconds", "peak_rss_mib", "stored_weights", "shelf_entries")}})
    if args.serve == 0:
        return
    served = args.serve or max(sizes)
    source = args.tile_from or served
    print(f"[{time.strftime('%H:%M:%S')}] serving {served:,} books", flush=True)
    figures = {"books": served, "model": f"fitted at {source:,} books" + (
        f", repeated {served // source}x along the diagonal" if args.tile_from else ""),
        **serve(served, WORK_DIR / f"shelf_scale_{source}.npz", args.duration, args.connections, args.tile_from)}
    path = save({"served": figures})
    print(json.dumps(figures, indent=1), f"\n-> {path}", flush=True)


def save(update: dict) -> Path:
    """Writes the results file with ``update``'s parts replaced, the others kept (fits and serving run apart, and
    earlier comparisons merged in by hand, such as ``tail_blend`` and ``tail_selection``, stay)."""
    from bench.support.common import RESULTS_DIR

    path = RESULTS_DIR / "shelf_model_scale.json"
    kept = {}
    if path.exists():
        kept = {key: value for key, value in json.loads(path.read_text()).items()
                if key not in ("benchmark", "command", "machine")}
    return write_result("shelf_model_scale", {**kept, **update})


if __name__ == "__main__":
    main()
