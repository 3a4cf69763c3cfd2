"""The similar-books bar measured the way readers get it: through ``GET /api/v1/books/{id}/similar/``.

``bench/quality/wikipedia.py`` measures the trainer's vectors in NumPy. This benchmark measures the product:

1. a fresh scratch database imports the Wikipedia books with ``import_wikipedia_books`` and trains with
   ``train_embeddings --sync`` and the default parameters;
2. gunicorn serves the app, and each imported book's 5 most similar books are asked of the API, as an outside
   client would (the answer comes from the active version's HNSW index in PostgreSQL);
3. same-author precision@5 counts, for books whose author (the infobox "author", cleaned as
   ``bench/quality/wikipedia.py`` cleans it) wrote at least 2 of the imported books, how many of the 5 share
   the author.

Usage: python -m bench.quality.wikipedia_served --data ../shared/data/wikipedia/p15_books.ndjson
(about a minute on 2 cores). Writes bench/results/quality_wikipedia_served.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import numpy as np

from bench.support.common import PROJECT_DIR, write_result

DATABASE = "bookvec_wikipedia_served"
K = 5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path,
                        default=PROJECT_DIR.parent / "shared" / "data" / "wikipedia" / "p15_books.ndjson")
    parser.add_argument("--params", default="{}", help="training parameters as JSON")
    args = parser.parse_args(argv)

    from bench.quality.wikipedia import load_books
    from bench.support.scratch import drop_database, fresh_database, manage

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    author_of = {book["title"]: book["author"] for book in load_books(args.data)}
    env = fresh_database(database=DATABASE)
    timings = {}
    try:
        started = time.perf_counter()
        manage(env, "import_wikipedia_books", str(args.data))
        timings["import_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        params = [f"--param={key}={json.dumps(value)}" for key, value in json.loads(args.params).items()]
        manage(env, "train_embeddings", "--sync", *params)
        timings["training_run_seconds"] = round(time.perf_counter() - started, 1)
        log(f"imported in {timings['import_seconds']} s, trained in {timings['training_run_seconds']} s")
        figures = measure_served(env, author_of)
    finally:
        drop_database(DATABASE)
    figures.update(timings)
    figures["summary"] = {key: figures[key] for key in ("served_same_author_precision@5", "books_scored")}
    path = write_result("quality_wikipedia_served", figures)
    log(f"{json.dumps(figures['summary'])} -> {path}")


def measure_served(env: dict[str, str], author_of: dict[str, str]) -> dict:
    """Asks the served app for every book's 5 most similar books; returns the figures."""
    from bench.speed.http_load import app_served, request_json

    with app_served(env) as connection:
        books, page = [], "/api/v1/books/?source=wikipedia&page_size=100"
        while page:
            status, answer = request_json(connection, "GET", page)
            assert status == 200, f"GET {page}: {status}"
            books += answer["results"]
            page = answer["next"] and urllib.parse.urlsplit(answer["next"])._replace(scheme="", netloc="").geturl()
        author = {book["id"]: author_of.get(book["external_id"].split(":", 1)[1], "") for book in books}
        written = Counter(a for a in author.values() if a)
        precisions, latencies, errors, unanswered = [], [], 0, 0
        for book in books:
            began = time.perf_counter()
            status, answer = request_json(connection, "GET", f"/api/v1/books/{book['id']}/similar/?k={K}")
            latencies.append(time.perf_counter() - began)
            if status != 200:
                errors += 1
                continue
            if not answer["results"]:
                unanswered += 1  # a book without links has no vector
                continue
            if written[author[book["id"]]] >= 2:
                similar = [item["book"]["id"] for item in answer["results"]]
                precisions.append(sum(author[other] == author[book["id"]] for other in similar) / K)
    latencies_ms = np.array(latencies) * 1000
    return {
        "protocol": "every imported Wikipedia book's 5 most similar books from GET /api/v1/books/{id}/similar/; "
                    "precision over books whose infobox author wrote 2+ of the imported books",
        "books": len(books),
        "books_scored": len(precisions),
        "served_same_author_precision@5": round(float(np.mean(precisions)), 4),
        "books_without_vector": unanswered,
        "http_errors": errors,
        "latency_ms": {"p50": round(float(np.percentile(latencies_ms, 50)), 1),
                       "p99": round(float(np.percentile(latencies_ms, 99)), 1)},
    }


if __name__ == "__main__":
    sys.exit(main())
