"""Celery tasks of the embeddings. Thin: they load ids and call a service.

``train_embeddings_task`` runs on the ``training`` queue (routed in config/celery_app.py), whose worker
uses the solo pool. Celery's time limits are set too, but the solo pool cannot enforce them, so the run
also stops itself at settings.TRAINING_TIME_LIMIT (see ``training_run_execute``).
"""
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from recommender.models import TrainingRun
from recommender.services.training_pipeline import training_run_execute
from recommender.services.training_runs import TrainingRunConflict, training_run_request, training_runs_fail_dead
from recommender.services.versions import versions_index_links_missing


@shared_task(
    bind=True,
    name="recommender.tasks.train_embeddings_task",
    acks_late=True,
    soft_time_limit=settings.TRAINING_TIME_LIMIT,
    time_limit=settings.TRAINING_TIME_LIMIT + 120,
)
def train_embeddings_task(self, run_id: int) -> str:
    """Executes training run ``run_id``; returns its final status ("missing" if the run was deleted)."""
    run = training_run_execute(run_id=run_id, worker=self.request.hostname or "")
    return run.status if run is not None else "missing"


@shared_task(name="recommender.tasks.scheduled_training_task")
def scheduled_training_task() -> int | None:
    """The celery-beat trigger: requests a run unless one is already open; returns its id."""
    try:
        return training_run_request(trigger=TrainingRun.Trigger.SCHEDULE).pk
    except TrainingRunConflict:
        return None


@worker_ready.connect
def fail_runs_of_dead_workers(sender=None, **kwargs) -> None:
    """A starting worker executes nothing yet: its own "running" runs, and stale ones, are dead."""
    training_runs_fail_dead(worker=getattr(sender, "hostname", None))


@worker_ready.connect
def index_links_left_unindexed(sender=None, **kwargs) -> None:
    """A worker that died between activating a version and indexing its links left it without a link index."""
    versions_index_links_missing()
