"""Neighbour lists against the per-request search, in one process, on the catalogue a scale run left behind.

The books the active version's shelf model leaves out are answered by neighbour voting, which reads their nearest
books from the version's lists (``recommender.services.neighbour_lists``) or, without a list, searches the HNSW
index. This serves the same random requests as ``wrk`` does (``POST /api/v1/recommendations/``, 5 distinct random
books of the version, k 20) through ``django.test.Client`` both ways — the lists as stored, and the requested books'
lists hidden (deleted in a transaction that is rolled back) — and reports whether every answer is the same and the
CPU a request takes (this process's and its PostgreSQL backend's), split by whether the shelf model knows every
input book. The two ways alternate in blocks (``--rounds``), so that a warm cache favours neither.

Usage: python -m bench.scale.vote_lists [--database bookvec_scale_fallback] [--requests 200] [--rounds 2]
Results: ``in_process_lists`` of ``bench/results/scale_serving.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from bench.support.common import machine
from bench.support.scratch import django_setup, existing_environment


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="bookvec_scale_fallback")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    env = existing_environment(database=args.database)
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                                                 "SECRET_KEY", "DEBUG", "API_ANON_RATE", "API_USER_RATE")
                       if key in env})
    os.environ["ALLOWED_HOSTS"] = "*"
    django_setup()
    figures = measure(args.requests, args.rounds)
    figures["measured"] = machine()
    figures["command"] = f"python -m bench.scale.vote_lists --database {args.database} --requests {args.requests}" \
                         f" --rounds {args.rounds}"
    print(json.dumps(figures, indent=1))
    _record(figures)


def measure(requests: int, rounds: int) -> dict:
    from django.db import connection, transaction
    from django.test import Client

    from recommender.models import BookVector, NeighbourList
    from recommender.selectors.versions import active_version

    version = active_version()
    book_ids = np.array(sorted(BookVector.objects.filter(version=version).values_list("book_id", flat=True)))
    listed = set(NeighbourList.objects.filter(version=version).values_list("book_id", flat=True))
    rng = np.random.default_rng(0)
    cases = [[int(b) for b in rng.choice(book_ids, 5, replace=False)] for _ in range(requests)]
    some_unlisted = [case for case in cases if listed & set(case)]
    groups = {"some_unknown": some_unlisted, "all_known": [case for case in cases if not listed & set(case)]}
    client = Client()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def post(case: list[int]) -> dict:
        response = client.post("/api/v1/recommendations/", {"books": case, "k": 20}, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        return response.json()

    def timed(cases: list[list[int]]) -> tuple[list[dict], float, float, float]:
        python, database, started = time.process_time(), _cpu_seconds(backend), time.perf_counter()
        answers = [post(case) for case in cases]
        return (answers, time.process_time() - python, _cpu_seconds(backend) - database,
                time.perf_counter() - started)

    hidden = sorted({b for case in some_unlisted for b in case} & listed)
    post(cases[0])  # the first request loads what every later one reuses
    results: dict = {}
    same, compared = 0, 0
    for round_ in range(rounds):
        for way in (("lists", "search") if round_ % 2 == 0 else ("search", "lists")):
            for group, group_cases in groups.items():
                if way == "lists":
                    answers, python, database, wall = timed(group_cases)
                else:
                    with transaction.atomic():
                        NeighbourList.objects.filter(version=version, book_id__in=hidden).delete()
                        answers, python, database, wall = timed(group_cases)
                        transaction.set_rollback(True)
                totals = results.setdefault(way, {}).setdefault(group, {"requests": 0, "python": 0.0, "postgres": 0.0,
                                                                        "wall": 0.0, "answers": None})
                totals["requests"] += len(group_cases)
                totals["python"] += python
                totals["postgres"] += database
                totals["wall"] += wall
                totals["answers"] = answers
        for group in groups:
            for listed_answer, searched_answer in zip(results["lists"][group]["answers"],
                                                      results["search"][group]["answers"]):
                compared += 1
                same += listed_answer == searched_answer
    per_request = {
        way: {group: {"requests": totals["requests"],
                      "python_ms": round(1000 * totals["python"] / max(totals["requests"], 1), 2),
                      "postgres_ms": round(1000 * totals["postgres"] / max(totals["requests"], 1), 2),
                      "wall_ms": round(1000 * totals["wall"] / max(totals["requests"], 1), 2)}
              for group, totals in by_group.items()}
        for way, by_group in results.items()}
    return {"books": len(book_ids), "listed_books": len(listed), "requests": requests, "rounds": rounds,
            "requests_with_a_listed_book": len(some_unlisted), "answers_compared": compared,
            "answers_identical": same, "per_request": per_request}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc/PID/stat``)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _record(figures: dict) -> None:
    from bench.scale.serving import RESULT
    from bench.support.common import write_result

    earlier = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    kept = {key: value for key, value in earlier.items() if key not in ("benchmark", "command", "machine")}
    print(f"  -> {write_result('scale_serving', {**kept, 'in_process_lists': figures})}")


if __name__ == "__main__":
    main()
