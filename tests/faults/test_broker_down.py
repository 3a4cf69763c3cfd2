"""Stop Redis: a retrain request says clearly that it could not be queued, nothing is lost or left blocking,
the catalogue and the map are still served (the cache on that Redis fails open), and requests work again as
soon as Redis is back (the real test broker, stopped and started)."""
import pytest

from recommender.models import TrainingRun
from tests.recommender.planted import planted_catalogue, publish_planted_version
from tests.support import client_for

API_PARAMS = {"epochs": 3, "embedding_dim": 8}

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_retrain_request_with_redis_down_is_refused_clearly_and_works_once_redis_is_back(staff_user, broker):
    live = publish_planted_version(planted_catalogue())
    staff = client_for(staff_user)

    broker.stop()
    refused = staff.post("/api/v1/training-runs/", {"params": API_PARAMS}, format="json")
    health = staff.get("/api/v1/health/")

    assert refused.status_code == 503
    assert "could not be queued" in refused.json()["detail"] and "Redis" in refused.json()["detail"]
    assert health.status_code == 503 and health.json()["broker"]["status"] == "down"
    # The cache (the same Redis) fails open: readers are served, unthrottled, while it is down.
    assert staff.get("/api/v1/books/").status_code == 200
    assert staff.get("/map/points.json").status_code == 200
    # The refused request is on record as failed with the reason, and blocks nothing.
    failed = TrainingRun.objects.get()
    assert failed.status == "failed" and "could not be queued" in failed.error
    assert not TrainingRun.objects.filter(status__in=TrainingRun.OPEN_STATUSES).exists()
    assert TrainingRun.objects.get().params["epochs"] == API_PARAMS["epochs"]

    broker.start()
    accepted = staff.post("/api/v1/training-runs/", {"params": API_PARAMS}, format="json")

    assert accepted.status_code == 202, accepted.content
    assert TrainingRun.objects.get(pk=accepted.json()["id"]).status == "queued"
    assert broker.queue_length("training") == 1
    assert staff.get("/api/v1/health/").status_code == 200
    assert staff.get(f"/api/v1/books/{live.book_vectors.first().book_id}/similar/").status_code == 200
