"""The Celery side: a real worker executes a requested run end to end; a broker that is down is reported."""
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import worker_ready
from django.utils import timezone

from config.celery_app import app as celery_app
from recommender import tasks as recommender_tasks  # noqa: F401  (connects the worker_ready handler, as a worker does)
from recommender.models import TrainingRun
from recommender.selectors import active_version, similar_books
from recommender.services.training_runs import (
    WORKER_STOPPED,
    TrainingQueueUnavailable,
    training_run_cancel,
    training_run_request,
)
from tests.recommender.planted import FAST_PARAMS, planted_catalogue

FINISHED = {TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED}


def wait_until_finished(run_id: int, timeout: float = 180) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in FINISHED:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def use_broker(url: str | None) -> None:
    celery_app.conf.broker_write_url = url  # what tasks are sent to (broker_url follows the environment)
    celery_app._pool = None  # the connection and producer pools keep the old URL
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The Celery app pointed at a port where no Redis listens (a real connection attempt that fails).

    Yields a function that brings the real broker back."""
    use_broker("redis://127.0.0.1:9/0")
    yield lambda: use_broker(None)
    use_broker(None)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_requested_run_is_trained_by_a_real_worker_and_goes_live():
    catalogue = planted_catalogue()
    celery_app.control.purge()  # tasks that earlier tests queued refer to rows rolled back since

    run = training_run_request(trigger="api", params=FAST_PARAMS)  # enqueued once committed (autocommit)
    assert run.celery_task_id

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        finished = wait_until_finished(run.pk)

    assert finished.status == TrainingRun.Status.SUCCEEDED, finished.error
    assert finished.worker and finished.started_at and finished.finished_at
    assert len(finished.loss_history) == FAST_PARAMS["epochs"]
    assert active_version().training_run_id == run.pk
    assert len(similar_books(book=catalogue.books[0], k=5)) == 5


@pytest.mark.django_db(transaction=True)
def test_a_request_while_the_broker_is_down_fails_the_run_clearly_and_a_later_request_works(broker_down):
    with pytest.raises(TrainingQueueUnavailable, match=r"could not be queued: Redis at redis://127.0.0.1:9/0"):
        training_run_request(trigger="admin", params=FAST_PARAMS)

    failed = TrainingRun.objects.get()
    assert failed.status == TrainingRun.Status.FAILED
    assert failed.error.startswith("could not be queued: Redis at redis://127.0.0.1:9/0 is unreachable")


    broker_down()  # Redis is back
    again = training_run_request(trigger="admin", params=FAST_PARAMS)
    assert again.celery_task_id and TrainingRun.objects.get(pk=again.pk).status == TrainingRun.Status.QUEUED
    training_run_cancel(run=again)  # leave nothing for a later worker to train


class StartingConsumer:
    """What a worker sends ``worker_ready`` with (its consumer), as far as the handler reads it."""

    hostname = "training@bookvec-1"


@pytest.mark.django_db
def test_a_starting_worker_fails_the_runs_it_was_executing():
    now = timezone.now()
    run = TrainingRun.objects.create(trigger="admin", status="running", started_at=now, heartbeat_at=now,
                                     worker="training@bookvec-1")

    worker_ready.send(sender=StartingConsumer())

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and run.error == WORKER_STOPPED


@pytest.mark.django_db
def test_the_scheduled_task_requests_a_run_unless_one_is_open():
    from recommender.tasks import scheduled_training_task

    run_id = scheduled_training_task()

    assert TrainingRun.objects.get(pk=run_id).trigger == "schedule"
    assert scheduled_training_task() is None
    assert TrainingRun.objects.count() == 1
