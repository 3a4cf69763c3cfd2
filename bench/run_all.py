"""Every benchmark in one command (``make bench``): figures to bench/results/*.json, the tables to BENCHMARKS.md.

Steps, each a child process, progress printed as it goes:

1. seed data: ``bench.support.generate_seed_data`` at the original's scale (or ``--from`` a real file/folder);
2. training: Bookvec's trainer vs the original notebook's, same pairs (``bench.speed.training``);
3. import: the seed file (and the goodbooks folder) into a fresh scratch database (``bench.speed.importing``);
4. product training: a real Celery worker trains and publishes the first version (``bench.speed.product_training``);
5. publishing: vectors to pgvector + HNSW indexes (``bench.speed.publishing``);
6. nearest neighbours: HNSW vs exact vs NumPy (``bench.speed.nearest``);
7. HTTP under load: gunicorn + wrk (``bench.speed.http_load``);
8. faults: PostgreSQL stopped under load, plus the quick fault tests (``bench.faults.outages``);
9. BENCHMARKS.md regenerated from the JSON files (``bench.support.report``).

The scratch PostgreSQL and Redis live in var/bench/ and are stopped at the end. ``wrk`` is installed with
apt-get when missing and running as root on Debian; otherwise the command says how to install it.
With the defaults this takes about 12 minutes on 2 cores (BENCHMARKS.md gives the last run's time).

Usage: python -m bench.run_all [--books N] [--from PATH] [--goodbooks DIR] [--http-duration 60]
                               [--reference-epochs 15] [--bookvec-epochs N] [--skip-fault-tests]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.support.common import PROJECT_DIR, PYTHON, RESULTS_DIR, WORK_DIR, write_result

DEFAULT_GOODBOOKS = PROJECT_DIR.parent / "shared" / "data" / "goodbooks"
PRODUCT_PARAMS = '{"epochs": 5}'
"""The product run is there for the pipeline's stages, the worker's memory and a version to serve; the
training benchmark already measures the default 15 epochs, so this one trains 5 to keep `make bench` short."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, help="generate this many books instead of the original's 37,020")
    parser.add_argument("--from", dest="source", type=Path, help="a Wikipedia ndjson file or goodbooks folder instead")
    parser.add_argument("--goodbooks", type=Path, help=f"goodbooks-10k folder to time importing (default: "
                                                       f"{DEFAULT_GOODBOOKS} when it exists)")
    parser.add_argument("--http-duration", type=int, default=60, help="seconds of load per endpoint")
    parser.add_argument("--http-connections", type=int, default=32)
    parser.add_argument("--reference-epochs", type=int, default=15)
    parser.add_argument("--bookvec-epochs", type=int, help="override Bookvec's default epochs (smoke tests)")
    parser.add_argument("--training-pairs", type=int, default=3,
                        help="paired runs of the reference and Bookvec for the training throughput ratio")
    parser.add_argument("--product-params", default=PRODUCT_PARAMS,
                        help=f"JSON parameters of the product training run (default {PRODUCT_PARAMS})")
    parser.add_argument("--skip-fault-tests", action="store_true", help="skip the pytest fault tests")
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = parser.parse_args(argv)
    sys.exit(0 if run(args) else 1)


def run(args) -> bool:
    """Runs every step, writes run_all.json and BENCHMARKS.md; True when every step completed."""
    from bench.speed.http_load import ensure_wrk
    from bench.support import scratch

    started = time.perf_counter()
    started_at = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                  "load_average": [round(x, 2) for x in os.getloadavg()]}
    steps: list[dict] = []
    ensure_wrk()
    seed = WORK_DIR / "seed.ndjson"
    goodbooks = args.goodbooks or (DEFAULT_GOODBOOKS if (DEFAULT_GOODBOOKS / "book_tags.csv").exists() else None)

    def step(name: str, command: list[str], *, env: dict | None = None) -> bool:
        print(f"\n[{_clock(started)}] {name}: {' '.join(command)}", flush=True)
        began = time.perf_counter()
        result = subprocess.run([PYTHON, "-m", *command], cwd=PROJECT_DIR, env=env)
        seconds = round(time.perf_counter() - began, 1)
        ok = result.returncode == 0
        steps.append({"step": name, "command": "python -m " + " ".join(command), "seconds": seconds,
                      "status": "ok" if ok else f"failed (exit {result.returncode})"})
        print(f"[{_clock(started)}] {name}: {'done' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
        return ok

    seed_command = ["bench.support.generate_seed_data", "--out", str(seed)]
    if args.source:
        seed_command += ["--from", str(args.source)]
    elif args.books:
        seed_command += ["--books", str(args.books)]
    ok = step("seed data", seed_command)

    if ok:
        training = ["bench.speed.training", "--data", str(seed), "--reference-epochs", str(args.reference_epochs),
                    "--pairs", str(args.training_pairs)]
        if args.bookvec_epochs:
            training += ["--bookvec-epochs", str(args.bookvec_epochs)]
        step("training", training)
        importing = ["bench.speed.importing", "--data", str(seed)] + (["--goodbooks", str(goodbooks)] if goodbooks else [])
        ok = step("import", importing)
    try:
        if ok:
            env = scratch.existing_environment()
            ok = step("product training", ["bench.speed.product_training", "--params", args.product_params], env=env)
            if ok:
                step("publishing", ["bench.speed.publishing"], env=env)
                step("nearest neighbours", ["bench.speed.nearest"], env=env)
                step("HTTP under load", ["bench.speed.http_load", "--duration", str(args.http_duration),
                                         "--connections", str(args.http_connections)], env=env)
            step("faults", ["bench.faults.outages"] + (["--skip-tests"] if args.skip_fault_tests else []), env=env)
    finally:
        scratch.stop_servers()

    total = round(time.perf_counter() - started, 1)
    write_result("run_all", {"steps": steps, "total_seconds": total, "started": started_at, "goodbooks": str(goodbooks) if goodbooks else None,
                             "options": {key: (str(value) if isinstance(value, Path) else value)
                                         for key, value in vars(args).items()}})
    if not args.no_markdown:
        from bench.support.report import write_markdown

        path = write_markdown()
        print(f"\n[{_clock(started)}] tables written to {path}")
    failed = [s["step"] for s in steps if s["status"] != "ok"]
    print(f"\nall benchmarks: {total / 60:.1f} min; results in {RESULTS_DIR}"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    print(json.dumps(steps, indent=1))
    return not failed and len(steps) >= 8


def _clock(started: float) -> str:
    seconds = int(time.perf_counter() - started)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up banners would drown the progress
    main()
