"""Faults and bad input, as a table: the slow, disruptive one here, the quick ones from the test suite.

* PostgreSQL stopped while the site serves (here, on the scratch installation): gunicorn serves the real
  app; the database server is shut down ("fast" shutdown, every connection cut); health must say 503,
  pages and API calls must answer a clean error quickly (no traceback, no hang); then PostgreSQL starts
  again and everything must answer 200 again within 30 s, from the same gunicorn processes.
* The quick faults are tests (``tests/faults/``, plus the importers' property-based tests in
  ``tests/books/``): they run here under pytest and each becomes a row with its result.

Usage: python -m bench.faults.outages [--skip-tests]   (scratch environment with an imported catalogue: see bench.support.scratch)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree

from bench.speed.http_load import free_port, start_gunicorn, stop_server, wait_until_up
from bench.support.common import PROJECT_DIR, PYTHON, WORK_DIR, write_result

QUICK_FAULTS = (
    ("tests/faults/test_worker_killed.py::test_a_killed_worker_leaves_the_live_version_serving_and_its_run_failed",
     "Celery worker SIGKILLed in the middle of a training run",
     "live version and its answers unchanged; the run stays 'running' until the worker restarts, then is failed "
     "with 'worker stopped during training'; the next run through the restarted worker succeeds"),
    ("tests/faults/test_broker_down.py::"
     "test_a_retrain_request_with_redis_down_is_refused_clearly_and_works_once_redis_is_back",
     "Redis stopped, then started again",
     "retrain request answers 503 'could not be queued ... Redis'; the run is on record as failed and blocks "
     "nothing; health 503 (broker down); after Redis returns the request is 202 and its task is in the queue"),
    ("tests/faults/test_concurrent_requests.py::test_two_retrain_requests_at_once_queue_exactly_one_run",
     "Two retrain requests at the same moment (3 rounds)",
     "one 202 and one 409 each round, exactly one open run, exactly one task queued per accepted request"),
    ("tests/faults/test_concurrent_requests.py::"
     "test_two_clients_editing_one_readers_shelves_at_once_lose_and_duplicate_nothing",
     "Two clients of one reader editing the same shelves at once",
     "24 books added by both (4 by each): all 24 once; a move, a rating, a removal and a new shelf at once: "
     "each applied exactly once"),
    ("tests/books/test_importers_wikipedia.py::test_any_corrupted_line_fails_with_its_line_number_and_writes_nothing",
     "Wikipedia importer fed property-based corrupted lines (hypothesis)",
     "a clear error naming the line, no traceback, nothing written"),
    ("tests/faults/test_importer_fuzz.py", "goodbooks importer fed property-based corrupted CSV rows (hypothesis)",
     "a clear error naming the file and line, nothing written"),
    ("tests/faults/test_supervisor.py::test_killed_children_come_back_and_sigterm_stops_everything",
     "worker SIGKILL under make run",
     "a real make run (supervisord): kill -9 the training worker, the default worker, then gunicorn's master: the "
     "site answers within 10 s and the killed process is started again; SIGTERM stops everything (embedded "
     "servers included) and make exits 0"),
    ("tests/faults/test_frozen_worker.py",
     "frozen worker resumes after its run was failed",
     "SIGSTOP the training worker mid-run, its run failed as stale and another requested, SIGCONT: the old run "
     "stays failed with its error, publishes nothing, never goes live; the new run succeeds and goes live"),
    ("tests/faults/test_throttle_burst.py::"
     "test_password_guesses_with_spoofed_forwarded_for_are_throttled_as_one_client",
     "spoofed X-Forwarded-For",
     "real gunicorn, NUM_PROXIES 0: 51 wrong-password token requests, each with a different X-Forwarded-For, at "
     "20/minute: 20 answered, the rest 429, and the right password with a new spoofed header is throttled too"),
    ("tests/web/test_account_limits.py::test_a_sign_in_brute_force_at_the_deployed_limits",
     "site sign-in brute force",
     "92 wrong passwords for one account from one client at the deployed limits: 10 answered, the rest refused "
     "with the wait; per client and password-reset limits in the same file"),
    ("tests/faults/test_throttle_burst.py::test_a_concurrent_anonymous_burst_gets_exactly_the_rate",
     "concurrent anonymous burst",
     "real gunicorn (3 workers), 64 anonymous requests on 32 connections at once against 5/minute: exactly 5 "
     "answered"),
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-tests", action="store_true", help="only the PostgreSQL fault")
    parser.add_argument("--tests-only", action="store_true",
                        help="only the fault tests; the PostgreSQL row is kept from the last result")
    parser.add_argument("--name", default="faults")
    args = parser.parse_args(argv)
    rows = _previous_rows(args.name) if args.tests_only else [postgres_stopped_while_serving()]
    if not args.skip_tests:
        rows += quick_faults()
    checked = [row for row in rows if row["result"] != "info"]
    passed = sum(row["result"] == "passed" for row in checked)
    figures = {"faults": rows, "summary": {"faults": len(checked), "passed": passed}}
    path = write_result(args.name, figures)
    print(f"faults: {json.dumps(figures['summary'])}\n  -> {path}")


def _previous_rows(name: str) -> list[dict]:
    """The last result's rows that are not tests (the PostgreSQL fault), marked with that run's date."""
    from bench.common import RESULTS_DIR

    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return []
    previous = json.loads(path.read_text())
    tests = {node for node, _, _ in QUICK_FAULTS} | {"tests/faults/"}
    return [{**row, "measured": row.get("measured", previous["machine"]["date"])}
            for row in previous["faults"] if row["where"] not in tests]


def postgres_stopped_while_serving(*, recovery_timeout: float = 30.0) -> dict:
    """Stops the scratch PostgreSQL under a serving gunicorn and checks the site's answers and its recovery."""
    from bench.support import scratch

    book = _any_book(os.environ["DATABASE_URL"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, 2)
    observations: dict[str, object] = {}
    problems: list[str] = []
    try:
        wait_until_up(base + "/api/v1/health/", server)
        pages = {"health": "/api/v1/health/", "book page": f"/books/{book}/",
                 "similar API": f"/api/v1/books/{book}/similar/"}
        before = {name: _get(base + path) for name, path in pages.items()}
        workers_before = _worker_pids(server.pid)
        observations["before"] = {name: answer["status"] for name, answer in before.items()}
        problems += [f"{name} answered {a['status']} before the fault"
                     for name, a in before.items() if a["status"] != 200]

        scratch.stop_servers_postgres_only()
        during = {name: _get(base + path) for name, path in pages.items()}
        observations["during"] = {name: {"status": a["status"], "seconds": a["seconds"], "snippet": a["body"][:160]}
                                  for name, a in during.items()}
        if during["health"]["status"] != 503 or '"database"' not in during["health"]["body"]:
            problems.append(f"health answered {during['health']['status']} with the database down")
        for name in ("book page", "similar API"):
            answer = during[name]
            if answer["status"] < 500 or "Traceback" in answer["body"] or answer["seconds"] > 10:
                problems.append(f"{name}: {answer['status']} in {answer['seconds']:.1f} s with the database down")
        if "<html" not in during["book page"]["body"].lower():
            problems.append("the book page's error is not an HTML page")
        if '"detail"' not in during["similar API"]["body"]:
            problems.append("the API's error is not JSON with a detail")

        restarted = time.perf_counter()
        scratch.start_servers()
        recovered = _wait_for_200(base + "/api/v1/health/", recovery_timeout)
        observations["recovery_seconds"] = round(time.perf_counter() - restarted, 2) if recovered else None
        after = {name: _get(base + path) for name, path in pages.items()}
        observations["after"] = {name: answer["status"] for name, answer in after.items()}
        problems += [f"{name} answered {a['status']} after PostgreSQL returned" for name, a in after.items()
                     if a["status"] != 200]
        same_processes = _worker_pids(server.pid) == workers_before and server.poll() is None
        observations["same_gunicorn_processes"] = same_processes
        if not same_processes:
            problems.append("gunicorn's workers were replaced")
    finally:
        scratch.start_servers()
        stop_server(server)
    return {
        "fault": "PostgreSQL stopped while the site serves, then started again",
        "checked": "health 503 naming the database; book page a clean HTML error page and the API a JSON error, "
                   "each within 10 s; after restart everything 200 within 30 s from the same gunicorn workers",
        "result": "passed" if not problems else "failed: " + "; ".join(problems),
        "observations": observations,
        "where": "bench/faults/outages.py (scratch installation, gunicorn with 2 workers)",
    }


def quick_faults() -> list[dict]:
    """Runs the quick fault tests under pytest and returns one row each, with its result."""
    report = WORK_DIR / "faults-junit.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}  # the suite's own servers
    nodes = [node for node, _, _ in QUICK_FAULTS if (PROJECT_DIR / node.split("::")[0]).exists()]
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    "-o", "junit_family=xunit1", *nodes],  # xunit1 keeps the figures tests record (record_property)
                   cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    outcomes, figures = _junit_outcomes(report) if report.exists() else ({}, {})
    rows = []
    for node, fault, checked in QUICK_FAULTS:
        matching = [outcome for name, outcome in outcomes.items() if name == node or name.startswith(node + "::")]
        if not (PROJECT_DIR / node.split("::")[0]).exists():
            result = "not run: the test file does not exist"
        elif not matching:
            result = "not run (see pytest's output)"
        elif all(outcome == "passed" for outcome in matching):
            result = "passed"
        else:
            result = "failed: " + "; ".join(outcome for outcome in matching if outcome != "passed")
        measured = {key: value for name, found in figures.items() if name == node or name.startswith(node + "::")
                    for key, value in found.items()}
        rows.append({"fault": fault, "checked": checked, "result": result, "where": node,
                     "tests": len(matching), **({"figures": measured} if measured else {})})
    rows.append({"fault": "(all quick fault tests)", "checked": f"pytest wall time {seconds:.0f} s", "result": "info",
                 "where": "tests/faults/"})
    return rows


def _junit_outcomes(report) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Each test's outcome, and the figures it recorded (``record_property``), by node id."""
    outcomes, figures = {}, {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        name = case.get("name", "").split("[")[0]
        node = f"{path}.py::{name}"
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        if failure is not None:
            outcome = (failure.get("message") or "failed")[:300]
        elif case.find("skipped") is not None:
            outcome = "skipped: " + (case.find("skipped").get("message") or "")[:200]
        else:
            outcome = "passed"
        outcomes[node] = outcome if node not in outcomes or outcome != "passed" else outcomes[node]
        figures.setdefault(node, {}).update({p.get("name"): p.get("value") for p in case.iter("property")})
    return outcomes, figures


def _get(url: str) -> dict:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        status, body = 0, str(error).encode()
    return {"status": status, "body": body.decode("utf-8", "replace"), "seconds": time.perf_counter() - started}


def _wait_for_200(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _get(url)["status"] == 200:
            return True
        time.sleep(0.5)
    return False


def _worker_pids(master: int) -> set[int]:
    import psutil

    return {child.pid for child in psutil.Process(master).children()}


def _any_book(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT id FROM books_book ORDER BY id LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("the scratch database has no books: import some first")
    return row[0]


if __name__ == "__main__":
    sys.exit(main())
