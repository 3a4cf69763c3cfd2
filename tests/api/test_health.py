"""/api/v1/health/: 200 while the database and the broker answer, 503 when one does not; each part's status."""
import pytest

from config.celery_app import app as celery_app

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/health/"


def test_healthy_with_database_and_broker_up_and_no_worker(anonymous, active_version):
    response = anonymous.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok", "detail": None}
    assert body["broker"] == {"status": "ok", "detail": None}
    # No worker serves this test run's private broker: that shows, but does not fail the check.
    assert body["worker"] == {"status": "down", "detail": "No worker answered the ping.", "workers": []}
    assert body["active_version"]["id"] == active_version.pk


def test_a_worker_busy_training_is_listed_though_it_cannot_answer_the_ping(anonymous):
    from datetime import timedelta

    from django.utils import timezone

    from recommender.models import TrainingRun

    now = timezone.now()
    running = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING, worker="training@host", started_at=now,
                                         heartbeat_at=now)
    body = anonymous.get(HEALTH).json()
    assert body["worker"] == {"status": "ok", "detail": None,
                              "workers": [f"training@host (training run {running.pk})"]}

    TrainingRun.objects.filter(pk=running.pk).update(heartbeat_at=None)  # just started: no heartbeat yet
    assert anonymous.get(HEALTH).json()["worker"]["workers"] == [f"training@host (training run {running.pk})"]
    TrainingRun.objects.filter(pk=running.pk).update(heartbeat_at=now - timedelta(minutes=10))  # its worker died
    assert anonymous.get(HEALTH).json()["worker"]["workers"] == []
    # train_embeddings --sync runs in its own process, not a worker: it is no sign of one.
    TrainingRun.objects.filter(pk=running.pk).update(heartbeat_at=now, worker="host:4242")
    assert anonymous.get(HEALTH).json()["worker"] == {"status": "down", "detail": "No worker answered the ping.",
                                                      "workers": []}


def test_no_active_version_is_null(anonymous):
    assert anonymous.get(HEALTH).json()["active_version"] is None


def test_a_broker_that_does_not_answer_is_503(anonymous, monkeypatch):
    # A real connection attempt to a port nothing listens on (Celery reads this variable before its settings).
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    assert celery_app.connection_for_read().as_uri() == "redis://127.0.0.1:9/0"
    response = anonymous.get(HEALTH)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"]["status"] == "ok"
    assert body["broker"] == {"status": "down", "detail": "The broker did not answer (the server log says why)."}
    assert body["worker"]["status"] == "down"


def test_the_health_check_ignores_bad_credentials(reader):
    reader.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert reader.get(HEALTH).status_code == 200
