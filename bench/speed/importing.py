"""Import: books and (book, link) pairs a second through the real import commands, into a scratch database.

``manage.py import_wikipedia_books FILE`` imports the seed-scale file into a fresh ``bookvec_bench``
database (which the later benchmarks then use); with ``--goodbooks DIR``, ``manage.py import_goodbooks
DIR`` imports the goodbooks-10k folder into a second, throw-away database. Rates are given two ways:
over the command's whole wall time (process start, Django set-up and migrations check included) and over
the importer's own read + write time (``ImportReport.seconds``, which the command prints).

Usage: python -m bench.speed.importing --data var/bench/seed.ndjson [--goodbooks ../shared/data/goodbooks]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from bench.support import scratch
from bench.support.common import write_result

GOODBOOKS_DATABASE = "bookvec_bench_goodbooks"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--goodbooks", type=Path, help="a goodbooks-10k folder (books.csv, book_tags.csv, ...)")
    parser.add_argument("--name", default="importing")
    args = parser.parse_args(argv)
    figures = run(args.data, goodbooks=args.goodbooks)
    path = write_result(args.name, figures)
    print(f"importing: {json.dumps(figures['summary'])}\n  -> {path}")


def run(data: Path, *, goodbooks: Path | None = None) -> dict:
    """Imports into fresh scratch databases and returns the figures."""
    env = scratch.fresh_database()
    figures = {"wikipedia_seed": _timed_import(env, "import_wikipedia_books", str(data.resolve()))}
    figures["wikipedia_seed"]["file"] = str(data)
    summary = {"seed_books_per_second": figures["wikipedia_seed"]["books_per_second_wall"],
               "seed_pairs_per_second": figures["wikipedia_seed"]["pairs_per_second_wall"]}
    if goodbooks is not None:
        goodbooks_env = scratch.fresh_database(database=GOODBOOKS_DATABASE)
        try:
            figures["goodbooks"] = _timed_import(goodbooks_env, "import_goodbooks", str(goodbooks.resolve()))
            figures["goodbooks"]["folder"] = str(goodbooks)
        finally:
            scratch.drop_database(GOODBOOKS_DATABASE)
        summary["goodbooks_books_per_second"] = figures["goodbooks"]["books_per_second_wall"]
        summary["goodbooks_pairs_per_second"] = figures["goodbooks"]["pairs_per_second_wall"]
    figures["summary"] = summary
    return figures


def _timed_import(env: dict[str, str], command: str, source: str) -> dict:
    started = time.perf_counter()
    result = scratch.manage(env, command, source, "--verbosity", "1")
    wall = time.perf_counter() - started
    counts = _counts(env)
    figures = {
        "command": f"manage.py {command} {source}",
        "wall_seconds": round(wall, 2),
        "books": counts["books"],
        "links": counts["links"],
        "pairs": counts["pairs"],
        "shelf_entries": counts["shelf_entries"],
        "books_per_second_wall": round(counts["books"] / wall),
        "pairs_per_second_wall": round(counts["pairs"] / wall),
        "rows_per_second_wall": round((counts["pairs"] + counts["shelf_entries"]) / wall),
        "importer_report": result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "",
    }
    reported = re.search(r" in ([\d.]+) s", figures["importer_report"])
    if reported and float(reported.group(1)) > 0:
        importer_seconds = float(reported.group(1))
        figures["importer_seconds"] = importer_seconds
        figures["books_per_second_importer"] = round(counts["books"] / importer_seconds)
        figures["pairs_per_second_importer"] = round(counts["pairs"] / importer_seconds)
    return figures


def _counts(env: dict[str, str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as connection:
        return {
            name: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for name, table in (("books", "books_book"), ("links", "books_link"), ("pairs", "books_booklink"),
                                ("shelf_entries", "books_shelfentry"))
        }


if __name__ == "__main__":
    sys.exit(main())
