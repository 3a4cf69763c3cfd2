"""A worker frozen (SIGSTOP) in the middle of a run, long enough for its run to be failed as stale and another
started, then resumed (SIGCONT): the old run stays failed and its version never goes live; the new one does.
A real worker process, real Redis, real TensorFlow."""
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from recommender.models import EmbeddingVersion, TrainingRun
from recommender.selectors import active_version
from recommender.services.training_runs import WORKER_STOPPED, training_run_request
from tests.faults.test_worker_killed import run_status, wait_for
from tests.recommender.planted import FAST_PARAMS, planted_catalogue, publish_planted_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_run_failed_while_its_worker_was_frozen_never_publishes_when_the_worker_resumes(start_worker, broker,
                                                                                          record_property):
    catalogue = planted_catalogue()
    live = publish_planted_version(catalogue)
    worker = start_worker("frozen-training@bookvec-tests")
    old_run = training_run_request(trigger="api", params={**FAST_PARAMS, "epochs": 40})
    wait_for(lambda: run_status(old_run.pk).status == "running" and run_status(old_run.pk).epoch >= 2,
             timeout=120, what="the run to be training")

    worker.process.send_signal(signal.SIGSTOP)
    try:
        # Frozen past DEAD_AFTER: its heartbeat is that old (set here rather than waited for).
        stale = timezone.now() - TrainingRun.DEAD_AFTER - timedelta(seconds=5)
        TrainingRun.objects.filter(pk=old_run.pk).update(heartbeat_at=stale, started_at=stale)
        new_run = training_run_request(trigger="api", params=FAST_PARAMS)  # fails the stale run, queues another
        assert run_status(old_run.pk).status == "failed"
    finally:
        worker.process.send_signal(signal.SIGCONT)
        resumed = time.monotonic()

    done = wait_for(lambda: (r := run_status(new_run.pk)).status not in TrainingRun.OPEN_STATUSES and r,
                    timeout=240, what="the new run to finish")
    assert done.status == "succeeded", done.error
    old = run_status(old_run.pk)
    assert old.status == "failed" and old.error == WORKER_STOPPED
    assert not EmbeddingVersion.objects.filter(training_run=old).exists()  # nothing of it published, or left
    assert active_version().training_run_id == new_run.pk != live.training_run_id
    assert "is no longer running" in worker.log.read_text()
    record_property("resume to the new run succeeded (s)", round(time.monotonic() - resumed, 1))
    record_property("old run", f"{old.status} ({old.error}); versions it left: 0; live: the new run's")
