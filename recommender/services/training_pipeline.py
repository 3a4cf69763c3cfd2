"""Training runs, worker side: executing a queued run to its end.

The worker claims the run, reads the pairs, trains the book–link embeddings with live progress written to
the row, fits the shelf model (where readers' shelves exist), evaluates, predicts what books lack from their vectors
(``recommender.services.predictions``; its failure is recorded, never fails the run) while the new embedding version's
book index is built and checked (the vectors COPYed first, the HNSW index and recall check on a thread and database
connection of their own), lists the nearest books of the books its shelf model leaves out
(``recommender.services.neighbour_lists``), activates it unless it is clearly worse than the live one, prunes old
versions, and then indexes the new version's links. Any failure marks the run failed with the error and leaves the live
version serving.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from recommender.models import EmbeddingVersion, TrainingRun
from recommender.selectors.training_data import training_data_build
from recommender.selectors.versions import active_version
from recommender.services.neighbour_lists import neighbour_lists_store
from recommender.services.predictions import book_predictions_make, book_predictions_store
from recommender.services.run_fence import (
    RunFenced,
    run_finish_succeeded,
    run_update_if_running,
    run_update_running,
    run_versions_discard_inactive,
)
from recommender.services.versions import (
    version_discard,
    version_index_books,
    version_index_links,
    version_mark_ready,
    version_write,
    versions_prune,
)
from recommender.training.layout import book_layout
from recommender.training.params import TrainingParams
from recommender.training.quality import embeddings_evaluate, quality_gate
from recommender.training.shelf_model import train_shelf_model
from recommender.training.sources import centred, link_offsets, source_offsets

if TYPE_CHECKING:  # the trainer imports TensorFlow, which web processes must not pay for
    from recommender.training.trainer import ProgressCallback

logger = logging.getLogger(__name__)

Status = TrainingRun.Status

HEARTBEAT_SECONDS = 15.0
"""How often a running run's heartbeat is refreshed, whatever stage it is in."""
PROGRESS_SECONDS = 1.0
"""Progress is written to the run (and cancellation read from it) at most this often."""
RUN_STAGES = ("read_pairs", "train", "train_optimisation", "shelf_model", "evaluate", "layout", "publish", "predict",
              "index_books", "neighbour_lists", "activate_and_prune", "index_links")
"""A run's stages in the order it goes through them (``TrainingRun.timings`` keeps no order)."""


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


def _train_and_publish(run: TrainingRun, progress: _Progress) -> None:
    from recommender.training.trainer import TrainingCancelled, train_embeddings  # TensorFlow: the worker only

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
              "catalogue_pairs": len(data.catalogue) if data.catalogue is not None else 0,
              "named_book_pairs": data.named_book_pairs,
              "books_without_pairs": data.books_without_pairs,
              "validation_readers": len(data.shelf_cases)}
    _update(run.pk, metrics={"data": counts})
    lap("read_pairs", "training")

    trained = train_embeddings(data.pairs, params, on_progress=progress, should_stop=progress.should_stop)
    # What only says which source described a book comes out of every vector (recommender/training/sources.py).
    offsets, counts["sources_centred"] = source_offsets(trained.book_vectors, data.sources)
    trained = replace(trained, book_vectors=centred(trained.book_vectors, offsets), link_vectors=centred(
        trained.link_vectors, link_offsets(offsets, data.pairs.book_index, data.pairs.link_index, data.pairs.n_links)))
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

    version = version_write(
        run=run, book_ids=data.book_ids, book_vectors=trained.book_vectors, link_ids=data.link_ids,
        link_vectors=trained.link_vectors[: data.n_content_links], map_coords=coords,
        layout_method=layout_method, metrics=metrics, shelf_model=shelf_model,
        shelf_book_ids=None if shelf_model is None else data.book_ids[shelf_model.book_index],
        link_book_counts=np.bincount(data.content.link_index, minlength=data.n_content_links),
    )
    lap("publish", "predicting missing genres, countries and languages")
    # The book index is CPU work in PostgreSQL that takes as much longer as the machine is busier: it is built and
    # checked while the worker predicts, and the run waits only for what is left of it (BENCHMARKS.md §4).
    book_index = _BookIndexBuild(version, ids=data.book_ids, vectors=trained.book_vectors)
    try:
        # Never fails the run: a failure is recorded in the figures and the version publishes without predictions.
        predictions = book_predictions_make(data=data, book_vectors=trained.book_vectors, seed=params.seed)
        lap("predict", "building the version's book index")
        book_index.wait()
        version_mark_ready(version=version)
        prediction_figures = book_predictions_store(version=version, made=predictions)
        lap("index_books", "listing the neighbours of the books the shelf model leaves out")
        # On the index just built, so that a list is what a request's search finds (services/neighbour_lists.py).
        listed = neighbour_lists_store(version=version)
        lap("neighbour_lists", "activating")
    except BaseException:  # cancelled, failed or fenced before it could go live: nothing of it is left
        book_index.abandon()
        raise

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
            "predictions": prediction_figures,
            "neighbour_lists": listed,
        },
    )
    pruned = versions_prune()
    lap("activate_and_prune")
    # After going live, so that readers never wait for it (recommender/services/versions.py). The run has
    # succeeded: a failure here is logged, and the next worker to start builds the index.
    try:
        version_index_links(version=version)
    except Exception:
        logger.exception("Indexing the links of version %s failed; the next worker to start builds it.", version.pk)
    lap("index_links")
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


class _BookIndexBuild:
    """``version_index_books`` of a written version (book HNSW index, recall check) on a thread and database
    connection of its own, started at once, while the run goes on.

    Inside a transaction (a test's) another connection would not see the version: the build then runs in ``wait``.
    """

    def __init__(self, version: EmbeddingVersion, *, ids: np.ndarray, vectors: np.ndarray):
        self.version, self.ids, self.vectors = version, ids, vectors
        self.error: BaseException | None = None
        self.thread = None
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._build, name=f"version-{version.pk}-book-index", daemon=True)
            self.thread.start()

    def wait(self) -> None:
        """Returns once the index is built and checked; raises what the build raised (the version is deleted then)."""
        if self.thread is None:
            version_index_books(version=self.version, ids=self.ids, vectors=self.vectors)
            return
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """The run stops: waits for the build to end, whatever its outcome, and deletes the version (unless it is
        live: ``version_discard``)."""
        if self.thread is not None:
            self.thread.join()
        version_discard(version=self.version)

    def _build(self) -> None:
        try:
            version_index_books(version=self.version, ids=self.ids, vectors=self.vectors)
        except BaseException as error:  # raised in the run's own thread by ``wait``
            self.error = error
        finally:
            connection.close()  # this thread's own connection


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


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
