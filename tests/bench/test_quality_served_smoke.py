"""A small smoke version of the served shelf-quality benchmark, on the bundled goodbooks sample: held-out
readers are left out of the import, the product trains, and their shelves are POSTed to the real API."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.embedded import VAR_DIR, stop_embedded_servers

PROJECT_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def bench_dirs():
    work = VAR_DIR / f"bench-served-smoke-{os.getpid()}"
    yield work, work / "results"
    stop_embedded_servers(work / "pgdata", work / "redis")
    shutil.rmtree(work, ignore_errors=True)


def test_held_out_readers_shelves_are_scored_through_the_api(bench_dirs):
    work, results = bench_dirs
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(BOOKVEC_BENCH_DIR=str(work), BOOKVEC_BENCH_RESULTS=str(results))

    finished = subprocess.run(
        [sys.executable, "-m", "bench.quality_served", "--data", str(PROJECT_DIR / "data" / "goodbooks"),
         "--validation-users", "60", "--tuning-users", "20",
         "--params", '{"epochs": 1, "embedding_dim": 8}'],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900,
    )

    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    figures = json.loads((results / "quality_served.json").read_text())
    assert figures["readers"] == 60 and figures["http_errors"] == 0
    assert 0 <= figures["served_recall@20"] <= 1 and 0 <= figures["popularity_recall@20"] <= 1
    assert figures["held_out_readers"] == 80 and figures["rows_left_out"] > 0
