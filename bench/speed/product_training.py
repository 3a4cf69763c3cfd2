"""The product's training run end to end, in a real Celery worker, at seed scale: time, stages and memory.

Starts a Celery worker on the ``training`` and ``default`` queues (``--pool=solo``, as the run command
does) against the scratch database and Redis, requests a run the way the admin and the API do
(``training_run_request``: a queued ``TrainingRun`` and a task on the ``training`` queue), waits for it,
and samples the worker's resident memory all along (its peak is the figure). The run reads the pairs
from PostgreSQL, trains with the default parameters, evaluates, computes the map, publishes and
activates a new embedding version, which the nearest-neighbour and HTTP benchmarks then use.

Usage: python -m bench.speed.product_training [--timeout 900]   (scratch environment: see bench.support.scratch)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from bench.support.common import PROJECT_DIR, WORK_DIR, RssSampler, write_result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the run")
    parser.add_argument("--params", default="{}", help="training parameters as JSON (smoke tests shrink them)")
    parser.add_argument("--name", default="product_training")
    args = parser.parse_args(argv)
    from bench.support.scratch import django_setup

    django_setup()
    figures = run(timeout=args.timeout, params=json.loads(args.params))
    path = write_result(args.name, figures)
    print(f"product training: {json.dumps(figures['summary'])}\n  -> {path}")


def run(*, timeout: float = 900.0, params: dict | None = None) -> dict:
    """Trains through a real worker and returns the figures; raises if the run does not succeed."""
    from recommender.models import TrainingRun
    from recommender.services.training_runs import training_run_request

    worker = start_worker("bench-training")
    try:
        with RssSampler(worker.pid) as memory:
            started = time.perf_counter()
            run = training_run_request(trigger=TrainingRun.Trigger.COMMAND, params=params or {})
            while time.perf_counter() - started < timeout:
                run.refresh_from_db()
                if run.status not in TrainingRun.OPEN_STATUSES:
                    break
                time.sleep(1.0)
            seconds = time.perf_counter() - started
    finally:
        stop_worker(worker)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise RuntimeError(f"training run {run.pk} ended {run.status} after {seconds:.0f} s: {run.error}")
    metrics = {key: value for key, value in run.metrics.items() if key not in ("live",)}
    return {
        "run_id": run.pk,
        "params": run.params,
        "seconds_request_to_done": round(seconds, 1),
        "stages_seconds": run.timings,
        "metrics": metrics,
        "loss_history": run.loss_history,
        "worker_peak_rss_mib": round(memory.peak_mib, 1),
        "summary": {"seconds": round(seconds, 1), "worker_peak_rss_mib": round(memory.peak_mib, 1),
                    "pairs_per_second": run.timings.get("pairs_per_second"),
                    "heldout_auc": metrics.get("heldout_auc"),
                    "same_author_precision@5": metrics.get("same_author_precision@5")},
    }


def start_worker(name: str, *, queues: str = "training,default") -> subprocess.Popen:
    """A Celery worker as ``scripts/run`` starts it (solo pool), logging to var/bench/<name>.log."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log = open(WORK_DIR / f"{name}.log", "w")
    worker = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "celery"), "-A", "config", "worker", f"--queues={queues}",
         "--pool=solo", "--concurrency=1", f"--hostname={name}@%h", "--loglevel=INFO", "--without-gossip",
         "--without-mingle"],
        cwd=PROJECT_DIR, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    return worker


def stop_worker(worker: subprocess.Popen, *, timeout: float = 30.0) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


if __name__ == "__main__":
    sys.exit(main())
