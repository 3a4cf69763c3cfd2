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

Usage: python -m bench.scale.stages [--sizes 1000,2000,4000] [--connections 4] [--http-duration 8] [--params JSON]
           [--keep] [--resume] [--database NAME] [--port N]
       python -m bench.scale.stages --markdown   (only BENCHMARKS.md section 15, from the result files)
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

from bench.support.common import PROJECT_DIR, PYTHON, WORK_DIR, RssSampler, machine, write_result

SCALE_DIR = PROJECT_DIR / "var" / "scale"
DATABASE = "bookvec_scale"
DEFAULT_SIZES = (2000, 5000, 20000)
DEFAULT_PARAMS = '{"epochs": 5, "min_steps": 0}'
"""5 epochs as ``make bench``'s product run (training time is linear in epochs); ``min_steps`` 0 so that small
catalogues do not train extra epochs (the default 250 steps of 4,096 pairs make training time flat below ~1M pairs,
hiding its growth)."""
STAGE_ORDER = ("read_pairs", "train", "shelf_model", "evaluate", "layout", "publish", "predict", "index_books",
               "neighbour_lists", "activate_and_prune")
"""A training run's stages in their order (``recommender.services.training_pipeline.RUN_STAGES`` without Django)."""
SERVED = ("similar", "recommendations", "book_page", "search", "health")
MAP_REQUESTS = 3
POLL_SECONDS = 2.0
"""How often the run's stage timings (and the CPU clocks) are read: a stage's CPU is placed within this much."""


class CpuClock:
    """CPU seconds (user + system) used so far by some processes and all their descendants, reaped ones included.

    On a machine shared with other work, wall time measures the neighbours as much as the code: the CPU a stage
    uses is the figure that does not depend on them (the growth exponents are fitted on it).
    """

    def __init__(self, *pids: int):
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]

    def seconds(self) -> float:
        import psutil

        total = 0.0
        for root in self.processes:
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for process in members:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system + times.children_user + times.children_system
        return total


def postgres_pid() -> int:
    """The scratch PostgreSQL server's postmaster (its backends are its children)."""
    from bench.support.scratch import PGDATA

    return int((PGDATA / "postmaster.pid").read_text().split()[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="books, comma-separated")
    parser.add_argument("--http-duration", type=int, default=10, help="seconds of wrk load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="training parameters (JSON)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for a training run")
    parser.add_argument("--name", default="scale", help="result file name (bench/results/NAME.json)")
    parser.add_argument("--keep", action="store_true", help="keep earlier sizes of bench/results/NAME.json")
    parser.add_argument("--database", default=DATABASE, help="scratch database name (dropped and re-created)")
    parser.add_argument("--port", type=int, default=0, help="the web server's port (default: a free one)")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the stages a size saved before (var/scale/results/partial-N.json)")
    parser.add_argument("--markdown", action="store_true",
                        help="only write BENCHMARKS.md section 15 from bench/results/NAME.json and scale_components.json")
    parser.add_argument("--record-partial", type=int, metavar="BOOKS",
                        help="record the stages a size's unfinished run measured (its partial files) in "
                             "bench/results/NAME.json, apart from the finished sizes, and write BENCHMARKS.md section 15")
    parser.add_argument("--stopped", default="", help="with --record-partial: where and why the run stopped")
    parser.add_argument("--train-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.record_partial:
        record_partial(args.name, args.record_partial, args.stopped)
    if args.markdown or args.record_partial:
        print(f"  -> {write_markdown(args.name)}")
        return
    if args.train_child:
        train_child(args.train_child, json.loads(args.params), args.timeout)
        return
    sizes = sorted(int(size) for size in args.sizes.split(","))
    runs = _earlier_runs(args.name) if args.keep else {}
    for size in sizes:
        print(f"== {size:,} books", flush=True)
        runs[str(size)] = measure(size, params=json.loads(args.params), http_duration=args.http_duration,
                                  connections=args.connections, timeout=args.timeout, database=args.database,
                                  port=args.port, resume=args.resume)
        _write(args.name, runs, args)  # after each size: a long run that dies keeps what it measured
    path = _write(args.name, runs, args)
    print(json.dumps(_growth(runs), indent=1))
    print(f"  -> {path}\n  -> {write_markdown(args.name)}")


def measure(books: int, *, params: dict, http_duration: int, connections: int, timeout: float,
            database: str = DATABASE, port: int = 0, resume: bool = False) -> dict:
    """Every stage at one size; returns its figures.

    Each stage's figures are saved as it ends (``var/scale/results/partial-N.json``): with ``resume``, the stages
    saved there are not run again and the scratch database is used as they left it (a run that failed in training
    goes on from the imported catalogue)."""
    from bench.support.scratch import existing_environment, fresh_database

    folder = SCALE_DIR / f"books-{books}"
    partial = SCALE_DIR / "results" / f"partial-{books}.json"
    partial.parent.mkdir(parents=True, exist_ok=True)
    figures: dict = json.loads(partial.read_text()) if resume and partial.exists() else {}

    def save() -> None:
        partial.write_text(json.dumps(figures, indent=1))

    figures.setdefault("measured", _stamp(machine()))
    if "generated" not in figures:
        generated = _generated(folder, books)
        if generated is None:
            generated = _run_json([PYTHON, "-m", "bench.scale.generate", "--books", str(books), "--out", str(folder)])
        figures |= {"generated": generated, "generate_seconds": generated["seconds"]}
        save()
    print(f"   generated {figures['generated']}", flush=True)

    env = existing_environment(database=database) if "import" in figures else fresh_database(database=database)
    env["BOOKVEC_BENCH_RESULTS"] = str(SCALE_DIR / "results")
    if "import" not in figures:
        figures["import"] = _import(env, folder)
        save()
    print(f"   import {figures['import']['wall_seconds']} s, peak {figures['import']['peak_rss_mib']} MiB", flush=True)
    if "training" not in figures:
        figures["training"] = _training(env, books, params, timeout)
        save()
    print(f"   training {figures['training']['seconds_request_to_done']} s {figures['training']['stages_seconds']}, "
          f"worker peak {figures['training']['worker_peak_rss_mib']} MiB", flush=True)
    if "index_build" not in figures:
        figures["index_build"] = _index_build(env["DATABASE_URL"])
        figures["disk"] = _disk(env["DATABASE_URL"])
        save()
    print(f"   index build {figures['index_build']}, disk {figures['disk']['version_mib']} MiB", flush=True)
    figures["serving"] = _serving(env, http_duration, connections, port)
    save()
    print(f"   serving {json.dumps({k: v.get('requests_per_second') for k, v in figures['serving'].items()})}",
          flush=True)
    return figures


def _generated(folder: Path, books: int) -> dict | None:
    """The figures of a catalogue generated earlier into ``folder`` with ``books`` books and the default seed, or
    None (the generator is deterministic: the same size and seed write the same files)."""
    from dataclasses import fields

    from bench.scale.generate import Figures

    truth = folder / "truth.json"
    if not truth.exists():
        return None
    written = json.loads(truth.read_text())
    if written.get("books") != books or written.get("seed") != 22:
        return None
    return {field.name: written[field.name] for field in fields(Figures)}


def _import(env: dict, folder: Path) -> dict:
    command = [PYTHON, str(PROJECT_DIR / "manage.py"), "import_goodbooks", str(folder)]
    started = time.perf_counter()
    database = CpuClock(postgres_pid())
    database_before = database.seconds()
    # Output to a file, not a pipe nobody reads while it runs: the progress bars of a 20M-row import fill a pipe's
    # buffer and the importer would block on its next write.
    log = folder.parent / "results" / f"import-{folder.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        process = subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT, text=True)
    importer = CpuClock(process.pid)
    importer_cpu = 0.0
    with RssSampler(process.pid) as memory:
        while process.poll() is None:
            importer_cpu = max(importer_cpu, importer.seconds())
            time.sleep(0.2)
    output = log.read_text().replace("\r", "\n")
    seconds = time.perf_counter() - started
    database_cpu = database.seconds() - database_before
    if process.returncode != 0:
        raise RuntimeError(f"import failed ({process.returncode}):\n{output[-3000:]}")
    report = next((line for line in output.splitlines() if line.startswith("Imported")), "")
    bracket = re.search(r"\[([^\]]*)\]", report)
    stages = {name: float(value) for name, value in re.findall(r"([a-z][a-z ]*) ([0-9.]+)", bracket[1] if bracket else "")}
    return {"wall_seconds": round(seconds, 1), "cpu_seconds": round(importer_cpu + database_cpu, 1),
            "importer_cpu_seconds": round(importer_cpu, 1), "database_cpu_seconds": round(database_cpu, 1),
            "peak_rss_mib": round(memory.peak_mib, 1), "report": report, "stages_seconds": stages}


def _training(env: dict, books: int, params: dict, timeout: float) -> dict:
    """A run through a real Celery worker, in a child process with Django set up (``--train-child``)."""
    out = SCALE_DIR / "results" / f"training-{books}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [PYTHON, "-m", "bench.scale.stages", "--train-child", str(out), "--params", json.dumps(params),
               "--timeout", str(timeout)]
    result = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"training failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return json.loads(out.read_text())


def train_child(out: Path, params: dict, timeout: float) -> None:
    """Requests a run as the admin does, lets a real worker (``bench.speed.product_training``'s) execute it, and
    writes its figures: wall seconds per stage as the pipeline records them (``TrainingRun.timings``), CPU seconds
    per stage of the worker and of PostgreSQL (sampled as each stage's timing appears), the worker's peak memory."""
    from bench.speed.product_training import start_worker, stop_worker
    from bench.support.scratch import django_setup

    django_setup()
    from recommender.models import TrainingRun
    from recommender.services.training_pipeline import RUN_STAGES
    from recommender.services.training_runs import training_run_request

    worker = start_worker("scale-training")
    database = CpuClock(postgres_pid())
    cpu = {}
    try:
        worker_clock = CpuClock(worker.pid)
        with RssSampler(worker.pid) as memory:
            started = time.perf_counter()
            last = None
            run = training_run_request(trigger=TrainingRun.Trigger.COMMAND, params=params)
            while time.perf_counter() - started < timeout:
                run.refresh_from_db(fields=["status", "stage", "timings", "error"])
                now = worker_clock.seconds() + database.seconds()
                if last is None:  # the worker's start (its imports) is no stage of the run: count from its claim
                    if run.status == TrainingRun.Status.QUEUED:
                        time.sleep(0.5)
                        continue
                    last = now
                new = [stage for stage in RUN_STAGES if stage in run.timings and stage not in cpu
                       and stage != "train_optimisation"]
                for stage in new:  # two stages ending within one poll: the CPU goes to the first
                    cpu[stage] = round(now - last, 2) if stage == new[0] else 0.0
                if new:
                    last = now
                    _save_progress(out, run, time.perf_counter() - started, cpu, memory.peak_mib)
                if run.status not in TrainingRun.OPEN_STATUSES:
                    break
                time.sleep(POLL_SECONDS)
            seconds = time.perf_counter() - started
            time.sleep(POLL_SECONDS)  # the run's last stage (pruning) is timed just after it reads as succeeded
            run.refresh_from_db(fields=["timings"])
            missing = [stage for stage in RUN_STAGES if stage in run.timings and stage not in cpu
                       and stage != "train_optimisation"]
            now = worker_clock.seconds() + database.seconds()
            for stage in missing:
                cpu[stage] = round(now - last, 2) if stage == missing[0] and last is not None else 0.0
    finally:
        stop_worker(worker)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise RuntimeError(f"training run {run.pk} ended {run.status} after {seconds:.0f} s: {run.error}")
    run.refresh_from_db()
    out.write_text(json.dumps({
        "run_id": run.pk, "params": run.params, "seconds_request_to_done": round(seconds, 1),
        "stages_seconds": run.timings, "stages_cpu_seconds": cpu,
        "worker_peak_rss_mib": round(memory.peak_mib, 1), "data": run.metrics.get("data"),
        "metrics": {key: value for key, value in run.metrics.items()
                    if isinstance(value, (int, float)) and not isinstance(value, bool)},
    }, indent=1))


def _save_progress(out: Path, run, seconds: float, cpu: dict, peak_mib: float) -> None:
    """The figures of the stages a run has ended so far, beside ``out`` (``*.partial.json``): what a run stopped
    before its end leaves measured."""
    out.with_suffix(".partial.json").write_text(json.dumps({
        "run_id": run.pk, "status": run.status, "stage": run.stage, "seconds_so_far": round(seconds, 1),
        "stages_seconds": run.timings, "stages_cpu_seconds": cpu, "worker_peak_rss_mib_so_far": round(peak_mib, 1),
    }, indent=1))


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
        for table in ("recommender_bookvector", "recommender_linkvector", "recommender_shelfvector",
                      "recommender_neighbourlist"):
            total, indexes = connection.execute("SELECT pg_total_relation_size(%s), pg_indexes_size(%s)",
                                                [table, table]).fetchone()
            tables[table.removeprefix("recommender_")] = {"mib": round(total / 2**20, 1),
                                                          "indexes_mib": round(indexes / 2**20, 1)}
        database = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        entries = connection.execute("SELECT pg_total_relation_size('books_shelfentry')").fetchone()[0]
    return {"versions_stored": versions, "tables": tables,
            "version_mib": round(sum(t["mib"] for t in tables.values()) / max(versions, 1), 1),
            "database_mib": round(database / 2**20, 1), "shelf_entries_mib": round(entries / 2**20, 1)}


def _serving(env: dict, duration: int, connections: int, port: int = 0, endpoints: tuple[str, ...] = SERVED,
             map_points: bool = True) -> dict:
    """wrk on each of ``endpoints`` in turn, then (with ``map_points``) the map's data in sequence. An endpoint named
    more than once is measured in each of its windows and its figures are theirs together (``_windows_together``)."""
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
    port = port or http_load.free_port()
    base = f"http://127.0.0.1:{port}"
    server = http_load.start_gunicorn(port, 3, env=env)
    results: dict = {}
    windows: dict[str, list[dict]] = {}
    try:
        http_load.wait_until_up(base + "/api/v1/health/", server)
        serving = CpuClock(server.pid, postgres_pid())  # the web workers and the database they query
        wrk_env = {**env, "BOOKVEC_WRK_IDS": str(ids_file), "BOOKVEC_WRK_COMMON": str(http_load.WRK_DIR / "common.lua")}
        for endpoint in endpoints:
            if endpoint == "health":
                script, extra = http_load.WRK_DIR / "fixed_path.lua", {"BOOKVEC_WRK_PATH": "/api/v1/health/"}
            elif endpoint == "search":
                script, extra = Path(__file__).parent / "wrk" / "search.lua", {}
            else:
                script, extra = http_load.WRK_DIR / f"{endpoint}.lua", {}
            command = [wrk, "-t2", f"-c{connections}", "--timeout", "10s", "-s", str(script)]
            subprocess.run([*command, "-d", "2s", base], env={**wrk_env, **extra}, capture_output=True, check=True)
            before = serving.seconds()
            with RssSampler(server.pid) as memory:
                output = subprocess.run([*command, "-d", f"{duration}s", base], env={**wrk_env, **extra},
                                        capture_output=True, text=True, check=True).stdout
            used = serving.seconds() - before
            figures = http_load._parse(output)
            windows.setdefault(endpoint, []).append(
                {**figures, "seconds": duration, "cpu_ms_per_request": round(1000 * used / max(figures["requests"], 1), 2),
                 "largest_worker_peak_rss_mib": round(memory.largest_process_mib, 1)})
        results |= {endpoint: _windows_together(measured) for endpoint, measured in windows.items()}
        if map_points:
            seconds, size = [], 0
            before = serving.seconds()
            for _ in range(MAP_REQUESTS):
                started = time.perf_counter()
                with urllib.request.urlopen(base + "/map/points.json", timeout=300) as response:
                    size = len(response.read())
                seconds.append(time.perf_counter() - started)
            results["map_points"] = {"requests": MAP_REQUESTS, "p50_ms": round(float(np.median(seconds)) * 1000, 1),
                                     "bytes": size,
                                     "cpu_ms_per_request": round(1000 * (serving.seconds() - before) / MAP_REQUESTS, 1)}
    finally:
        http_load.stop_server(server)
    return results


def _windows_together(windows: list[dict]) -> dict:
    """One endpoint's wrk figures over its ``windows``: requests, seconds and errors summed, requests a second and
    CPU a request over them all, latencies the median of the windows' (wrk's own cannot be merged), each window's
    figures kept under ``windows``. One window's figures are returned as they are."""
    if len(windows) == 1:
        return windows[0]
    requests = sum(w["requests"] for w in windows)
    elapsed = sum(w["requests"] / w["requests_per_second"] for w in windows if w["requests"])  # wrk's own clock
    cpu_ms = sum(w["cpu_ms_per_request"] * w["requests"] for w in windows) / max(requests, 1)
    return {
        "requests": requests, "requests_per_second": round(requests / elapsed, 1) if elapsed else 0.0,
        **{f"{name}_ms": round(float(np.median([w[f"{name}_ms"] for w in windows])), 2)
           for name in ("p50", "p90", "p99", "max")},
        "latencies": "median of the windows'",
        "errors": sum(w["errors"] for w in windows),
        "error_breakdown": {key: sum(w["error_breakdown"][key] for w in windows) for key in windows[0]["error_breakdown"]},
        "seconds": sum(w["seconds"] for w in windows), "cpu_ms_per_request": round(cpu_ms, 2),
        "largest_worker_peak_rss_mib": max(w["largest_worker_peak_rss_mib"] for w in windows),
        "windows": windows,
    }


def stage_seconds(figures: dict) -> dict[str, float]:
    """The CPU seconds of every stage at one size (of its processes and of PostgreSQL), flat, by name; serving
    as CPU seconds a request."""
    stages = {"import": figures["import"]["cpu_seconds"]}
    training = figures["training"]
    stages |= {f"run: {name}": value for name, value in training["stages_cpu_seconds"].items()}
    stages["training run (all stages)"] = round(sum(training["stages_cpu_seconds"].values()), 2)
    stages |= {f"index build: {name} (wall)": value for name, value in figures["index_build"].items()}
    for endpoint in (*SERVED, "map_points"):
        stages[f"serve {endpoint} (CPU s a request)"] = figures["serving"][endpoint]["cpu_ms_per_request"] / 1000
    return stages


def wall_seconds(figures: dict) -> dict[str, float]:
    """The wall seconds of every stage at one size (what a user waits, on this machine's load), flat, by name."""
    stages = {"generate": figures["generate_seconds"], "import": figures["import"]["wall_seconds"]}
    stages |= {f"import: {name}": value for name, value in figures["import"]["stages_seconds"].items()}
    training = figures["training"]
    stages["training run (request to done)"] = training["seconds_request_to_done"]
    stages |= {f"run: {name}": value for name, value in training["stages_seconds"].items()
               if name != "pairs_per_second"}
    stages["map data request"] = figures["serving"]["map_points"]["p50_ms"] / 1000
    for endpoint in SERVED:
        stages[f"p50 {endpoint}"] = figures["serving"][endpoint]["p50_ms"] / 1000
    return stages


def _growth(runs: dict, of=stage_seconds) -> dict:
    """Per stage: the fitted exponent e of time ∝ books^e over the sizes run (None with fewer than 2 sizes
    or where a size has no figure)."""
    sizes = sorted(runs, key=int)
    if len(sizes) < 2:
        return {}
    table = [of(runs[size]) for size in sizes]
    books = np.log([int(size) for size in sizes])
    growth = {}
    for name in table[-1]:
        values = [row.get(name) for row in table]
        if any(v is None or v <= 0 for v in values):
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
        "connections": args.connections,
        "runs": {size: runs[size] for size in sizes},
        "cpu_seconds": {size: stage_seconds(runs[size]) for size in sizes},
        "wall_seconds": {size: wall_seconds(runs[size]) for size in sizes},
        "growth_exponents_cpu": _growth(runs),
        "growth_exponents_wall": _growth(runs, wall_seconds),
    })


def record_partial(name: str, books: int, stopped: str) -> None:
    """Keeps what an unfinished size measured (``partial-N.json`` and, for a training run cut off, the stages its
    child saved) under ``partial_runs`` of ``bench/results/NAME.json``, with where and why it stopped."""
    from bench.support.common import RESULTS_DIR

    figures = json.loads((SCALE_DIR / "results" / f"partial-{books}.json").read_text())
    training = SCALE_DIR / "results" / f"training-{books}.partial.json"
    if "training" not in figures and training.exists():
        figures["training_so_far"] = json.loads(training.read_text())
    figures["stopped"] = stopped
    path = RESULTS_DIR / f"{name}.json"
    result = json.loads(path.read_text())
    result.setdefault("partial_runs", {})[str(books)] = figures
    path.write_text(json.dumps(result, indent=2) + "\n")


def render_partial(books: str, run: dict) -> list[str]:
    """A table of the stages an unfinished size measured, wall and CPU seconds."""
    generated, imported = run["generated"], run["import"]
    training = run.get("training") or run.get("training_so_far") or {}
    stamp = run.get("measured")
    lines = ["", f"**{int(books):,} books, {generated['readers']:,} readers, {generated['shelf_entries']:,} shelf entries, "
             f"{generated['book_tag_pairs']:,} book–tag pairs**"
             + (f" (from {stamp['date'][:16].replace('T', ' ')} at `{stamp['git_commit'][:10]}`, load average at the "
                f"start {' / '.join(f'{x:g}' for x in stamp['load_average_at_start'])})" if stamp else "")
             + f": {run['stopped']}", "",
             "| stage | wall seconds | CPU seconds (its processes + PostgreSQL's) | peak memory |", "|---|---|---|---|",
             f"| import (`import_goodbooks`) | {imported['wall_seconds']:,.0f} ("
             + ", ".join(f"{stage} {seconds:,.0f}" for stage, seconds in imported["stages_seconds"].items())
             + f") | {imported['cpu_seconds']:,.0f} (importer {imported['importer_cpu_seconds']:,.0f}, PostgreSQL "
             f"{imported['database_cpu_seconds']:,.0f}) | {imported['peak_rss_mib'] / 1024:.1f} GiB (importer) |"]
    cpu, wall = training.get("stages_cpu_seconds", {}), training.get("stages_seconds", {})
    for stage in sorted(set(wall) - {"pairs_per_second", "train_optimisation"},
                        key=lambda name: (STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER), name)):
        seconds = wall[stage]
        lines.append(f"| run: {stage} | {seconds:,.0f} | {cpu[stage]:,.0f} | |" if stage in cpu
                     else f"| run: {stage} | {seconds:,.0f} | | |")
    if training:
        done = training.get("seconds_request_to_done", training.get("seconds_so_far"))
        peak = training.get("worker_peak_rss_mib", training.get("worker_peak_rss_mib_so_far"))
        lines.append(f"| training run, request to {'live' if 'seconds_request_to_done' in training else 'last stage ended'}"
                     f" | {done:,.0f} | {sum(cpu.values()):,.0f} | {peak / 1024:.1f} GiB (worker) |")
    return lines


SECTION = "## 15. Scale: every stage at several catalogue sizes"
HAND_WRITTEN = "Reading it (by hand"
"""Section 15 from a paragraph starting so to its end is written by hand: regenerating the tables keeps it."""


def write_markdown(name: str = "scale") -> Path:
    """Writes (or replaces) BENCHMARKS.md's section 15 from the result files; the other sections are left alone."""
    from bench.support.common import RESULTS_DIR

    path = RESULTS_DIR / f"{name}.json"
    result = json.loads(path.read_text())
    runs = result["runs"]  # the tables and exponents re-derived from the measured runs, as this code fits them
    result |= {"cpu_seconds": {size: stage_seconds(runs[size]) for size in runs},
               "wall_seconds": {size: wall_seconds(runs[size]) for size in runs},
               "growth_exponents_cpu": _growth(runs), "growth_exponents_wall": _growth(runs, wall_seconds)}
    path.write_text(json.dumps(result, indent=2) + "\n")
    components_path = RESULTS_DIR / "scale_components.json"
    components = json.loads(components_path.read_text()) if components_path.exists() else None
    output = PROJECT_DIR / "BENCHMARKS.md"
    text = output.read_text()
    section = render_markdown(result, components)
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + len(SECTION))
        old = text[start:end + 1 if end >= 0 else len(text)]
        if HAND_WRITTEN in old:  # the reading written by hand stays, below the tables
            section += "\n" + old[old.index(HAND_WRITTEN):].rstrip("\n") + "\n\n"
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.write_text(text)
    return output


def render_markdown(result: dict, components: dict | None) -> str:
    sizes = [str(size) for size in result["sizes_books"]]
    machine = result["machine"]
    runs = result["runs"]
    lines = [SECTION, "",
             f"`make bench-scale` (`python -m bench.scale.stages --sizes {','.join(sizes)} --connections "
             f"{result.get('connections', 4)} --http-duration {result['http_duration_seconds']}`, then "
             "`python -m bench.scale.components`); generated catalogues (`bench.scale.generate`: 5 readers, ~100 "
             "shelf entries and ~25 book–tag pairs a book) imported with `import_goodbooks` and trained in a real Celery "
             f"worker with {json.dumps(result['params'])}. Measured on {machine['cpus']} cores, "
             + _measured(sizes, runs, machine) + ": **CPU seconds** "
             "(the stage's processes plus the scratch PostgreSQL's) are the figures the exponents e (time ∝ books^e) are "
             "fitted on; wall seconds on a machine this loaded measure the neighbours.", "",
             "| size (books / readers / shelf entries / book–tag pairs) | " + " | ".join(
                 f"{runs[s]['generated']['books']:,} / {runs[s]['generated']['readers']:,} / "
                 f"{runs[s]['generated']['shelf_entries']:,} / {runs[s]['generated']['book_tag_pairs']:,}"
                 for s in sizes) + " | e |",
             "|---|" + "---|" * len(sizes) + "---|"]
    growth = result["growth_exponents_cpu"]
    for stage in result["cpu_seconds"][sizes[-1]]:
        values = [result["cpu_seconds"][s].get(stage) for s in sizes]
        lines.append(f"| {stage} | " + " | ".join("" if v is None else f"{v:,.3g}" for v in values)
                     + f" | {_exponent(growth.get(stage))} |")
    walls = result["wall_seconds"]
    lines.append("| training run, wall seconds request to done | " + " | ".join(
        f"{walls[s]['training run (request to done)']:,.0f}" for s in sizes)
        + f" | {_exponent(result['growth_exponents_wall'].get('training run (request to done)'))} |")
    for label, pick, key in (
            ("import peak memory (MiB)", lambda r: r["import"]["peak_rss_mib"], "import peak MiB"),
            ("worker peak memory (MiB)", lambda r: r["training"]["worker_peak_rss_mib"], "worker peak MiB"),
            ("disk per version (MiB; indexes)", lambda r: f"{r['disk']['version_mib']:,} "
             f"({sum(t['indexes_mib'] for t in r['disk']['tables'].values()):,})", "disk per version MiB"),
            ("map data answer (bytes)", lambda r: f"{r['serving']['map_points']['bytes']:,}", None)):
        lines.append(f"| {label} | " + " | ".join(str(pick(runs[s])) for s in sizes)
                     + f" | {_exponent(growth.get(key)) if key else ''} |")
    lines.append("| served p50 ms: similar / recommendations / book page / search / health | " + " | ".join(
        " / ".join(f"{runs[s]['serving'][e]['p50_ms']:,.0f}" for e in SERVED) for s in sizes) + " | |")
    lines.append("| served errors | " + " | ".join(
        str(sum(runs[s]["serving"][e]["errors"] for e in SERVED)) for s in sizes) + " | |")
    if components:
        rows = components["rows"]
        lines += ["", "The run's NumPy stages alone (`bench.scale.components`, planted 64-dimension vectors, "
                  "CPU seconds after numba's compilation):", "",
                  "| books | " + " | ".join(f"{int(n):,}" for n in rows) + " | e |",
                  "|---|" + "---|" * len(rows) + "---|"]
        for key, label in (("layout_cpu_seconds", "map layout (UMAP)"),
                           ("neighbours_all_cpu_seconds", "evaluation's nearest books, every book (before)"),
                           ("neighbours_sampled_cpu_seconds", "evaluation's nearest books, the sample (now)")):
            lines.append(f"| {label} | " + " | ".join(
                "" if row.get(key) is None else f"{row[key]:,.3g}" for row in rows.values())
                + f" | {_exponent(components['growth_exponents_cpu'].get(key))} |")
        lines += ["", "The sample evaluation computes the lists of at most 10,000 books plus the validation readers' shelf "
                  "books (16,000 here, an upper bound): below ~26,000 books that is nearly every book, so the two rows "
                  "agree and share their n² exponent over these sizes; past it the sample costs ~26,000·n and every "
                  "book n² (at 200,000 books ~8× less, at 2M ~80×). The genre figures show the sample measures the "
                  "same. The layout's 5,000-book figure includes NN-descent's compilation (the warm-up's 200 books "
                  "used exact neighbours), and UMAP runs 500 epochs up to 10,000 books and 200 above: from 10,000 to "
                  "40,000 books it grew 1.9× for 4× the books."]
        growth = {**growth, **{f"components: {k}": v for k, v in components["growth_exponents_cpu"].items()}}
        lines.append("| genre k-NN accuracy@10: every book / the sample | " + " | ".join(
            f"{row.get('genre_knn_accuracy@10_all', '–')} / {row['genre_knn_accuracy@10_sampled']}"
            for row in rows.values()) + " | |")
    lines += ["", _largest(sizes[-1], runs[sizes[-1]])]
    for books, run in sorted(result.get("partial_runs", {}).items(), key=lambda item: int(item[0])):
        lines += render_partial(books, run)
    steep = sorted((value, stage) for stage, value in growth.items() if value is not None and value > 1.3)
    lines += ["", "Super-linear (e > 1.3, in bold above): " + (
        "; ".join(f"{stage} ({value:.2f})" for value, stage in reversed(steep)) if steep else "none") + ". "
        "Over small sizes a stage's fixed cost (a process's start, numba's compilation, a query's planning) pulls "
        "its exponent below its true growth; docs/scaling.md reads these figures for 10× and 100×."]
    return "\n".join(lines) + "\n"


def _measured(sizes: list[str], runs: dict, machine: dict) -> str:
    """When, at which commit and at what load each size was measured (sizes measured in one sweep together)."""
    groups: list[tuple[dict, list[str]]] = []
    for size in sizes:
        stamp = runs[size].get("measured", _stamp(machine))
        if groups and groups[-1][0] == stamp:
            groups[-1][1].append(size)
        else:
            groups.append((stamp, [size]))
    return "; ".join(
        f"{int(group[0]):,}{f'–{int(group[-1]):,}' if len(group) > 1 else ''} books from "
        f"{stamp['date'][:16].replace('T', ' ')} at `{stamp['git_commit'][:10]}` (load average at the start "
        f"{' / '.join(f'{x:g}' for x in stamp['load_average_at_start'])})" for stamp, group in groups)


def _largest(size: str, run: dict) -> str:
    """The largest size against issue 22's targets: a retrain request to live ≤ 45 min, the worker ≤ 12 GB,
    recommendations p50 ≤ 50 ms at ≥ 0.5× the health endpoint's requests a second, search p50 ≤ 100 ms."""
    training, serving = run["training"], run["serving"]
    wall, cpu = training["seconds_request_to_done"], sum(training["stages_cpu_seconds"].values())
    recommendations, health = serving["recommendations"], serving["health"]
    ratio = recommendations["requests_per_second"] / max(health["requests_per_second"], 1e-9)
    return (f"At the largest size, {int(size):,} books, against issue 22's targets: a retrain took "
            f"**{wall / 60:.1f} min** from request to live version (target ≤ 45; {cpu:,.0f} CPU s in its stages, so "
            f"≈ {cpu / 120:.0f} min on the 2 cores alone), the worker's peak memory **"
            f"{training['worker_peak_rss_mib'] / 1024:.1f} GiB** (≤ 12), the importer's "
            f"{run['import']['peak_rss_mib'] / 1024:.1f} GiB; a version {run['disk']['version_mib']:,} MiB on disk; "
            f"`POST /api/v1/recommendations/` p50 **{recommendations['p50_ms']:,.0f} ms** (≤ 50) at "
            f"{recommendations['requests_per_second']:,.1f} requests/s, **{ratio:.2f}×** the health endpoint's "
            f"{health['requests_per_second']:,.1f} (≥ 0.5×), search p50 **{serving['search']['p50_ms']:,.0f} ms** "
            f"(≤ 100), similar books {serving['similar']['p50_ms']:,.0f} ms, the map's data "
            f"{serving['map_points']['bytes'] / 2**20:.1f} MiB in {serving['map_points']['p50_ms'] / 1000:.1f} s; "
            f"{sum(serving[e]['errors'] for e in SERVED)} errors. Wall times are on the shared machine at the load "
            "above.")


def _exponent(value) -> str:
    if value is None:
        return ""
    return f"**{value:.2f}**" if value > 1.3 else f"{value:.2f}"


def _earlier_runs(name: str) -> dict:
    """The runs of ``bench/results/NAME.json``, each with when, at which commit and at what load it was measured."""
    from bench.support.common import RESULTS_DIR

    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    for run in document["runs"].values():
        run.setdefault("measured", _stamp(document["machine"]))
    return document["runs"]


def _stamp(machine: dict) -> dict:
    return {key: machine[key] for key in ("date", "git_commit", "load_average_at_start")}


def _run_json(command: list[str]) -> dict:
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
