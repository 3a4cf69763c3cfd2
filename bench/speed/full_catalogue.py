"""A training run on the whole real catalogue: goodbooks-10k and the 1,413 Wikipedia books, all readers.

Imports both into a fresh scratch database with the product's commands (``import_goodbooks DIR``,
``import_wikipedia_books FILE``), then runs ``bench.speed.product_training`` on it: a run requested as the admin's
button does, executed by a real Celery worker with the default parameters (book–link embeddings, shelf
model, evaluation, map, publishing). Writes bench/results/full_catalogue.json: import times, the run's
time from request to a live version, its stages, the worker's peak memory and the metrics stored with the
run; and the 5 most similar books of a few well-known books of each data set, as the selector serves them.

Usage: python -m bench.speed.full_catalogue --goodbooks ../shared/data/goodbooks
                                      --wikipedia ../shared/data/wikipedia/p15_books.ndjson
(about 5 minutes on 2 cores; not part of ``make bench``, which runs on generated data)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.support.common import PROJECT_DIR, PYTHON, RESULTS_DIR, write_result

DATABASE = "bookvec_full"
EXAMPLES = {
    "goodbooks:1": "The Hunger Games", "goodbooks:2": "Harry Potter and the Sorcerer's Stone",
    "goodbooks:13": "1984", "goodbooks:16": "The Girl with the Dragon Tattoo",
    "wikipedia:The Son of Tarzan": "The Son of Tarzan", "wikipedia:Dragonsdawn": "Dragonsdawn",
    "wikipedia:King Conan": "King Conan",
}
"""External ids of the books whose 5 most similar books are listed (goodbooks book_id / Wikipedia title)."""


def main(argv: list[str] | None = None) -> None:
    shared = PROJECT_DIR.parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--goodbooks", type=Path, default=shared / "goodbooks")
    parser.add_argument("--wikipedia", type=Path, default=shared / "wikipedia" / "p15_books.ndjson")
    parser.add_argument("--params", default="{}", help="training parameters as JSON (smoke tests shrink them)")
    args = parser.parse_args(argv)
    from bench.support.scratch import drop_database, fresh_database, manage

    env = fresh_database(database=DATABASE)
    imports = {}
    try:
        for name, command in (("goodbooks", ["import_goodbooks", str(args.goodbooks)]),
                              ("wikipedia", ["import_wikipedia_books", str(args.wikipedia)])):
            started = time.perf_counter()
            manage(env, *command)
            imports[name] = round(time.perf_counter() - started, 1)
            print(f"imported {name} in {imports[name]} s", flush=True)
        subprocess.run([PYTHON, "-m", "bench.speed.product_training", "--name", "full_catalogue", "--params", args.params],
                       env=env, check=True, cwd=PROJECT_DIR)
        shell = manage(env, "shell", "-c", _EXAMPLES_SCRIPT % json.dumps(EXAMPLES))
        examples = json.loads(shell.stdout.strip().splitlines()[-1])
    finally:
        drop_database(DATABASE)
    figures = json.loads((RESULTS_DIR / "full_catalogue.json").read_text())
    for key in ("benchmark", "command", "machine"):
        figures.pop(key)
    figures.update(import_seconds=imports, similar_books=examples)
    figures["summary"]["import_seconds"] = imports
    path = write_result("full_catalogue", figures)
    print(f"full catalogue: {json.dumps(figures['summary'])}\n  -> {path}")


_EXAMPLES_SCRIPT = """
import json
from books.models import Book
from books.selectors import book_ids_identified_by
from recommender.selectors import similar_books
wanted = json.loads(%r)
found = book_ids_identified_by(wanted)
examples = {}
for external_id, label in wanted.items():
    book = Book.objects.filter(pk=found.get(external_id)).first()
    if book is not None:
        examples[label] = [f"{s.book.title} ({s.similarity:.2f})" for s in similar_books(book=book, k=5)]
print(json.dumps(examples))
"""


if __name__ == "__main__":
    sys.exit(main())
