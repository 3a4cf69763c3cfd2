"""Fencing of training runs: a run writes, publishes and activates only while it is still the live, running one.

A worker frozen (SIGSTOP, a stalled VM) past ``TrainingRun.DEAD_AFTER`` has its run failed by the next request,
which starts another. When the frozen worker resumes, every write of its run goes through here and finds the
run no longer running: it stops (RunFenced) without touching the row, so the run stays failed, with its own
error, and its version never goes live. Each check and the write it guards are one statement or one
transaction holding the run's row lock, so a run cannot be failed between them.
"""
from django.db import transaction
from django.utils import timezone

from recommender.models import EmbeddingVersion, TrainingRun

RUNNING = TrainingRun.Status.RUNNING


class RunFenced(Exception):
    """The run is no longer running (failed as stale, or ended otherwise): it must not write anything more."""

    def __init__(self, run_id: int):
        super().__init__(f"training run {run_id} is no longer running (failed or ended meanwhile); "
                         "it stops without publishing")
        self.run_id = run_id


def run_update_if_running(run_id: int, **fields) -> bool:
    """Updates the run (with a fresh heartbeat) only while it is running; returns whether it was."""
    return bool(TrainingRun.objects.filter(pk=run_id, status=RUNNING).update(heartbeat_at=timezone.now(), **fields))


def run_update_running(run_id: int, **fields) -> None:
    """``run_update_if_running``, raising RunFenced when the run is no longer running."""
    if not run_update_if_running(run_id, **fields):
        raise RunFenced(run_id)


def run_lock_running(run_id: int) -> TrainingRun:
    """Inside a transaction: locks the run's row (``training_runs_fail_dead`` skips locked rows) and returns it;
    RunFenced unless it is running. What the transaction writes next holds only if the run ends it running."""
    run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.status != RUNNING:
        raise RunFenced(run_id)
    return run


def run_finish_succeeded(run_id: int, *, activate: EmbeddingVersion | None, **fields) -> None:
    """Marks the run succeeded and activates ``activate`` (if given) in one transaction, under the run's row lock:
    both happen only if the run is still running, else RunFenced and neither does."""
    from recommender.services.versions import version_activate

    with transaction.atomic():
        run_lock_running(run_id)
        if activate is not None:
            version_activate(version=activate)
        run_update_running(run_id, status=TrainingRun.Status.SUCCEEDED, **fields)


def run_versions_discard_inactive(run_id: int) -> None:
    """Deletes what a fenced run published (never the live version: staff may have activated it meanwhile)."""
    from recommender.services.versions import version_discard

    for version in EmbeddingVersion.objects.filter(training_run_id=run_id, is_active=False):
        version_discard(version=version)
