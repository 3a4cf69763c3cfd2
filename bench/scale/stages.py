"""Every stage of the product at several catalogue sizes, and how each grows: ``make bench-scale``.

For each size (books; readers, shelf entries and book–tag pairs follow, see ``bench.scale.generate``), in a
fresh scratch database (``bench.support.scratch``):

1. generate the catalogue (``bench.scale.generate``) into ``var/scale/books-N/``;
2. import it with ``manage.py import_goodbooks`` (wall time, the importer's own stage times, peak memory);
3. a training run through a real Celery worker (``bench.speed.product_training``): the run's stage timings
   as the pipeline records them (read_pairs, train, shelf_model, evaluate, layout, publish,
   activate_and_prune), the worker's peak memory;
4. the HNSW index build alone (``REINDEX`` of the version's book and link indexes), and the disk a version
   takes (vector tables and their indexes; one version is stored, so the tables are the version);
5. serving under ``wrk`` (gunicorn as ``bench.speed.http_load`` runs it): similar books, shelf recommendations
   (``POST /api/v1/recommendations/``), a book page, search (``GET /api/v1/books/?search=`` with a random
   book's title words), the health check; the map's data (``/map/points.json``, every book) a few times in
   sequence (one answer is the whole catalogue: its time and size are the figures).

Then each stage's growth exponent ``e`` (time ∝ books^e, a least-squares fit of log time on log books over
the sizes run; with readers and entries proportional to books, the exponent is the same in those).
Results: ``bench/results/scale.json`` (and BENCHMARKS.md §15 through ``bench.support.report``).

Usage: python -m bench.scale.stages [--sizes 2000,5000,20000] [--http-duration 10] [--params '{"epochs": 5}']
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.support.common import PROJECT_DIR, PYTHON, WORK_DIR, RssSampler, write_result

SCALE_DIR = PROJECT_DIR / "var" / "scale"
DATABASE = "bookvec_scale"
DEFAULT_SIZES = (2000, 5000, 20000)
DEFAULT_PARAMS = '{"epochs": 5}'
"""As ``make bench``'s product run: the stages' growth is the figure, and training time is linear in epochs."""
SERVED = ("similar", "recommendations", "book_page", "search", "health")
MAP_REQUESTS = 3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="books, comma-separated")
    parser.add_argument("--http-duration", type=int, default=10, help="seconds of wrk load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="training parameters (JSON)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for a training run")
    parser.add_argument("--name", default="scale", help="result file name (bench/results/NAME.json)")
    parser.add_argument("--keep", action="store_true", help="keep earlier sizes of bench/results/NAME.json")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    runs = _earlier_runs(args.name) if args.keep else {}
    for size in sizes:
        print(f"== {size:,} books", flush=True)
        runs[str(size)] = measure(size, params=json.loads(args.params), http_duration=args.http_duration,
                                  connections=args.connections, timeout=args.timeout)
        _write(args.name, runs, args)  # after each size: a long run that dies keeps what it measured
    path = _write(args.name, runs, args)
    print(json.dumps(_growth(runs), indent=1))
    print(f"  -> {path}")


def measure(books: int, *, params: dict, http_duration: int, connections: int, timeout: float) -> dict:
    """Every stage at one size; returns its figures."""
    from bench.support.scratch import fresh_database

    folder = SCALE_DIR / f"books-{books}"
    started = time.perf_counter()
    generated = _run_json([PYTHON, "-m", "bench.scale.generate", "--books", str(books), "--out", str(folder)])
    figures: dict = {"generated": generated, "generate_seconds": round(time.perf_counter() - started, 1)}
    print(f"   generated {generated}", flush=True)

    env = fresh_database(database=DATABASE)
    env["BOOKVEC_BENCH_RESULTS"] = str(SCALE_DIR / "results")
    figures["import"] = _import(env, folder)
    print(f"   import {figures['import']['wall_seconds']} s, peak {figures['import']['peak_rss_mib']} MiB", flush=True)
    figures["training"] = _training(env, books, params, timeout)
    print(f"   training {figures['training']['seconds_request_to_done']} s {figures['training']['stages_seconds']}, "
          f"worker peak {figures['training']['worker_peak_rss_mib']} MiB", flush=True)
    figures["index_build"] = _index_build(env["DATABASE_URL"])
    figures["disk"] = _disk(env["DATABASE_URL"])
    print(f"   index build {figures['index_build']}, disk {figures['disk']['version_mib']} MiB", flush=True)
    figures["serving"] = _serving(env, http_duration, connections)
    print(f"   serving {json.dumps({k: v.get('requests_per_second') for k, v in figures['serving'].items()})}",
          flush=True)
    return figures


def _import(env: dict, folder: Path) -> dict:
    command = [PYTHON, str(PROJECT_DIR / "manage.py"), "import_goodbooks", str(folder)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    with RssSampler(process.pid) as memory:
        output, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"import failed ({process.returncode}):\n{output[-3000:]}")
    report = next((line for line in output.splitlines() if line.startswith("Imported")), "")
    bracket = re.search(r"\[([^\]]*)\]", report)
    stages = {name: float(value) for name, value in re.findall(r"([a-z][a-z ]*) ([0-9.]+)", bracket[1] if bracket else "")}
    return {"wall_seconds": round(seconds, 1), "peak_rss_mib": round(memory.peak_mib, 1), "report": report,
            "stages_seconds": stages}


def _training(env: dict, books: int, params: dict, timeout: float) -> dict:
    name = f"training-{books}"
    command = [PYTHON, "-m", "bench.speed.product_training", "--name", name, "--params", json.dumps(params),
               "--timeout", str(timeout)]
    result = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"training failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    document = json.loads((SCALE_DIR / "results" / f"{name}.json").read_text())
    return {key: document[key] for key in ("run_id", "params", "seconds_request_to_done", "stages_seconds",
                                           "worker_peak_rss_mib")} | {
        "data": document["metrics"].get("data"),
        "metrics": {key: value for key, value in document["metrics"].items()
                    if isinstance(value, (int, float)) and not isinstance(value, bool)}}


def _index_build(database_url: str) -> dict:
    """Seconds to rebuild each HNSW index of the active version (the build alone, as publishing runs it)."""
    import psycopg

    seconds = {}
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE indexdef ILIKE '%USING hnsw%'"
            " AND tablename IN ('recommender_bookvector', 'recommender_linkvector')").fetchall()
        connection.execute("SET maintenance_work_mem = '256MB'")  # as recommender.services.versions builds them
        for table, index in rows:
            started = time.perf_counter()
            connection.execute(f"REINDEX INDEX {index}")
            seconds[table.removeprefix("recommender_")] = round(time.perf_counter() - started, 2)
    return seconds


def _disk(database_url: str) -> dict:
    """MiB of the vector tables with their indexes (one version stored) and of the whole database."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        versions = connection.execute("SELECT count(*) FROM recommender_embeddingversion").fetchone()[0]
        tables = {}
        for table in ("recommender_bookvector", "recommender_linkvector", "recommender_shelfvector"):
            total, indexes = connection.execute("SELECT pg_total_relation_size(%s), pg_indexes_size(%s)",
                                                [table, table]).fetchone()
            tables[table.removeprefix("recommender_")] = {"mib": round(total / 2**20, 1),
                                                          "indexes_mib": round(indexes / 2**20, 1)}
        database = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        entries = connection.execute("SELECT pg_total_relation_size('books_shelfentry')").fetchone()[0]
    return {"versions_stored": versions, "tables": tables,
            "version_mib": round(sum(t["mib"] for t in tables.values()) / max(versions, 1), 1),
            "database_mib": round(database / 2**20, 1), "shelf_entries_mib": round(entries / 2**20, 1)}


def _serving(env: dict, duration: int, connections: int) -> dict:
    """wrk on each endpoint, then the map's data in sequence."""
    import urllib.request

    import psycopg

    from bench.speed import http_load

    wrk = http_load.ensure_wrk()
    with psycopg.connect(env["DATABASE_URL"]) as connection:
        rows = connection.execute(
            "SELECT b.id, b.title FROM recommender_bookvector bv JOIN recommender_embeddingversion v"
            " ON v.id = bv.version_id JOIN books_book b ON b.id = bv.book_id WHERE v.is_active ORDER BY b.id").fetchall()
    rng = np.random.default_rng(0)
    queries = [" ".join(rows[i][1].split()[1:4]) for i in rng.choice(len(rows), size=min(500, len(rows)), replace=False)]
    ids_file = WORK_DIR / "wrk_scale_ids.lua"
    ids_file.parent.mkdir(parents=True, exist_ok=True)
    ids_file.write_text("book_ids = {" + ",".join(str(row[0]) for row in rows) + "}\n"
                        + "queries = {" + ",".join(json.dumps(q) for q in queries) + "}\n")
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL")})
    http_load.manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    port = http_load.free_port()
    base = f"http://127.0.0.1:{port}"
    server = http_load.start_gunicorn(port, 3, env=env)
    results: dict = {}
    try:
        http_load.wait_until_up(base + "/api/v1/health/", server)
        wrk_env = {**env, "BOOKVEC_WRK_IDS": str(ids_file), "BOOKVEC_WRK_COMMON": str(http_load.WRK_DIR / "common.lua")}
        for endpoint in SERVED:
            if endpoint == "health":
                script, extra = http_load.WRK_DIR / "fixed_path.lua", {"BOOKVEC_WRK_PATH": "/api/v1/health/"}
            elif endpoint == "search":
                script, extra = Path(__file__).parent / "wrk" / "search.lua", {}
            else:
                script, extra = http_load.WRK_DIR / f"{endpoint}.lua", {}
            command = [wrk, "-t2", f"-c{connections}", "--timeout", "10s", "-s", str(script)]
            subprocess.run([*command, "-d", "2s", base], env={**wrk_env, **extra}, capture_output=True, check=True)
            with RssSampler(server.pid) as memory:
                output = subprocess.run([*command, "-d", f"{duration}s", base], env={**wrk_env, **extra},
                                        capture_output=True, text=True, check=True).stdout
            results[endpoint] = {**http_load._parse(output), "seconds": duration,
                                 "largest_worker_peak_rss_mib": round(memory.largest_process_mib, 1)}
        seconds, size = [], 0
        for _ in range(MAP_REQUESTS):
            started = time.perf_counter()
            with urllib.request.urlopen(base + "/map/points.json", timeout=300) as response:
                size = len(response.read())
            seconds.append(time.perf_counter() - started)
        results["map_points"] = {"requests": MAP_REQUESTS, "p50_ms": round(float(np.median(seconds)) * 1000, 1),
                                 "bytes": size}
    finally:
        http_load.stop_server(server)
    return results


def stage_seconds(figures: dict) -> dict[str, float]:
    """The time of every stage at one size, flat, by name."""
    stages = {"generate": figures["generate_seconds"], "import": figures["import"]["wall_seconds"]}
    stages |= {f"import: {name}": value for name, value in figures["import"]["stages_seconds"].items()}
    training = figures["training"]
    stages["training run (request to done)"] = training["seconds_request_to_done"]
    stages |= {f"run: {name}": value for name, value in training["stages_seconds"].items()
               if name not in ("pairs_per_second",)}
    stages |= {f"index build: {name}": value for name, value in figures["index_build"].items()}
    stages["map data request"] = figures["serving"]["map_points"]["p50_ms"] / 1000
    for endpoint in SERVED:
        stages[f"p50 {endpoint}"] = figures["serving"][endpoint]["p50_ms"] / 1000
    return stages


def _growth(runs: dict) -> dict:
    """Per stage: the fitted exponent e of time ∝ books^e over the sizes run (None with fewer than 2 sizes
    or a stage under 0.05 s at every size, where the fit would measure noise)."""
    sizes = sorted(runs, key=int)
    if len(sizes) < 2:
        return {}
    table = [stage_seconds(runs[size]) for size in sizes]
    books = np.log([int(size) for size in sizes])
    growth = {}
    for name in table[-1]:
        values = [row.get(name) for row in table]
        if any(v is None or v <= 0 for v in values) or max(values) < 0.05:
            growth[name] = None
            continue
        growth[name] = round(float(np.polyfit(books, np.log(values), 1)[0]), 2)
    for key, pick in (("import peak MiB", lambda f: f["import"]["peak_rss_mib"]),
                      ("worker peak MiB", lambda f: f["training"]["worker_peak_rss_mib"]),
                      ("disk per version MiB", lambda f: f["disk"]["version_mib"])):
        growth[key] = round(float(np.polyfit(books, np.log([pick(runs[s]) for s in sizes]), 1)[0]), 2)
    return growth


def _write(name: str, runs: dict, args) -> Path:
    sizes = sorted(runs, key=int)
    return write_result(name, {
        "sizes_books": [int(s) for s in sizes],
        "params": json.loads(args.params),
        "http_duration_seconds": args.http_duration,
        "runs": {size: runs[size] for size in sizes},
        "stage_seconds": {size: stage_seconds(runs[size]) for size in sizes},
        "growth_exponents": _growth(runs),
    })


def _earlier_runs(name: str) -> dict:
    from bench.support.common import RESULTS_DIR

    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text())["runs"] if path.exists() else {}


def _run_json(command: list[str]) -> dict:
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
