"""Training runs, web side: requesting one, cancelling it, and failing runs whose worker died.

A request creates a ``TrainingRun`` (status queued) and enqueues ``train_embeddings_task`` once the row is
committed. The database allows one open (queued or running) run at a time, so a second request is refused.
The worker executes it (``recommender.services.training_pipeline``).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from kombu.utils.url import maybe_sanitize_url

from config.errors import InvalidInput, ServiceDown, StateConflict
from recommender.models import EmbeddingVersion, TrainingRun
from recommender.services.versions import version_discard
from recommender.training.params import TrainingParamInvalid, TrainingParams

logger = logging.getLogger(__name__)

Status = TrainingRun.Status

WORKER_STOPPED = "worker stopped during training"
HAS_ENDED = {
    Status.SUCCEEDED: "has already succeeded", Status.FAILED: "has already failed",
    Status.CANCELLED: "has already been cancelled",
}
"""What a finished run has done, for the refusal to cancel it: "Run 2 has already succeeded; …"."""


class TrainingRunError(StateConflict):
    """A training-run request or change that cannot be done; the message says why."""


class TrainingParamsInvalid(TrainingRunError, InvalidInput):
    """A training parameter is unknown or out of range; the message names it, and ``name`` is the one out of range
    (None for unknown ones)."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name
        self.field_path = ("params", name) if name else ("params",)


class TrainingRunConflict(TrainingRunError):
    """Another run is queued or running."""


class TrainingQueueUnavailable(TrainingRunError, ServiceDown):
    """The Celery broker could not be reached; the run was marked failed and nothing else changed."""


def training_params_validate(params: dict | None) -> dict:
    """Every hyper-parameter, defaults filled in, as JSON; raises TrainingParamsInvalid naming a bad field."""
    try:
        return TrainingParams.from_dict(dict(params or {})).to_dict()
    except TrainingParamInvalid as error:
        raise TrainingParamsInvalid(f"Invalid training parameters: {error}", name=error.name) from None
    except (TypeError, ValueError) as error:
        raise TrainingParamsInvalid(f"Invalid training parameters: {error}") from None


def training_run_request(*, trigger: str, requested_by=None, params: dict | None = None,
                         enqueue: bool = True) -> TrainingRun:
    """Creates a queued run and, once committed, hands it to the ``training`` queue.

    Raises TrainingParamsInvalid for a bad parameter, TrainingRunConflict when a run is already queued or
    running, and TrainingQueueUnavailable when the broker is down (the run is then marked failed).
    ``enqueue=False`` leaves the run for the caller to execute in-process (``train_embeddings --sync``).
    """
    if trigger not in TrainingRun.Trigger.values:
        raise TrainingRunError(f"Unknown trigger {trigger!r}; expected one of {', '.join(TrainingRun.Trigger.values)}.")
    full_params = training_params_validate(params)
    training_runs_fail_dead()
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                trigger=trigger,
                requested_by=requested_by if requested_by is not None and requested_by.is_authenticated else None,
                params=full_params,
                epochs=full_params["epochs"],
                stage="queued" if enqueue else "starting in this process",
            )
            if enqueue:
                transaction.on_commit(lambda: _enqueue(run))
    except IntegrityError:
        raise TrainingRunConflict(_conflict_message()) from None
    return run


@transaction.atomic
def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """Cancels a queued run at once; asks a running one to stop (it stops at its next progress report)."""
    locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if locked.status == Status.QUEUED:
        locked.status = Status.CANCELLED
        locked.cancel_requested = True
        locked.finished_at = timezone.now()
        locked.stage = "cancelled before it started"
        locked.save(update_fields=["status", "cancel_requested", "finished_at", "stage"])
    elif locked.status == Status.RUNNING:
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
    else:
        raise TrainingRunError(f"Run {locked.pk} {HAS_ENDED[locked.status]}; "
                               "only a queued or running run can be cancelled.")
    return locked


def training_runs_fail_dead(*, worker: str | None = None) -> list[int]:
    """Marks failed the runs no worker will finish; returns their ids.

    These are running runs no longer ``TrainingRun.running_alive``, running runs of ``worker`` (a worker
    that is just starting cannot be executing anything), and queued runs older than the training time
    limit (their task was lost). Their unfinished versions are deleted.
    """
    now = timezone.now()
    with transaction.atomic():
        running = TrainingRun.objects.select_for_update(skip_locked=True).filter(status=Status.RUNNING)
        stale = running.exclude(pk__in=TrainingRun.running_alive(now).values("pk"))
        if worker:
            stale = stale | running.filter(worker=worker)
        dead_ids = list(stale.values_list("pk", flat=True))
        TrainingRun.objects.filter(pk__in=dead_ids).update(
            status=Status.FAILED, error=WORKER_STOPPED, stage="failed", finished_at=now)
        lost_ids = list(TrainingRun.objects.select_for_update(skip_locked=True).filter(
            status=Status.QUEUED, queued_at__lt=now - timedelta(seconds=settings.TRAINING_TIME_LIMIT),
        ).values_list("pk", flat=True))
        TrainingRun.objects.filter(pk__in=lost_ids).update(
            status=Status.FAILED, stage="failed", finished_at=now,
            error=f"no worker picked the run up within {settings.TRAINING_TIME_LIMIT} s (its task was lost)")
    for version in EmbeddingVersion.objects.filter(training_run_id__in=dead_ids, is_ready=False):
        version_discard(version=version)
    if dead_ids or lost_ids:
        logger.warning("Marked training runs %s failed: their worker is gone.", dead_ids + lost_ids)
    return dead_ids + lost_ids


TRAIN_TASK = "recommender.tasks.train_embeddings_task"
"""Sent by name: ``recommender.tasks`` is the layer above, which calls these services."""


def _enqueue(run: TrainingRun) -> None:
    try:
        result = current_app.send_task(TRAIN_TASK, args=[run.pk], retry=False)
    except (BrokerError, ConnectionError, OSError) as error:
        broker = maybe_sanitize_url(current_app.conf.broker_write_url or "")
        message = f"could not be queued: Redis at {broker} is unreachable ({error})"
        TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.FAILED, stage="failed", error=message, finished_at=timezone.now())
        raise TrainingQueueUnavailable(
            f"Run {run.pk} {message}. Start Redis (and a worker), then request the run again."
        ) from error
    TrainingRun.objects.filter(pk=run.pk).update(celery_task_id=result.id)
    run.celery_task_id = result.id


def _conflict_message() -> str:
    open_run = TrainingRun.objects.filter(status__in=TrainingRun.OPEN_STATUSES).order_by("pk").first()
    if open_run is None:
        return "Another training run was requested at the same moment; try again."
    return (f"Run {open_run.pk} is already {open_run.status}; wait for it to finish or cancel it "
            f"before requesting another.")


