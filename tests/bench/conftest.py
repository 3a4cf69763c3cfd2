"""Smoke runs of the benchmarks: each on scratch servers and a results folder of its own, apart from a real
`make bench` (var/bench, bench/results), removed afterwards."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.embedded import VAR_DIR, stop_embedded_servers
from tests.support import PROJECT_DIR


@pytest.fixture
def run_bench(request):
    """``run_bench("bench.module", *args)`` runs that benchmark, asserts it exited 0 and returns the folder
    its results went to."""
    work = VAR_DIR / f"bench-smoke-{request.node.name[:40]}-{os.getpid()}"
    results = work / "results"
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(BOOKVEC_BENCH_DIR=str(work), BOOKVEC_BENCH_RESULTS=str(results))

    def run(module: str, *args: str) -> Path:
        finished = subprocess.run([sys.executable, "-m", module, *args], cwd=PROJECT_DIR, env=env,
                                  capture_output=True, text=True, timeout=900)
        assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
        return results

    yield run
    stop_embedded_servers(work / "pgdata", work / "redis")
    shutil.rmtree(work, ignore_errors=True)
