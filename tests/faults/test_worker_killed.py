"""SIGKILL the Celery worker in the middle of a training run: the live version keeps serving, the run ends
up failed once a worker is back, and the next run succeeds (a real worker process, real Redis, real TensorFlow)."""
import time

import pytest

from recommender.models import BookVector, EmbeddingVersion, TrainingRun
from recommender.selectors import active_version, similar_books
from recommender.services.training_runs import WORKER_STOPPED, training_run_request
from tests.recommender.planted import FAST_PARAMS, planted_catalogue, publish_planted_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HOSTNAME = "fault-training@bookvec-tests"


def wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def run_status(run_id: int) -> TrainingRun:
    return TrainingRun.objects.get(pk=run_id)


def test_a_killed_worker_leaves_the_live_version_serving_and_its_run_failed(start_worker, broker):
    catalogue = planted_catalogue()
    live = publish_planted_version(catalogue)
    book = catalogue.books[0]
    served_before = [(n.book.pk, round(n.similarity, 6)) for n in similar_books(book=book, k=5)]

    worker = start_worker(HOSTNAME)
    long_run = training_run_request(trigger="api", params={**FAST_PARAMS, "epochs": 10_000})
    wait_for(lambda: run_status(long_run.pk).status == "running" and run_status(long_run.pk).epoch >= 2,
             timeout=120, what="the run to be training")
    worker.kill()

    # The live version serves exactly as before; nothing of the killed run went live.
    assert active_version().pk == live.pk
    assert [(n.book.pk, round(n.similarity, 6)) for n in similar_books(book=book, k=5)] == served_before
    assert not EmbeddingVersion.objects.filter(is_ready=True).exclude(pk=live.pk).exists()
    assert run_status(long_run.pk).status == "running"  # nobody has noticed yet

    # The worker comes back under the same name: it fails the run it can no longer be executing.
    start_worker(HOSTNAME)
    failed = wait_for(lambda: (r := run_status(long_run.pk)).status == "failed" and r,
                      timeout=60, what="the killed run to be marked failed")
    assert failed.error == WORKER_STOPPED and failed.finished_at is not None
    assert active_version().pk == live.pk

    # The next run goes through the restarted worker and succeeds.
    next_run = training_run_request(trigger="api", params=FAST_PARAMS)
    done = wait_for(lambda: (r := run_status(next_run.pk)).status not in TrainingRun.OPEN_STATUSES and r,
                    timeout=180, what="the next run to finish")
    assert done.status == "succeeded", done.error
    assert EmbeddingVersion.objects.get(training_run=done).is_ready


@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGINT"])
def test_stopping_a_sync_training_cancels_its_run_at_once(stop_signal):
    """``train_embeddings --sync`` stopped with SIGTERM or Ctrl-C: its run is cancelled before the process ends,
    so the next request is not refused for two minutes while a dead run's heartbeat goes stale."""
    import json
    import signal
    import subprocess
    import sys

    from tests.support import PROJECT_DIR, worker_environment

    catalogue = planted_catalogue()
    live = publish_planted_version(catalogue)
    command = [sys.executable, "manage.py", "train_embeddings", "--sync", "--verbosity", "0",
               "--param", f"epochs={10_000}", *(f"--param={key}={json.dumps(value)}" for key, value in FAST_PARAMS.items()
                                                 if key != "epochs")]
    # As from a terminal: a suite started in the background (``make test &``) ignores SIGINT, and so would the child.
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=worker_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        run = wait_for(lambda: TrainingRun.objects.filter(status="running", epoch__gte=2).first(),
                       timeout=120, what="the sync run to be training")
        process.send_signal(getattr(signal, stop_signal))
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 1 and f"Training run {run.pk} cancelled: this process was interrupted." in stderr
    assert "Traceback" not in stderr
    assert run_status(run.pk).status == "cancelled"
    assert active_version().pk == live.pk
    assert training_run_request(trigger="api", params=FAST_PARAMS, enqueue=False).status == "queued"


def test_a_worker_killed_while_its_version_is_indexed_leaves_nothing_that_can_go_live(start_worker, broker):
    """Killed while its new version's book index is being built (on a connection of its own, beside the prediction
    stage): the live version serves on, the half-published version is never ready and is deleted when the run is
    failed, and the next run succeeds."""
    import psycopg
    from django.db import connection

    catalogue = planted_catalogue()
    live = publish_planted_version(catalogue)
    params = connection.get_connection_params()
    with psycopg.connect(**params) as writer, psycopg.connect(**params, autocommit=True) as observer:
        # A writer's lock on the book vectors, as an import placing new books holds: the COPY goes on beside it,
        # CREATE INDEX waits for it, so the worker is killed while its index build is under way.
        writer.execute("LOCK TABLE recommender_bookvector IN ROW EXCLUSIVE MODE")
        worker = start_worker(HOSTNAME)
        run = training_run_request(trigger="api", params=FAST_PARAMS)
        wait_for(lambda: observer.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                          " AND query ILIKE 'CREATE INDEX%%'").fetchone()[0],
                 timeout=180, what="the run's book index build")
        written = EmbeddingVersion.objects.get(training_run_id=run.pk)
        worker.kill()
        writer.rollback()

    assert active_version().pk == live.pk
    assert [(n.book.pk, round(n.similarity, 6)) for n in similar_books(book=catalogue.books[0], k=5)]
    assert not EmbeddingVersion.objects.get(pk=written.pk).is_ready, "ready only at the run's very end"
    start_worker(HOSTNAME)
    wait_for(lambda: run_status(run.pk).status == "failed", timeout=60, what="the killed run to be marked failed")
    assert not EmbeddingVersion.objects.filter(pk=written.pk).exists(), "a dead run's unfinished version is deleted"
    assert not BookVector.objects.filter(version_id=written.pk).exists()
    next_run = training_run_request(trigger="api", params=FAST_PARAMS)
    done = wait_for(lambda: (r := run_status(next_run.pk)).status not in TrainingRun.OPEN_STATUSES and r,
                    timeout=180, what="the next run to finish")
    assert done.status == "succeeded", done.error
    assert active_version().training_run_id == done.pk
