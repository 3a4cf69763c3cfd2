"""Readers bringing their library: goodbooks readers' shelves written as Goodreads library export files, matched and
imported by ``books.library`` on the real goodbooks-10k catalogue (books.csv, tags, book tags imported into a scratch
database).

Figures: (1) every goodbooks book as a Goodreads export row with its real Goodreads id: rows matched, and to the
right book; (2) the same rows with ids and ISBNs blanked (title + author alone): precision and recall; (3) the
first ``--readers`` goodbooks readers' want-to-read (to_read.csv) and read (ratings.csv, with the rating) shelves as
Goodreads export files, each imported by the service (``library_import_start`` + ``library_import_run``, in this
process, no worker or HTTP): rows matched and rows a second.

Not measured here (issue 19 asks for them; not done yet): imports through the API with a real worker, and the served
"For you" Recall@20/NDCG@20 of the imported readers.

Usage: python -m bench.quality.library_import --data ../shared/data/goodbooks [--readers 200]
Writes bench/results/library_import.json.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.support import scratch
from bench.support.common import write_result

DATABASE = "bookvec_bench_library"


def goodreads_csv(rows: list[dict]) -> str:
    """Goodreads' library export layout for ``rows`` (``title``, ``author``, ``goodreads_id``, ``isbn``, ``shelf``,
    ``rating``)."""
    from books.library.selectors import library_export_goodreads_csv

    return library_export_goodreads_csv([{
        "bookvec_id": "", "title": row["title"], "author": row["author"], "goodreads_id": row["goodreads_id"],
        "isbn10": row["isbn"], "isbn13": "", "shelf": row["shelf"], "shelves": [], "rating": row.get("rating"),
        "date_added": None} for row in rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--readers", type=int, default=200)
    args = parser.parse_args(argv)

    env = scratch.fresh_database(database=DATABASE)
    with tempfile.TemporaryDirectory() as folder:
        for name in ("books.csv", "tags.csv", "book_tags.csv"):
            shutil.copy(args.data / name, folder)
        started = time.perf_counter()
        scratch.manage(env, "import_goodbooks", folder, "--skip-invalid", "--verbosity", "0")
        import_s = time.perf_counter() - started
    os.environ.update(env)
    scratch.django_setup()
    from django.contrib.auth import get_user_model

    from books.library.formats import library_parse_text
    from books.library.matching import library_rows_match
    from books.library.services import library_import_run, library_import_start
    from books.models import Book

    book_of = dict(Book.objects.filter(source="goodbooks").values_list("external_id", "pk"))
    with open(args.data / "books.csv", newline="", encoding="utf-8") as file:
        books = {int(row["book_id"]): row for row in csv.DictReader(file)}

    def row_of(book_id: int, *, ids: bool, shelf: str = "read", rating=None) -> dict:
        book = books[book_id]
        return {"title": book["title"], "author": book["authors"].split(",")[0], "shelf": shelf, "rating": rating,
                "goodreads_id": book["goodreads_book_id"] if ids else "", "isbn": book["isbn"] if ids else ""}

    figures = {"catalogue_books": len(book_of), "goodbooks_import_s": round(import_s, 1)}
    order = sorted(books)
    for label, ids in (("by_ids", True), ("title_author_only", False)):
        parsed = library_parse_text(goodreads_csv([row_of(book_id, ids=ids) for book_id in order])).rows
        started = time.perf_counter()
        matches = library_rows_match(parsed)
        elapsed = time.perf_counter() - started
        matched = [(book_id, match.book_id) for book_id, match in zip(order, matches, strict=True) if match.book_id]
        right = sum(1 for book_id, found in matched if book_of.get(f"goodbooks:{book_id}") == found)
        figures[label] = {"rows": len(order), "matched": len(matched), "right": right,
                          "precision": round(right / max(len(matched), 1), 4), "recall": round(right / len(order), 4),
                          "rows_per_s": round(len(order) / elapsed, 1)}

    shelves: dict[int, list[dict]] = defaultdict(list)
    with open(args.data / "to_read.csv", newline="") as file:
        for row in csv.DictReader(file):
            if int(row["user_id"]) <= args.readers:
                shelves[int(row["user_id"])].append(row_of(int(row["book_id"]), ids=True, shelf="want-to-read"))
    with open(args.data / "ratings.csv", newline="") as file:
        for row in csv.DictReader(file):
            if int(row["user_id"]) <= args.readers:
                shelves[int(row["user_id"])].append(row_of(int(row["book_id"]), ids=True,
                                                           rating=int(row["rating"])))
    rows = matched = 0
    started = time.perf_counter()
    for user_id, reader_rows in sorted(shelves.items()):
        user = get_user_model().objects.create_user(username=f"library-bench-{user_id}")
        done = library_import_run(library_import_start(user=user, file_name="goodreads_library_export.csv",
                                                       data=goodreads_csv(reader_rows).encode()).pk)
        assert done.status == "succeeded", done.error
        rows, matched = rows + done.rows, matched + done.matched
    elapsed = time.perf_counter() - started
    figures["reader_imports"] = {"readers": len(shelves), "rows": rows, "matched": matched,
                                 "matched_share": round(matched / max(rows, 1), 4),
                                 "rows_per_s": round(rows / elapsed, 1), "seconds": round(elapsed, 1)}
    print(figures)
    write_result("library_import", figures)


if __name__ == "__main__":
    main()
