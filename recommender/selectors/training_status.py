"""Reads of the state of training: the live version, the open run and its progress, busy workers."""
from __future__ import annotations

from django.utils import timezone

from recommender.models import TrainingRun
from recommender.selectors.versions import active_version


def training_status() -> dict:
    """What the home page and the staff status page show: the live version, and the open run if any."""
    version = active_version()
    run = TrainingRun.objects.filter(status__in=TrainingRun.OPEN_STATUSES).order_by("pk").first()
    return {
        "active_version": None if version is None else {
            "id": version.pk,
            "trained_at": version.created_at,
            "activated_at": version.activated_at,
            "book_count": version.book_count,
            "link_count": version.link_count,
            "dimensions": version.dimensions,
            "ann_recall_at_10": version.ann_recall_at_10,
            "metrics": version.metrics,
            "training_run_id": version.training_run_id,
        },
        "open_run": None if run is None else training_run_progress(run=run),
    }


def workers_busy_training() -> dict[str, int]:
    """{Celery worker ("name@host"): the id of the run it is executing}, for runs still alive. Such a worker, busy
    in its solo pool, does not answer a ping while it trains."""
    running = TrainingRun.running_alive(timezone.now()).filter(worker__contains="@")
    return dict(running.order_by("pk").values_list("worker", "pk"))


def training_run_progress(*, run: TrainingRun) -> dict:
    """A run's live progress: status, stage, epoch/step, the share done (0..1) and the loss so far."""
    total = run.epochs * run.steps_per_epoch
    done = max(run.epoch - 1, 0) * run.steps_per_epoch + run.step if run.epoch else 0
    if run.status == TrainingRun.Status.SUCCEEDED:
        fraction = 1.0
    else:
        fraction = min(done / total, 1.0) if total else 0.0
    return {
        "id": run.pk,
        "status": run.status,
        "stage": run.stage,
        "trigger": run.trigger,
        "epoch": run.epoch,
        "epochs": run.epochs,
        "step": run.step,
        "steps_per_epoch": run.steps_per_epoch,
        "fraction_done": fraction,
        "loss_history": run.loss_history,
        "cancel_requested": run.cancel_requested,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "heartbeat_at": run.heartbeat_at,
    }
