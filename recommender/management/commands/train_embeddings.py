"""``manage.py train_embeddings``: request a training run (the worker trains it), or train it here with --sync."""
import json
import signal
import threading
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError

from recommender.models import TrainingRun
from recommender.selectors import active_version
from recommender.services.training_pipeline import training_run_execute
from recommender.services.training_runs import TrainingRunError, training_run_cancel, training_run_request


class Command(BaseCommand):
    help = "Retrain the book embeddings: enqueue a training run for the worker, or train inline with --sync."

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="Train in this process, with a progress bar.")
        parser.add_argument("--if-none-active", action="store_true",
                            help="Do nothing when a version is already live (the quick start calls this).")
        parser.add_argument("--trigger", default=TrainingRun.Trigger.COMMAND, choices=TrainingRun.Trigger.values,
                            help="Who asks, as recorded on the run (default: command).")
        parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                            help="A training parameter (see recommender/training/params.py), e.g. --param epochs=20;"
                                 " values are read as JSON when they parse, else as text. Repeatable.")

    def handle(self, *args, sync, if_none_active, trigger, param, verbosity, **options):
        version = active_version()
        if if_none_active and version is not None:
            self.stdout.write(f"Version {version.pk} is live; nothing to do.")
            return
        if if_none_active and TrainingRun.objects.filter(status__in=TrainingRun.OPEN_STATUSES).exists():
            self.stdout.write("A training run is already open; nothing to do.")
            return
        params = dict(_parse_param(item) for item in param)
        try:
            run = training_run_request(trigger=trigger, params=params, enqueue=not sync)
        except TrainingRunError as error:
            raise CommandError(str(error)) from None
        if not sync:
            self.stdout.write(self.style.SUCCESS(f"Training run {run.pk} queued on the training queue."))
            self.stdout.write(f"Follow it in the admin (/admin/recommender/trainingrun/{run.pk}/change/) "
                              f"or at /api/v1/training-runs/{run.pk}/.")
            return
        self.stdout.write(f"Training run {run.pk}, in this process (Ctrl-C cancels it).")
        try:
            with _sigterm_as_ctrl_c():
                run = training_run_execute(run_id=run.pk, worker="manage.py train_embeddings --sync",
                                           on_progress=_progress_bar() if verbosity else None)
        except KeyboardInterrupt:
            run.refresh_from_db()
            if run.status == TrainingRun.Status.QUEUED:  # interrupted before it started
                training_run_cancel(run=run)
            raise CommandError(f"Training run {run.pk} cancelled: this process was interrupted.") from None
        self._report(run)

    def _report(self, run: TrainingRun) -> None:
        if run.status != TrainingRun.Status.SUCCEEDED:
            why = run.error or run.stage
            raise CommandError(f"Training run {run.pk} {run.status}" + (f": {why}" if why != run.status else "."))
        metrics = {k: v for k, v in run.metrics.items() if k not in ("live",)}
        self.stdout.write(self.style.SUCCESS(f"Training run {run.pk} succeeded: {run.stage}"))
        self.stdout.write("timings (s): " + json.dumps(run.timings))
        self.stdout.write("metrics: " + json.dumps(metrics, default=str))


@contextmanager
def _sigterm_as_ctrl_c():
    """SIGTERM stops the run as Ctrl-C does, recorded as cancelled at once (left to kill the process, it would
    hold the one-run-at-a-time slot until its heartbeat went stale); the previous handler is back afterwards.
    Only the main thread can set a handler: elsewhere (a command called from a thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parse_param(item: str) -> tuple[str, object]:
    key, separator, value = item.partition("=")
    if not separator or not key.strip():
        raise CommandError(f"--param expects KEY=VALUE, got {item!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _progress_bar():
    """An on_progress callback drawing one tqdm bar over every epoch's steps."""
    from tqdm import tqdm

    bar = None

    def update(epoch: int, epochs: int, step: int, steps_per_epoch: int, loss: float) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=epochs * steps_per_epoch, unit="step", desc="training")
        bar.set_postfix(epoch=f"{epoch}/{epochs}", loss=f"{loss:.4f}", refresh=False)
        bar.update((epoch - 1) * steps_per_epoch + step - bar.n)
        if bar.n >= bar.total:
            bar.close()

    return update
