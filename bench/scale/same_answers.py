"""The recommendations API's answers from two versions of the code, compared byte for byte, on the catalogue a scale
run left behind.

Sends the same seeded requests to ``POST /api/v1/recommendations/`` (5 distinct random books of the active version,
k 20; of every four, one as it is, one with ``collapse``, one with two books rated, one with k 50) through
``django.test.Client``, once with the working tree's code and once with ``--code REF``'s (``git archive``, as
``bench.scale.serving`` serves it), each in its own process, and reports whether every answer (status and body) is
the same. Nothing is written to the database.

Usage: python -m bench.scale.same_answers --code REF [--database bookvec_scale_fallback] [--requests 400]
Results: ``same_answers`` of ``bench/results/scale_serving.json``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", help="the other version: a commit (e.g. main)")
    parser.add_argument("--database", default="bookvec_scale_fallback")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--write", help=argparse.SUPPRESS)  # a child: write this code's answers to this file
    args = parser.parse_args(argv)
    if args.write:
        _write_answers(Path(args.write), args.database, args.requests)
        return
    if not args.code:
        parser.error("--code is required")
    compare(args.code, args.database, args.requests)


def compare(code: str, database: str, requests: int) -> None:
    from bench.scale.serving import RESULT
    from bench.support.common import PROJECT_DIR, WORK_DIR, commit_tree, machine, short_commit, write_result

    commit = short_commit(code)
    answers = {}
    for name, folder in ((commit, commit_tree(commit)), ("working tree", PROJECT_DIR)):
        path = WORK_DIR / f"same_answers_{'tree' if folder == PROJECT_DIR else commit}.jsonl"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--write", str(path), "--database", database,
                        "--requests", str(requests)], cwd=folder, env={**os.environ, "PYTHONPATH": str(folder)},
                       check=True)
        answers[name] = path.read_text().splitlines()
    before, after = answers[commit], answers["working tree"]
    figures = {"before": commit, "after": short_commit("HEAD") + "+working tree", "requests": requests,
               "answers_identical": sum(a == b for a, b in zip(before, after)) if len(before) == len(after) else 0,
               "answered_200": sum(line.startswith("200 ") for line in after),
               "sha256": {name: hashlib.sha256("\n".join(lines).encode()).hexdigest() for name, lines in answers.items()},
               "measured": machine(),
               "command": f"python -m bench.scale.same_answers --code {code} --database {database} --requests {requests}"}
    print(json.dumps(figures, indent=1))
    earlier = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    kept = {key: value for key, value in earlier.items() if key not in ("benchmark", "command", "machine")}
    print(f"  -> {write_result('scale_serving', {**kept, 'same_answers': figures})}")


def _write_answers(path: Path, database: str, requests: int) -> None:
    """This process's code's answers, one line each: the status, a space, the body."""
    from bench.support.scratch import django_setup, existing_environment

    env = existing_environment(database=database)
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                                                 "SECRET_KEY", "DEBUG", "API_ANON_RATE", "API_USER_RATE")})
    os.environ["ALLOWED_HOSTS"] = "*"
    django_setup()
    import numpy as np
    from django.test import Client

    from recommender.models import BookVector
    from recommender.selectors.versions import active_version

    book_ids = np.array(sorted(BookVector.objects.filter(version=active_version()).values_list("book_id", flat=True)))
    rng, client, lines = np.random.default_rng(0), Client(), []
    for number in range(requests):
        books = [int(book_id) for book_id in rng.choice(book_ids, 5, replace=False)]
        body = [{}, {"collapse": True}, {"ratings": {str(books[0]): 2, str(books[1]): 5}}, {"k": 50}][number % 4]
        response = client.post("/api/v1/recommendations/", {"books": books, "k": 20, **body},
                               content_type="application/json")
        lines.append(f"{response.status_code} {response.content.decode()}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
