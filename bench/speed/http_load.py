"""HTTP under load: gunicorn serving the real app on the scratch database, driven by Debian's ``wrk``.

gunicorn runs ``config.wsgi`` as ``scripts/run`` does (sync workers, ``WEB_CONCURRENCY`` of them,
default 3) with DEBUG off and the API's throttling lifted (``bench.support.scratch.environment``). ``wrk`` runs
in another process on the same machine (so it takes CPU from the server: on 2 cores the figures are a
floor), each endpoint for ``--duration`` seconds at ``--connections`` connections after a short warm-up,
with the Lua scripts of ``bench/speed/wrk/``:

* ``GET /api/v1/books/{id}/similar/``: a random book of the active version each request;
* ``POST /api/v1/recommendations/``: 5 distinct random books, k=20;
* ``GET /books/{id}/``: the book page (HTML);
* ``GET /api/v1/health/``: the reference (database and broker pinged, workers asked);
* ``GET /static/...``: a static file through WhiteNoise, the floor of the stack (at most 10 s).

Each endpoint is checked once before the load (status 200, a non-empty JSON ``results`` where there is
one). Reported per endpoint: requests a second, latency p50/p90/p99, errors (socket errors, timeouts and
non-2xx/3xx statuses; they must be 0), and the largest gunicorn worker's peak resident memory.

Usage: python -m bench.speed.http_load [--duration 60] [--connections 32]   (scratch environment: see bench.support.scratch)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.support.common import PROJECT_DIR, WORK_DIR, RssSampler, write_result
from bench.support.scratch import manage

WRK_DIR = PROJECT_DIR / "bench" / "speed" / "wrk"
ENDPOINTS = ("similar", "recommendations", "book_page", "static", "health")
"""Health last: its slow answers leave requests queued in gunicorn after wrk stops, which would delay the next."""
APP_ENDPOINTS = ("similar", "recommendations", "book_page")
STATIC_SECONDS = 10
"""The static-file floor needs no full minute (it answers thousands a second)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 3)))
    parser.add_argument("--name", default="http")
    args = parser.parse_args(argv)
    figures = run(duration=args.duration, connections=args.connections, threads=args.threads, workers=args.workers)
    path = write_result(args.name, figures)
    print(f"http: {json.dumps(figures['summary'])}\n  -> {path}")


def ensure_wrk() -> str:
    """The path of ``wrk``; installs Debian's package when missing and this is root on Debian, else says how."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing Debian's wrk (apt-get install -y wrk) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("The HTTP benchmark needs wrk: install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) "
                     "or from https://github.com/wg/wrk, then run it again.")


def run(*, duration: int = 60, connections: int = 32, threads: int = 2, workers: int = 3, warmup: int = 2) -> dict:
    """Serves the app, loads each endpoint in turn and returns the figures."""
    wrk = ensure_wrk()
    book_ids = _books_with_vectors(os.environ["DATABASE_URL"])
    ids_file = WORK_DIR / "wrk_ids.lua"
    ids_file.parent.mkdir(parents=True, exist_ok=True)
    ids_file.write_text("book_ids = {" + ",".join(map(str, book_ids)) + "}\n")
    static_path = _static_path()
    manage(dict(os.environ), "collectstatic", "--no-input", "--verbosity", "0")  # WhiteNoise serves STATIC_ROOT
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, workers)
    results = {}
    try:
        wait_until_up(base + "/api/v1/health/", server)
        checks = _check_endpoints(base, book_ids, static_path)
        wrk_env = {**os.environ, "BOOKVEC_WRK_IDS": str(ids_file), "BOOKVEC_WRK_COMMON": str(WRK_DIR / "common.lua")}
        for endpoint in ENDPOINTS:
            script, extra_env = _script_for(endpoint, static_path)
            command = [wrk, f"-t{threads}", f"-c{connections}", "--timeout", "10s", "-s", str(script), base]
            env = {**wrk_env, **extra_env}
            subprocess.run([*command[:3], "-d", f"{warmup}s", *command[3:]], env=env, capture_output=True, check=True)
            seconds = min(duration, STATIC_SECONDS) if endpoint == "static" else duration
            with RssSampler(server.pid) as memory:
                output = subprocess.run([*command[:3], "-d", f"{seconds}s", *command[3:]], env=env,
                                        capture_output=True, text=True, check=True).stdout
            results[endpoint] = {**_parse(output), "check": checks[endpoint], "seconds": seconds,
                                 "largest_worker_peak_rss_mib": round(memory.largest_process_mib, 1),
                                 "all_processes_peak_rss_mib": round(memory.peak_mib, 1)}
    finally:
        stop_server(server)
    similar, health = results["similar"]["requests_per_second"], results["health"]["requests_per_second"]
    ratio = similar / health if health else None
    return {
        "duration_seconds": duration, "connections": connections, "wrk_threads": threads, "gunicorn_workers": workers,
        "gunicorn_worker_class": "sync", "books_in_id_pool": len(book_ids),
        "throttling": "lifted for the benchmark (API_ANON_RATE/API_USER_RATE)",
        "endpoints": results,
        "summary": {
            **{f"{name}_rps": round(r["requests_per_second"], 1) for name, r in results.items()},
            **{f"{name}_p50_ms": r["p50_ms"] for name, r in results.items()},
            "errors": sum(r["errors"] for r in results.values()),
            "app_errors": sum(results[name]["errors"] for name in APP_ENDPOINTS),
            "similar_vs_health": round(ratio, 2) if ratio is not None else None,
            "similar_vs_static": round(similar / results["static"]["requests_per_second"], 3)
            if results["static"]["requests_per_second"] else None,
            "target": "similar >= 0.5 x health; 0 errors on similar, recommendations and the book page",
            "met": ratio is not None and ratio >= 0.5 and all(results[name]["errors"] == 0 for name in APP_ENDPOINTS),
            "largest_worker_peak_rss_mib": max(r["largest_worker_peak_rss_mib"] for r in results.values()),
        },
    }


def _books_with_vectors(database_url: str) -> list[int]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT bv.book_id FROM recommender_bookvector bv"
            " JOIN recommender_embeddingversion v ON v.id = bv.version_id"
            " WHERE v.is_active ORDER BY bv.book_id"
        ).fetchall()
    if not rows:
        raise SystemExit("no active embedding version in the scratch database: train one first")
    return [row[0] for row in rows]


def _static_path() -> str:
    candidates = sorted(p for p in (PROJECT_DIR / "static").rglob("*.css") if p.is_file())
    if not candidates:
        raise SystemExit("no static file to serve")
    return "/static/" + candidates[0].relative_to(PROJECT_DIR / "static").as_posix()


def _script_for(endpoint: str, static_path: str) -> tuple[Path, dict[str, str]]:
    if endpoint == "health":
        return WRK_DIR / "fixed_path.lua", {"BOOKVEC_WRK_PATH": "/api/v1/health/"}
    if endpoint == "static":
        return WRK_DIR / "fixed_path.lua", {"BOOKVEC_WRK_PATH": static_path}
    return WRK_DIR / f"{endpoint}.lua", {}


def _check_endpoints(base: str, book_ids: list[int], static_path: str) -> dict[str, str]:
    """One request to each endpoint: it must answer 200 (and JSON results where the endpoint has them)."""
    book = book_ids[len(book_ids) // 2]
    body = json.dumps({"books": book_ids[:5], "k": 20}).encode()
    requests = {
        "similar": urllib.request.Request(f"{base}/api/v1/books/{book}/similar/"),
        "recommendations": urllib.request.Request(f"{base}/api/v1/recommendations/", data=body,
                                                  headers={"Content-Type": "application/json"}),
        "book_page": urllib.request.Request(f"{base}/books/{book}/"),
        "health": urllib.request.Request(f"{base}/api/v1/health/"),
        "static": urllib.request.Request(base + static_path),
    }
    checks = {}
    for name, request in requests.items():
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{name}: {request.full_url} answered {error.code}: {error.read()[:500]!r}") from None
        detail = f"{status}, {len(payload)} bytes"
        if name in ("similar", "recommendations"):
            results = json.loads(payload)["results"]
            if not results:
                raise RuntimeError(f"{name}: {request.full_url} returned no results")
            detail += f", {len(results)} results"
        checks[name] = detail
    return checks


def _parse(output: str) -> dict:
    line = next((line for line in output.splitlines() if line.startswith("BOOKVEC_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")
    raw = json.loads(line.removeprefix("BOOKVEC_RESULT "))
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["status_errors"] + raw["timeouts"]
    return {
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2), "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2), "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
        "error_breakdown": {key: raw[key] for key in ("connect_errors", "read_errors", "write_errors",
                                                       "status_errors", "timeouts")},
    }


@contextlib.contextmanager
def app_served(env: dict[str, str], workers: int = 2):
    """gunicorn serving the app on the database and broker of ``env`` (a scratch database's, see
    ``bench.support.scratch.fresh_database``); yields an HTTP connection to it and stops it afterwards."""
    port = free_port()
    server = start_gunicorn(port, workers, env={**os.environ, **env})
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/health/", server)
        yield http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    finally:
        stop_server(server)


def request_json(connection: http.client.HTTPConnection, method: str, path: str,
                 body: dict | None = None) -> tuple[int, dict]:
    """One JSON request on ``connection``: (status, decoded answer; {} unless the status is 200)."""
    connection.request(method, path, body=None if body is None else json.dumps(body),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    return response.status, json.loads(payload) if response.status == 200 else {}


def start_gunicorn(port: int, workers: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    log = open(WORK_DIR / "gunicorn.log", "w")
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--timeout", "60", "--backlog", "2048"],
        cwd=PROJECT_DIR, env=os.environ.copy() if env is None else env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    return server


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}); see {WORK_DIR / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
