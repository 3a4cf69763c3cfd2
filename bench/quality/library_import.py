"""Readers bringing their library, on the real goodbooks-10k data: goodbooks readers' shelves written as Goodreads
library export files (Goodreads' columns in its order, less ``Author l-f``: ``GOODREADS_COLUMNS``; titles, Goodreads
ids and ISBNs from books.csv), matched and imported
by ``books.library``, and what "For you" then recommends them.

1. The held-out readers are carved out BEFORE training exactly as ``bench/quality/served.py`` does (same seed, same
   validation and tuning readers, none of their rows imported); a fresh scratch database imports the rest with
   ``import_goodbooks`` and trains with ``train_embeddings --sync`` (``--params`` as JSON, the defaults unless given).
2. Through the API, served by gunicorn with a real Celery worker (default queue, solo pool, as ``make run`` has
   it): the first ``--readers`` validation readers each get an account and a token; the visible 80 % of their whole
   shelf (want-to-read from to_read.csv, and read with its rating from ratings.csv, split 80 / 20 as the runs' stored
   shelf metrics split it: ``bench.quality.goodbooks.whole_shelves``) is written as their Goodreads export and
   POSTed, multipart, to ``/api/v1/me/library-imports/`` with their token; rows matched and rows a second from the
   first upload until the last import has succeeded.
3. Each reader's "For you" (``GET /api/v1/me/recommendations/?k=20``, what the page shows) scored against their
   hidden 20 % (Recall@20, NDCG@20 as ``bench/quality/served.py`` scores them), and compared with
   ``POST /api/v1/recommendations/`` for the same books (the reader's shelved books by id, every shelf): the same books in the
   same order, or not. They differ where a reader rated a book other than 4 stars: "For you" weighs a shelved book
   by its rating (``recommender.selectors.recommendations.RATING_WEIGHTS``), the anonymous POST has no ratings;
   each reader's For-you is also recomputed in this process with the ratings' weights dropped
   (``book_recommendations`` with the shelved books excluded), which must give the POST's answer. (The API's
   answers are read before anything else is written: steps 4 and 5 change no served reader.)
4. Matching, in this process: every goodbooks book as a Goodreads export row with its real Goodreads id (rows matched,
   and to the right book), then the same rows with ids and ISBNs blanked (title + author alone: precision, recall).
5. The first ``--in-process-readers`` goodbooks readers' files imported by the service in this process (no HTTP, no
   worker), for the overhead of the API and the worker.

Usage: python -m bench.quality.library_import --data ../shared/data/goodbooks [--readers 2000]
Writes bench/results/library_import.json.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.support import scratch
from bench.support.common import PROJECT_DIR, WORK_DIR, write_result

DATABASE = "bookvec_bench_library"
K = 20
CLIENTS = 4
"""Readers' clients talking to the server at once."""
SERVER_WORKERS = 3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT_DIR.parent / "shared" / "data" / "goodbooks")
    parser.add_argument("--readers", type=int, default=2000, help="validation readers imported through the API")
    parser.add_argument("--in-process-readers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--validation-users", type=int, default=6800)
    parser.add_argument("--tuning-users", type=int, default=2000)
    parser.add_argument("--params", default="{}", help="training parameters as JSON")
    args = parser.parse_args(argv)

    from bench.quality.goodbooks import load_goodbooks
    from bench.quality.served import write_training_folder
    from recommender.training import TrainingParams

    data = load_goodbooks(args.data, TrainingParams(seed=args.seed), n_validation=args.validation_users,
                          n_tuning=args.tuning_users, seed=args.seed)
    held_out = {case.user_id for case in data["validation"] + data["tuning"]}
    folder = WORK_DIR / "goodbooks-without-held-out-readers"
    removed = write_training_folder(args.data, folder, held_out)
    log(f"{folder}: {removed} rows of {len(held_out)} held-out readers left out")

    env = scratch.fresh_database(database=DATABASE)
    figures: dict = {"held_out_readers": len(held_out), "rows_left_out": removed, "params": json.loads(args.params)}
    started = time.perf_counter()
    scratch.manage(env, "import_goodbooks", str(folder), "--skip-invalid", "--verbosity", "0")
    figures["goodbooks_import_s"] = round(time.perf_counter() - started, 1)
    log(f"goodbooks imported in {figures['goodbooks_import_s']} s")
    started = time.perf_counter()
    scratch.manage(env, "train_embeddings", "--sync",
                   *[f"--param={key}={json.dumps(value)}" for key, value in figures["params"].items()])
    figures["training_run_s"] = round(time.perf_counter() - started, 1)
    log(f"trained in {figures['training_run_s']} s")

    os.environ.update(env)
    scratch.django_setup()
    books = _books_csv(args.data)
    figures["api_imports"] = _api_imports(args, data, books, log)
    figures.update(_matching(books))
    log(f"matching: {figures['by_ids']} / {figures['title_author_only']}")
    figures["in_process_imports"] = _in_process_imports(args, books)
    figures["summary"] = {
        "readers": figures["api_imports"]["readers"], "matched_share": figures["api_imports"]["matched_share"],
        "rows_per_s_end_to_end": figures["api_imports"]["rows_per_s_end_to_end"],
        "for_you_recall@20": figures["api_imports"]["for_you"]["recall@20"],
        "for_you_ndcg@20": figures["api_imports"]["for_you"]["ndcg@20"],
        "same_as_post": figures["api_imports"]["same_as_post"]["identical"]}
    scratch.drop_database(DATABASE)
    path = write_result("library_import", figures)
    log(f"{json.dumps(figures['summary'])} -> {path}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _books_csv(data: Path) -> dict[int, dict]:
    with open(data / "books.csv", newline="", encoding="utf-8") as file:
        return {int(row["book_id"]): row for row in csv.DictReader(file)}


def goodreads_export(rows: list[dict]) -> bytes:
    """A Goodreads library export (Goodreads' columns in its order, its ``="…"`` ISBNs) of ``rows``: goodbooks
    ``book`` (a books.csv row), ``shelf`` (to-read or read), ``rating`` (0 for none), ``ids`` (False blanks the
    Goodreads id and ISBNs). goodbooks has no dates: Date Read and Date Added stay blank."""
    from stdnum import isbn as isbns

    from books.library.formats import GOODREADS_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, GOODREADS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for position, row in enumerate(rows, 1):
        book = row["book"]
        authors = [name.strip() for name in book["authors"].split(",")]
        isbn10 = book["isbn"].strip().zfill(10) if book["isbn"].strip() else ""
        isbn13 = isbns.to_isbn13(isbn10) if isbn10 and isbns.is_valid(isbn10) else ""
        year = book["original_publication_year"].split(".")[0]
        writer.writerow({
            "Book Id": book["goodreads_book_id"] if row.get("ids", True) else "", "Title": book["title"],
            "Author": authors[0], "Additional Authors": ", ".join(authors[1:]),
            "ISBN": f'="{isbn10 if row.get("ids", True) else ""}"',
            "ISBN13": f'="{isbn13 if row.get("ids", True) else ""}"',
            "My Rating": row.get("rating", 0), "Average Rating": book["average_rating"], "Year Published": year,
            "Original Publication Year": year,
            "Bookshelves": "to-read" if row["shelf"] == "to-read" else "",
            "Bookshelves with positions": f"to-read (#{position})" if row["shelf"] == "to-read" else "",
            "Exclusive Shelf": row["shelf"], "Read Count": 1 if row["shelf"] == "read" else 0, "Owned Copies": 0})
    return out.getvalue().encode()


def _matching(books: dict[int, dict]) -> dict:
    from books.library.formats import library_parse
    from books.library.matching import library_rows_match
    from books.models import Book

    book_of = dict(Book.objects.filter(source="goodbooks").values_list("external_id", "pk"))
    order = sorted(books)
    figures = {"catalogue_books": len(book_of)}
    for label, ids in (("by_ids", True), ("title_author_only", False)):
        parsed = library_parse(goodreads_export([{"book": books[book_id], "shelf": "read", "ids": ids}
                                                 for book_id in order])).rows
        started = time.perf_counter()
        matches = library_rows_match(parsed)
        elapsed = time.perf_counter() - started
        matched = [(book_id, match.book_id) for book_id, match in zip(order, matches, strict=True) if match.book_id]
        right = sum(1 for book_id, found in matched if book_of.get(f"goodbooks:{book_id}") == found)
        figures[label] = {"rows": len(order), "matched": len(matched), "right": right,
                          "precision": round(right / max(len(matched), 1), 4), "recall": round(right / len(order), 4),
                          "rows_per_s": round(len(order) / elapsed, 1)}
    return figures


def _ratings(data: Path, users: set[int]) -> dict[tuple[int, int], int]:
    """{(user_id, goodbooks book_id): rating} of ``users``."""
    with open(data / "ratings.csv", newline="") as file:
        return {(int(row["user_id"]), int(row["book_id"])): int(row["rating"]) for row in csv.DictReader(file)
                if int(row["user_id"]) in users}


def _multipart(name: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _request(connection, method: str, path: str, token: str, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, dict | list]:
    connection.request(method, path, body=body, headers={"Authorization": f"Token {token}",
                                                          "Content-Type": content_type})
    response = connection.getresponse()
    payload = response.read()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(payload) if is_json else {"body": payload[:200]}


def _api_imports(args, data: dict, books: dict[int, dict], log) -> dict:
    """Imports the first ``args.readers`` validation readers' visible shelves through the API with a real worker,
    then scores and compares their For-you (see the module's docstring)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from bench.speed.http_load import app_served
    from bench.speed.product_training import start_worker, stop_worker
    from books.models import LibraryImport, LibraryImportRow, ShelfEntry
    from books.services import reader_token_create
    from recommender.selectors.recommendations import RATING_WEIGHTS, book_recommendations

    cases = data["whole_shelves"][:args.readers]
    rated = _ratings(args.data, {case.user_id for case in cases})
    readers = []
    for case in cases:
        rows = [{"book": books[b + 1], "shelf": "read" if (case.user_id, b + 1) in rated else "to-read",
                 "rating": rated.get((case.user_id, b + 1), 0)} for b in case.visible.tolist()]
        user = get_user_model().objects.create_user(username=f"goodreads-reader-{case.user_id}")
        with transaction.atomic():
            token = reader_token_create(user=user).key
        readers.append({"case": case, "user": user, "token": token, "file": goodreads_export(rows),
                        "weighted": any(row["rating"] not in (0, 4) for row in rows)})
    log(f"{len(readers)} readers' Goodreads exports written, {sum(len(r['case'].visible) for r in readers)} rows")

    worker = start_worker("library-import", queues="default")
    try:
        with app_served(dict(os.environ), workers=SERVER_WORKERS) as connection:
            started = time.perf_counter()
            uploads = _in_parallel(connection, _upload, readers)
            uploaded_s = time.perf_counter() - started
            refused = [{"reader": reader["case"].user_id, "status": status, "answer": answer}
                       for reader, (_, status, answer) in zip(readers, uploads, strict=True) if status != 202]
            log(f"uploaded in {uploaded_s:.1f} s ({len(refused)} refused); waiting for the worker")
            users = [reader["user"].pk for reader in readers]
            while LibraryImport.objects.filter(user_id__in=users, status__in=LibraryImport.OPEN_STATUSES).exists():
                time.sleep(0.5)
            end_to_end_s = time.perf_counter() - started
            log(f"all imports ended after {end_to_end_s:.1f} s")
            shelved = defaultdict(list)
            for user_id, book_id in ShelfEntry.objects.filter(shelf__user_id__in=users).order_by(
                    "-added_at", "-id").values_list("shelf__user_id", "book_id"):
                shelved[user_id].append(book_id)
            for reader in readers:
                reader["shelved"] = list(dict.fromkeys(shelved[reader["user"].pk]))
            started = time.perf_counter()
            answers = _in_parallel(connection, _answers, readers)
            figures = _score_for_you(readers, answers, data)
            figures["requests_s"] = round(time.perf_counter() - started, 1)
            log(f"For-you and POST read in {figures['requests_s']} s: {figures['for_you']}")
    finally:
        stop_worker(worker)

    imports = LibraryImport.objects.filter(user_id__in=users)
    statuses = defaultdict(int)
    for status in imports.values_list("status", flat=True):
        statuses[status] += 1
    counts = {name: sum(imports.values_list(name, flat=True)) for name in ("rows", "matched", "unmatched", "skipped")}
    reasons = defaultdict(int)
    for reason in LibraryImportRow.objects.filter(library_import__in=imports).values_list("reason", flat=True):
        reasons[reason] += 1
    # The POST's answer again, in this process: For-you's books with the ratings' weights dropped.
    same_unweighted = sum(
        [item.book.pk for item in book_recommendations(book_ids=reader["shelved"], k=K, exclude_ids=reader["shelved"])]
        == reader["post_ids"] for reader in readers)
    figures.update({
        "readers": len(readers), "statuses": dict(statuses), "refused_uploads": refused[:10], **counts,
        "unmatched_reasons": dict(reasons), "matched_share": round(counts["matched"] / max(counts["rows"], 1), 4),
        "uploads_s": round(uploaded_s, 1),
        "upload_latency_ms_p50": round(float(np.percentile([latency for latency, _, _ in uploads], 50)) * 1000, 1),
        "end_to_end_s": round(end_to_end_s, 1), "rows_per_s_end_to_end": round(counts["rows"] / end_to_end_s, 1),
        "served_by": f"one celery worker (default queue, --pool=solo), gunicorn with {SERVER_WORKERS} sync workers, "
                     f"{CLIENTS} clients uploading at once",
        "rating_weights": {str(key): value for key, value in RATING_WEIGHTS.items()},
    })
    figures["same_as_post"]["post_equals_for_you_without_rating_weights"] = same_unweighted
    return figures


def _in_parallel(connection, function, readers: list[dict]) -> list:
    """``function(connection, reader)`` for every reader, ``CLIENTS`` at a time (each client its own connection to
    the server ``connection`` reaches), in the readers' order."""
    local = threading.local()

    def call(reader):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(connection.host, connection.port, timeout=120)
        return function(local.connection, reader)

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(call, readers))


def _upload(connection, reader: dict) -> tuple[float, int, dict]:
    """POSTs the reader's export with their token: (seconds, status, answer); keeps the import's URL."""
    body, content_type = _multipart("file", "goodreads_library_export.csv", reader["file"])
    began = time.perf_counter()
    status, answer = _request(connection, "POST", "/api/v1/me/library-imports/", reader["token"], body, content_type)
    reader["import_url"] = answer.get("url") if status == 202 else None
    return time.perf_counter() - began, status, answer


def _answers(connection, reader: dict) -> dict:
    """What the API answers the reader: their For-you, and the POST for the books on their shelves."""
    answers = {}
    answers["for_you_status"], answers["for_you"] = _request(connection, "GET", f"/api/v1/me/recommendations/?k={K}",
                                                             reader["token"])
    answers["post_status"], answers["post"] = _request(connection, "POST", "/api/v1/recommendations/",
                                                       reader["token"],
                                                       json.dumps({"books": reader["shelved"], "k": K}).encode())
    return answers


def _score_for_you(readers: list[dict], answers: list[dict], data: dict) -> dict:
    """Each reader's For-you and the POST for the same books, scored against their hidden books and compared."""
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    ranking = np.argsort(-data["popularity"], kind="stable")
    scores: dict[str, list[float]] = defaultdict(list)
    same = defaultdict(int)
    errors = 0
    for reader, answer in zip(readers, answers, strict=True):
        case = reader["case"]
        errors += (answer["for_you_status"] != 200) + (answer["post_status"] != 200)
        for_you, post = answer["for_you"], answer["post"]
        for_you_ids = [item["book"]["id"] for item in for_you.get("results", [])]
        reader["post_ids"] = [item["book"]["id"] for item in post.get("results", [])]
        hidden = set((case.hidden + 1).tolist())
        ideal = min(len(hidden), K)
        for label, items in (("for_you", for_you.get("results", [])), ("post", post.get("results", []))):
            hits = np.array([int(item["book"]["external_id"].split(":", 1)[1]) in hidden for item in items[:K]],
                            dtype=float)
            scores[f"{label}_recall"].append(hits.sum() / ideal)
            scores[f"{label}_ndcg"].append((discounts[:len(hits)] * hits).sum() / discounts[:ideal].sum())
        popular = ranking[~np.isin(ranking, case.visible)][:K] + 1
        popular_hits = np.array([g in hidden for g in popular], dtype=float)
        scores["popularity_recall"].append(popular_hits.sum() / ideal)
        scores["popularity_ndcg"].append((discounts * popular_hits).sum() / discounts[:ideal].sum())
        kind = "weighted" if reader["weighted"] else "unweighted"
        same[f"{kind}_readers"] += 1
        same[f"{kind}_identical"] += for_you_ids == reader["post_ids"]
        same[f"{kind}_same_set"] += set(for_you_ids) == set(reader["post_ids"])
        same["identical"] += for_you_ids == reader["post_ids"]
    return {
        "protocol": "validation readers carved from to_read.csv before training (bench/quality/served.py's seed and "
                    "split); each reader's whole shelf (want-to-read and rated books) shuffled, 80 % written as "
                    "their Goodreads export and imported, 20 hidden; For-you's 20 books scored",
        "for_you": {"recall@20": round(float(np.mean(scores["for_you_recall"])), 4),
                    "ndcg@20": round(float(np.mean(scores["for_you_ndcg"])), 4)},
        "post_same_books": {"recall@20": round(float(np.mean(scores["post_recall"])), 4),
                            "ndcg@20": round(float(np.mean(scores["post_ndcg"])), 4)},
        "popularity": {"recall@20": round(float(np.mean(scores["popularity_recall"])), 4),
                       "ndcg@20": round(float(np.mean(scores["popularity_ndcg"])), 4)},
        "same_as_post": dict(same), "http_errors": errors,
    }


def _in_process_imports(args, books: dict[int, dict]) -> dict:
    """The first ``args.in_process_readers`` goodbooks readers' want-to-read and read shelves, each imported by the
    service in this process."""
    from django.contrib.auth import get_user_model

    from books.library.services import library_import_run, library_import_start

    shelves: dict[int, list[dict]] = defaultdict(list)
    with open(args.data / "to_read.csv", newline="") as file:
        for row in csv.DictReader(file):
            if int(row["user_id"]) <= args.in_process_readers:
                shelves[int(row["user_id"])].append({"book": books[int(row["book_id"])], "shelf": "to-read"})
    with open(args.data / "ratings.csv", newline="") as file:
        for row in csv.DictReader(file):
            if int(row["user_id"]) <= args.in_process_readers:
                shelves[int(row["user_id"])].append({"book": books[int(row["book_id"])], "shelf": "read",
                                                     "rating": int(row["rating"])})
    rows = matched = 0
    started = time.perf_counter()
    for user_id, reader_rows in sorted(shelves.items()):
        user = get_user_model().objects.create_user(username=f"library-bench-{user_id}")
        done = library_import_run(library_import_start(user=user, file_name="goodreads_library_export.csv",
                                                       data=goodreads_export(reader_rows)).pk)
        assert done.status == "succeeded", done.error
        rows, matched = rows + done.rows, matched + done.matched
    elapsed = time.perf_counter() - started
    return {"readers": len(shelves), "rows": rows, "matched": matched, "matched_share": round(matched / max(rows, 1), 4),
            "rows_per_s": round(rows / elapsed, 1), "seconds": round(elapsed, 1)}


if __name__ == "__main__":
    main()
