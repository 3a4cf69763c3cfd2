"""``manage.py train_embeddings``: enqueue, train inline, or do nothing when a version is live."""
import pytest
from django.core.management import CommandError, call_command

from recommender.models import TrainingRun
from recommender.selectors import active_version
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


def test_sync_trains_in_process_and_publishes_a_live_version(capsys):
    import signal

    planted_catalogue()
    sigterm_handler = signal.getsignal(signal.SIGTERM)

    call_command("train_embeddings", "--sync", "--param", "epochs=3", "--param", "embedding_dim=8",
                 "--param", "batch_size=32", "--param", "variant=regression")

    run = TrainingRun.objects.get()
    assert run.status == "succeeded" and run.trigger == "command" and run.params["variant"] == "regression"
    assert active_version().training_run_id == run.pk
    assert f"Training run {run.pk} succeeded" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is sigterm_handler, "SIGTERM means Ctrl-C only while it trains"


def test_without_sync_the_run_is_queued_for_the_worker(capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("train_embeddings", "--trigger", "schedule")

    run = TrainingRun.objects.get()
    assert run.status == "queued" and run.trigger == "schedule" and run.celery_task_id
    assert f"Training run {run.pk} queued" in capsys.readouterr().out


def test_if_none_active_does_nothing_when_a_version_is_live(capsys):
    publish_planted_version(planted_catalogue(groups=2, books_per_group=6))

    call_command("train_embeddings", "--if-none-active")

    assert not TrainingRun.objects.exists()
    assert "is live; nothing to do" in capsys.readouterr().out


def test_a_bad_parameter_is_reported_by_name():
    with pytest.raises(CommandError, match="embedding_dim"):
        call_command("train_embeddings", "--param", "embedding_dim=1")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        call_command("train_embeddings", "--param", "epochs")
