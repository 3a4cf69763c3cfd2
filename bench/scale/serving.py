"""Recommendations against the health check under ``wrk`` on the largest catalogue a scale run left behind.

Serves the scratch database ``bench.scale.stages`` built (as it is: nothing is re-imported or retrained) with
gunicorn as ``bench.speed.http_load`` runs it, and puts ``wrk`` (32 connections) on ``POST /api/v1/recommendations/``
(5 random books, k 20) and the health check, one after the other, as ``stages`` does. Each run is kept under its
``--label`` (e.g. the code it served) in ``bench/results/scale_serving.json``, so that runs of two versions of the
code in one session can be compared; the ratio is recommendations' requests a second over the health check's.

With ``--rounds N`` each endpoint gets N windows, in the order recommendations, health, health, recommendations, …
(so that the machine's load drifting during a run, other people's work on a shared machine, weighs on both alike),
and its figures are those of its windows together (``bench.scale.stages._windows_together``).

With ``--code REF`` the web workers run that commit's code (``git archive`` into ``var/serving-code/``) instead of
the working tree's, against the same database: the ``before`` of a comparison, when the schema allows it.

Usage: python -m bench.scale.serving --label before [--code main] [--database bookvec_scale_bigrun] [--port 8211]
       [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess

from bench.scale.stages import _serving
from bench.support.common import PROJECT_DIR, commit_tree, machine, short_commit, write_result
from bench.support.scratch import existing_environment

RESULT = PROJECT_DIR / "bench" / "results" / "scale_serving.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="name of this run in the result file")
    parser.add_argument("--database", default="bookvec_scale_bigrun")
    parser.add_argument("--port", type=int, default=8211)
    parser.add_argument("--http-duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--code", help="serve this commit's code (e.g. main) instead of the working tree's")
    parser.add_argument("--rounds", type=int, default=1, help="windows per endpoint, alternating (see above)")
    args = parser.parse_args(argv)
    env = existing_environment(database=args.database)
    if args.code:
        from bench.speed import http_load

        commit, dirty = short_commit(args.code), False
        http_load.PROJECT_DIR = commit_tree(commit)  # where gunicorn starts: its code is what it serves
    else:
        commit = short_commit("HEAD")
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "books", "recommender", "config"],
                                    cwd=PROJECT_DIR, capture_output=True, text=True).stdout.strip())
    endpoints = [("recommendations", "health"), ("health", "recommendations")]
    serving = _serving(env, args.http_duration, args.connections, args.port,
                       endpoints=tuple(name for round_ in range(args.rounds) for name in endpoints[round_ % 2]),
                       map_points=False)
    earlier = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    runs = earlier.get("runs", {})
    runs[args.label] = {
        "commit": commit + ("+changes" if dirty else ""), "books": _books(env["DATABASE_URL"]),
        "connections": args.connections, "seconds": args.http_duration, "rounds": args.rounds, "machine": machine(),
        **serving,
        "ratio_to_health": round(serving["recommendations"]["requests_per_second"]
                                 / serving["health"]["requests_per_second"], 3),
    }
    kept = {key: earlier[key] for key in ("note", "in_process", "in_process_lists", "same_answers") if key in earlier}
    path = write_result("scale_serving", {**kept, "runs": runs})
    print(json.dumps(runs[args.label], indent=1))
    print(f"  -> {path}")


def _books(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*) FROM books_book").fetchone()[0]


if __name__ == "__main__":
    main()
