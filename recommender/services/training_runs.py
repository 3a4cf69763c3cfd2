"""Training runs: requesting one, executing it in a worker, cancelling it, and failing runs whose worker died.

A request creates a ``TrainingRun`` (status queued) and enqueues ``train_embeddings_task`` once the row is
committed. The database allows one open (queued or running) run at a time, so a second request is refused.
The worker claims the run, reads the pairs, trains the book–link embeddings with live progress written to
the row, fits the shelf model (where readers' shelves exist), evaluates,
publishes a new embedding version (COPY, HNSW index, recall check), activates it unless it is clearly
worse than the live one, and prunes old versions. Any failure marks the run failed with the error and
leaves the live version serving.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
import numpy as np
from kombu.exceptions import OperationalError as BrokerError
from kombu.utils.url import maybe_sanitize_url

from recommender.models import EmbeddingVersion, TrainingRun
from recommender.services.run_fence import (
    RunFenced,
    run_finish_succeeded,
    run_update_if_running,
    run_update_running,
    run_versions_discard_inactive,
)
from recommender.training.params import TrainingParamInvalid, TrainingParams

if TYPE_CHECKING:  # the trainer imports TensorFlow, which web processes must not pay for
    from recommender.training.trainer import ProgressCallback

logger = logging.getLogger(__name__)

Status = TrainingRun.Status

HEARTBEAT_SECONDS = 15.0
"""How often a running run's heartbeat is refreshed, whatever stage it is in."""
PROGRESS_SECONDS = 1.0
"""Progress is written to the run (and cancellation read from it) at most this often."""
RUN_STAGES = ("read_pairs", "train", "train_optimisation", "shelf_model", "evaluate", "layout", "publish",
              "activate_and_prune")
"""A run's stages in the order it goes through them (``TrainingRun.timings`` keeps no order)."""
WORKER_STOPPED = "worker stopped during training"
HAS_ENDED = {
    Status.SUCCEEDED: "has already succeeded", Status.FAILED: "has already failed",
    Status.CANCELLED: "has already been cancelled",
}
"""What a finished run has done, for the refusal to cancel it: "Run 2 has already succeeded; …"."""


class TrainingRunError(Exception):
    """A training-run request or change that cannot be done; the message says why."""


class TrainingParamsInvalid(TrainingRunError, ValueError):
    """A training parameter is unknown or out of range; the message names it, and ``name`` is the one out of range
    (None for unknown ones)."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name


class TrainingRunConflict(TrainingRunError):
    """Another run is queued or running."""


class TrainingQueueUnavailable(TrainingRunError):
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


def training_run_execute(*, run_id: int, worker: str = "",
                         on_progress: ProgressCallback | None = None) -> TrainingRun | None:
    """Executes a queued run to its end (succeeded, failed or cancelled) and returns it.

    A run that is no longer queued (cancelled meanwhile, already executed, failed as lost) is returned
    untouched; None when the run does not exist (deleted since it was queued). ``on_progress`` (the trainer's
    callback) is called besides the row updates.
    """
    now = timezone.now()
    claimed = TrainingRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker or _this_process(),
        stage="reading pairs",
    )
    run = TrainingRun.objects.filter(pk=run_id).first()
    if not claimed:
        logger.info("Training run %s is %s, not queued: nothing to do.", run_id, run.status if run else "gone")
        return run

    progress = _Progress(run, on_progress)
    heartbeat = _Heartbeat(run.pk)
    heartbeat.start()
    try:
        _train_and_publish(run, progress)
    except Exception as error:
        _finish_failed_or_cancelled(run, progress, error)
    except BaseException as error:  # the worker is being stopped: say so before going down
        _finish_failed_or_cancelled(run, progress, error)
        raise
    finally:
        heartbeat.stop()
    run.refresh_from_db()
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
    from recommender.services.versions import version_discard

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


def _train_and_publish(run: TrainingRun, progress: _Progress) -> None:
    from recommender.selectors import active_version
    from recommender.services.layout import book_layout
    from recommender.services.quality import embeddings_evaluate, quality_gate
    from recommender.services.training_data import training_data_build
    from recommender.services.versions import version_publish, versions_prune
    from recommender.training.shelf_model import train_shelf_model
    from recommender.training.trainer import TrainingCancelled, train_embeddings

    params = TrainingParams.from_dict(run.params)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str, next_stage: str | None = None) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if next_stage is not None:
            if progress.should_stop(fresh=True):
                raise TrainingCancelled(f"stopped before {next_stage}")
            _update(run.pk, stage=next_stage, timings=timings)

    data = training_data_build(params=params)
    counts = {"books": int(data.pairs.n_books), "links": data.n_content_links, "readers": data.n_readers,
              "content_pairs": data.n_content_pairs, "shelf_pairs": data.n_shelf_pairs,
              "validation_readers": len(data.shelf_cases)}
    _update(run.pk, metrics={"data": counts})
    lap("read_pairs", "training")

    trained = train_embeddings(data.pairs, params, on_progress=progress, should_stop=progress.should_stop)
    timings["train_optimisation"] = round(trained.seconds, 3)
    timings["pairs_per_second"] = round(trained.pairs_per_second, 1)
    lap("train", "fitting the shelf model")

    shelf_model = None
    if params.shelf_model and len(data.shelves):
        shelf_model = train_shelf_model(shelves=data.shelves, content=data.content, params=params,
                                        on_stage=lambda description: _update(run.pk, stage=description))
    lap("shelf_model", "evaluating")

    metrics = embeddings_evaluate(data=data, book_vectors=trained.book_vectors, heldout_auc=trained.heldout_auc,
                                  shelf_model=shelf_model)
    lap("evaluate", "computing the map")

    coords, layout_method = book_layout(trained.book_vectors, seed=params.seed)
    lap("layout", "publishing the version")

    version = version_publish(
        run=run, book_ids=data.book_ids, book_vectors=trained.book_vectors, link_ids=data.link_ids,
        link_vectors=trained.link_vectors[: data.n_content_links], map_coords=coords,
        layout_method=layout_method, metrics=metrics, shelf_model=shelf_model,
        shelf_book_ids=None if shelf_model is None else data.book_ids[shelf_model.book_index],
        link_book_counts=np.bincount(data.content.link_index, minlength=data.n_content_links),
    )
    lap("publish", "activating")

    live = active_version()
    passed, reasons = quality_gate(new=metrics, live=live.metrics if live else None)
    run_finish_succeeded(  # fenced: only while this run is still the running one
        run.pk,
        activate=version if passed else None,
        finished_at=timezone.now(),
        stage="done" if passed else "done; not activated (clearly worse than the live version)",
        loss_history=trained.history,
        timings=timings,
        metrics={
            **metrics,
            "data": counts,
            "version_id": version.pk,
            "ann_recall@10": version.ann_recall_at_10,
            "live_version_id": live.pk if live else None,
            "live": live.metrics if live else None,
            "quality_gate": {"passed": passed, "activated": passed, "reasons": reasons},
        },
    )
    pruned = versions_prune()
    lap("activate_and_prune")
    run.refresh_from_db(fields=["metrics", "timings"])
    TrainingRun.objects.filter(pk=run.pk).update(metrics={**run.metrics, "pruned_versions": pruned},
                                                 timings={**run.timings, **timings})


def _finish_failed_or_cancelled(run: TrainingRun, progress: _Progress, error: BaseException) -> None:
    from recommender.training.trainer import TrainingCancelled

    if isinstance(error, TrainingCancelled) and progress.stop_reason == "cancelled":
        fields = {"status": Status.CANCELLED, "stage": "cancelled", "error": ""}
    elif isinstance(error, KeyboardInterrupt):  # its process's operator stopped it (Ctrl-C, or SIGTERM under --sync)
        fields = {"status": Status.CANCELLED, "stage": "cancelled: its process was interrupted", "error": ""}
    elif isinstance(error, TrainingCancelled) and progress.stop_reason == "time limit":
        fields = {"status": Status.FAILED, "stage": "failed",
                  "error": f"time limit of {settings.TRAINING_TIME_LIMIT} s exceeded ({error})"}
    elif isinstance(error, RunFenced):  # failed meanwhile (its worker was frozen): the row keeps that verdict
        logger.warning("Training run %s stopped: %s.", run.pk, error)
        run_versions_discard_inactive(run.pk)
        return
    else:
        logger.exception("Training run %s failed.", run.pk)
        fields = {"status": Status.FAILED, "stage": "failed", "error": _describe(error)}
    run_update_if_running(run.pk, finished_at=timezone.now(), **fields)  # a run that ended meanwhile keeps its end


class _Progress:
    """The trainer's ``on_progress`` and ``should_stop``: epoch/step/loss to the row at most once a second."""

    def __init__(self, run: TrainingRun, also: ProgressCallback | None):
        self.run_id = run.pk
        self.also = also
        self.deadline = time.monotonic() + settings.TRAINING_TIME_LIMIT
        self.history: list[float] = []
        self.epoch_loss = 0.0
        self.last_step = 0
        self.last_write = 0.0
        self.last_check = 0.0
        self.stop_reason: str | None = None

    def __call__(self, epoch: int, epochs: int, step: int, steps_per_epoch: int, loss: float) -> None:
        self.epoch_loss += loss * (step - self.last_step)
        self.last_step = step
        epoch_done = step >= steps_per_epoch
        if epoch_done:
            self.history.append(self.epoch_loss / steps_per_epoch)
            self.epoch_loss, self.last_step = 0.0, 0
        now = time.monotonic()
        if epoch_done or now - self.last_write >= PROGRESS_SECONDS:
            self.last_write = now
            _update(self.run_id, epoch=epoch, epochs=epochs, step=step, steps_per_epoch=steps_per_epoch,
                    loss_history=list(self.history), stage=f"training (loss {loss:.4f})")
        if self.also is not None:
            self.also(epoch, epochs, step, steps_per_epoch, loss)

    def should_stop(self, *, fresh: bool = False) -> bool:
        """Whether the run is past its time limit or staff cancelled it; the row is read at most once a second
        (the trainer asks every step) unless ``fresh`` (between stages)."""
        if time.monotonic() > self.deadline:
            self.stop_reason = "time limit"
            return True
        now = time.monotonic()
        if fresh or now - self.last_check >= PROGRESS_SECONDS:
            self.last_check = now
            if TrainingRun.objects.filter(pk=self.run_id, cancel_requested=True).exists():
                self.stop_reason = "cancelled"
        return self.stop_reason is not None


class _Heartbeat:
    """Refreshes the run's heartbeat from a thread, so a run busy outside the training loop still looks alive."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"training-run-{run_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                TrainingRun.objects.filter(pk=self.run_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        except Exception:
            logger.exception("Heartbeat of training run %s stopped.", self.run_id)
        finally:
            connection.close()  # this thread's own connection


def _update(run_id: int, **fields) -> None:
    """One short UPDATE of the run (with a fresh heartbeat), outside any long transaction; RunFenced when the run
    is no longer running."""
    run_update_running(run_id, **fields)


def _enqueue(run: TrainingRun) -> None:
    from recommender.tasks import train_embeddings_task

    try:
        result = train_embeddings_task.apply_async(args=[run.pk], retry=False)
    except (BrokerError, ConnectionError, OSError) as error:
        broker = maybe_sanitize_url(train_embeddings_task.app.conf.broker_write_url or "")
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


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
