"""The shelf-quality bar measured the way readers get it: through ``POST /api/v1/recommendations/``.

``bench/quality/goodbooks.py`` measures the recommenders in NumPy. This benchmark measures the product:

1. the same validation and tuning readers are carved out of goodbooks' ``to_read.csv`` (same seed, same
   split); a copy of the goodbooks folder without any of their rows (want-to-read or rated) is written;
2. a fresh scratch database imports that folder with ``import_goodbooks`` and trains with
   ``train_embeddings --sync`` and the default parameters (book–link embeddings and shelf model);
3. gunicorn serves the app, and each validation reader's visible shelf is POSTed by goodbooks id to
   ``/api/v1/recommendations/`` (``external_ids``, ``k`` = 20), as an outside client would; Recall@20 and
   NDCG@20 are computed from the answers exactly as ``recommender.training.evaluation.shelf_recall_ndcg`` does, with
   the popularity baseline beside them.

Usage: python -m bench.quality.served --data ../shared/data/goodbooks   (about 10 minutes on 2 cores)
Writes bench/results/quality_served.json.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from bench.support.common import PROJECT_DIR, WORK_DIR, write_result

DATABASE = "bookvec_served"
K = 20
SIMILAR_EXAMPLES = (1, 2, 7, 10, 13, 16)
"""goodbooks book_ids of well-known books whose 5 most similar books the results list (The Hunger Games,
Harry Potter and the Sorcerer's Stone, The Hobbit, Pride and Prejudice, 1984, The Girl with the Dragon
Tattoo)."""
SHELF_EXAMPLES = ((2, 7), (10, 4), (13, 14), (16, 30))
"""Example shelves (goodbooks book_ids) whose 5 recommendations, with the books that explain them, are listed."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT_DIR.parent / "shared" / "data" / "goodbooks")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--validation-users", type=int, default=6800)
    parser.add_argument("--tuning-users", type=int, default=2000)
    parser.add_argument("--params", default="{}", help="training parameters as JSON")
    args = parser.parse_args(argv)

    from bench.quality.goodbooks import load_goodbooks
    from bench.support.scratch import drop_database, fresh_database, manage
    from recommender.training import TrainingParams

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    data = load_goodbooks(args.data, TrainingParams(seed=args.seed), n_validation=args.validation_users,
                          n_tuning=args.tuning_users, seed=args.seed)
    held_out = {case.user_id for case in data["validation"] + data["tuning"]}
    folder = WORK_DIR / "goodbooks-without-held-out-readers"
    removed = write_training_folder(args.data, folder, held_out)
    log(f"{folder}: {removed} rows of {len(held_out)} held-out readers removed")

    env = fresh_database(database=DATABASE)
    timings = {}
    try:
        started = time.perf_counter()
        manage(env, "import_goodbooks", str(folder))
        timings["import_seconds"] = round(time.perf_counter() - started, 1)
        log(f"imported in {timings['import_seconds']} s")
        started = time.perf_counter()
        params = [f"--param={key}={json.dumps(value)}" for key, value in json.loads(args.params).items()]
        manage(env, "train_embeddings", "--sync", *params)
        timings["training_run_seconds"] = round(time.perf_counter() - started, 1)
        log(f"trained in {timings['training_run_seconds']} s")
        figures = measure_served(env, data, log)
    finally:
        drop_database(DATABASE)
    figures.update(timings, held_out_readers=len(held_out), rows_left_out=removed)
    figures["summary"] = {key: figures[key] for key in ("served_recall@20", "served_ndcg@20",
                                                        "popularity_recall@20", "popularity_ndcg@20")}
    path = write_result("quality_served", figures)
    log(f"{json.dumps(figures['summary'])} -> {path}")


def write_training_folder(source: Path, folder: Path, held_out: set[int]) -> int:
    """Copies the goodbooks folder without the held-out readers' rows; returns how many rows were left out."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("books.csv", "tags.csv", "book_tags.csv"):
        shutil.copyfile(source / name, folder / name)
    removed = 0
    for name in ("to_read.csv", "ratings.csv"):
        with open(source / name, newline="", encoding="utf-8") as src, \
                open(folder / name, "w", newline="", encoding="utf-8") as dst:
            reader, writer = csv.reader(src), csv.writer(dst)
            writer.writerow(next(reader))
            for row in reader:
                if int(row[0]) in held_out:
                    removed += 1
                else:
                    writer.writerow(row)
    return removed


def measure_served(env: dict[str, str], data: dict, log) -> dict:
    """Starts gunicorn on the scratch database, POSTs every validation shelf, returns the figures."""
    from bench.speed.http_load import app_served, request_json

    with app_served(env) as connection:
        recalls, ndcgs, popular_recalls, popular_ndcgs, latencies, errors = [], [], [], [], [], 0
        discounts = 1.0 / np.log2(np.arange(2, K + 2))
        ranking = np.argsort(-data["popularity"], kind="stable")
        started = time.perf_counter()
        for number, case in enumerate(data["validation"], 1):
            hidden = set((case.hidden + 1).tolist())  # goodbooks book_id = index + 1
            visible = [f"goodbooks:{b + 1}" for b in case.visible.tolist()]
            began = time.perf_counter()
            status, answer = request_json(connection, "POST", "/api/v1/recommendations/",
                                          {"external_ids": visible, "k": K})
            latencies.append(time.perf_counter() - began)
            if status != 200:
                errors += 1
                suggested = []
            else:
                suggested = [goodbooks_id(item["book"]["external_id"]) for item in answer["results"]]
            ideal = min(len(hidden), K)
            hits = np.array([g in hidden for g in suggested[:K]], dtype=float)
            recalls.append(hits.sum() / ideal)
            ndcgs.append((discounts[: len(hits)] * hits).sum() / discounts[:ideal].sum())
            popular = ranking[~np.isin(ranking, case.visible)][:K] + 1
            popular_hits = np.array([g in hidden for g in popular], dtype=float)
            popular_recalls.append(popular_hits.sum() / ideal)
            popular_ndcgs.append((discounts * popular_hits).sum() / discounts[:ideal].sum())
            if number % 1000 == 0:
                log(f"  {number} readers: Recall@20 {np.mean(recalls):.4f} NDCG@20 {np.mean(ndcgs):.4f}")
        seconds = time.perf_counter() - started
        examples = served_examples(connection)
    latencies_ms = np.array(latencies) * 1000
    return {
        "protocol": "validation readers carved from to_read.csv (seeded), none of their rows imported; "
                    "80 % of each shuffled want-to-read shelf POSTed, 20 hidden-book recommendations scored",
        "readers": len(recalls),
        "served_recall@20": round(float(np.mean(recalls)), 4),
        "served_ndcg@20": round(float(np.mean(ndcgs)), 4),
        "popularity_recall@20": round(float(np.mean(popular_recalls)), 4),
        "popularity_ndcg@20": round(float(np.mean(popular_ndcgs)), 4),
        "http_errors": errors,
        "requests_seconds": round(seconds, 1),
        "latency_ms": {"p50": round(float(np.percentile(latencies_ms, 50)), 1),
                       "p99": round(float(np.percentile(latencies_ms, 99)), 1)},
        "examples": examples,
    }


def served_examples(connection: http.client.HTTPConnection) -> dict:
    """What the API answers for a few well-known books: their 5 most similar books, and 5 books for a few
    shelves with the shelf books that explain each."""
    from bench.speed.http_load import request_json

    def fetch(method: str, path: str, body: dict | None = None) -> dict:
        return request_json(connection, method, path, body)[1]

    titles: dict[int, str] = {}

    def title(db_id: int) -> str:
        if db_id not in titles:
            titles[db_id] = fetch("GET", f"/api/v1/books/{db_id}/")["title"]
        return titles[db_id]

    def book(example: int) -> dict:
        return fetch("GET", f"/api/v1/books/?external_id=goodbooks:{example}")["results"][0]

    similar = {}
    for example in SIMILAR_EXAMPLES:
        found = book(example)
        answer = fetch("GET", f"/api/v1/books/{found['id']}/similar/?k=5")
        similar[found["title"]] = [
            f"{item['book']['title']} ({item['similarity']:.2f})" for item in answer["results"]]
    shelves = []
    for shelf in SHELF_EXAMPLES:
        answer = fetch("POST", "/api/v1/recommendations/", {"external_ids": [f"goodbooks:{g}" for g in shelf], "k": 5})
        shelves.append({"shelf": [book(g)["title"] for g in shelf], "recommended": [
            f"{item['book']['title']} (because: {'; '.join(title(b) for b in item['because'])})"
            for item in answer["results"]]})
    return {"similar_books": similar, "shelves": shelves}


def goodbooks_id(external_id: str) -> int:
    """``goodbooks:<book_id>`` → book_id."""
    return int(external_id.split(":", 1)[1])


if __name__ == "__main__":
    sys.exit(main())
