"""/api/v1/training-runs/ and /api/v1/embedding-versions/: staff only; runs are queued, listed, cancelled."""
import numpy as np
import pytest
from django.db import connection

from recommender.models import EmbeddingVersion, TrainingRun
from recommender.services.versions import version_publish
from recommender.training import TrainingParams

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/training-runs/"
VERSIONS = "/api/v1/embedding-versions/"

STAFF_ENDPOINTS = [
    ("get", RUNS), ("post", RUNS), ("get", f"{RUNS}1/"), ("post", f"{RUNS}1/cancel/"),
    ("get", VERSIONS), ("get", f"{VERSIONS}1/"), ("post", f"{VERSIONS}1/activate/"), ("post", f"{VERSIONS}rollback/"),
]


@pytest.mark.parametrize(("method", "url"), STAFF_ENDPOINTS)
def test_anonymous_may_not_touch_training(anonymous, method, url):
    assert getattr(anonymous, method)(url, format="json").status_code == 401


@pytest.mark.parametrize(("method", "url"), STAFF_ENDPOINTS)
def test_readers_who_are_not_staff_may_not_touch_training(reader, method, url):
    response = getattr(reader, method)(url, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert not TrainingRun.objects.exists()


def test_staff_queue_a_run_with_changed_parameters(staff):
    response = staff.post(RUNS, {"params": {"epochs": 3, "embedding_dim": 16}}, format="json")
    assert response.status_code == 202
    run = response.json()
    assert (run["status"], run["trigger"], run["requested_by"], run["progress"]) == ("queued", "api", "staff", 0.0)
    assert (run["params"]["epochs"], run["params"]["embedding_dim"], run["epochs"]) == (3, 16, 3)
    assert run["params"]["variant"] == TrainingParams().variant, "the other parameters keep their defaults"
    assert staff.get(f"{RUNS}{run['id']}/").json()["id"] == run["id"]
    assert [listed["id"] for listed in staff.get(RUNS).json()["results"]] == [run["id"]]


def test_a_run_with_no_body_uses_the_defaults(staff):
    response = staff.post(RUNS, format="json")
    assert response.status_code == 202
    assert response.json()["params"]["epochs"] == 15


def test_a_second_run_while_one_is_open_is_409(staff):
    first = staff.post(RUNS, {}, format="json").json()
    response = staff.post(RUNS, {}, format="json")
    assert response.status_code == 409
    assert f"Run {first['id']} is already queued" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"epochs": 0}, "epochs"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"variant": "magic"}, "variant"),
        ({"epochs": "many"}, "epochs"),
        ({"epoch": 3}, "epoch"),
        ("fast", "params"),
    ],
)
def test_bad_parameters_are_400_naming_them(staff, params, named):
    response = staff.post(RUNS, {"params": params}, format="json")
    assert response.status_code == 400
    assert named in response.json()["detail"]
    assert not TrainingRun.objects.exists()


@pytest.mark.parametrize("params", [{"epochs": 0}, {"learning_rate": 0}, {"seed": 2**32}, {"epochs": 10**30}])
def test_a_parameter_out_of_range_is_an_error_of_that_field(staff, params):
    """Whether the serializer or the training parameters' own checks refuse it, errors come by field."""
    (name,) = params
    errors = staff.post(RUNS, {"params": params}, format="json").json()["errors"]
    assert list(errors) == ["params"] and list(errors["params"]) == [name], errors


def test_staff_cancel_a_queued_run_and_cannot_cancel_it_twice(staff):
    run = staff.post(RUNS, {}, format="json").json()
    response = staff.post(f"{RUNS}{run['id']}/cancel/")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["cancel_requested"]) == ("cancelled", True)
    again = staff.post(f"{RUNS}{run['id']}/cancel/")
    assert again.status_code == 409
    assert again.json()["detail"] == (f"Run {run['id']} has already been cancelled; "
                                      "only a queued or running run can be cancelled.")
    assert staff.post(f"{RUNS}999999/cancel/").status_code == 404
    assert staff.get(f"{RUNS}999999/").status_code == 404


@pytest.mark.parametrize(("status", "ended"), [("succeeded", "has already succeeded"),
                                               ("failed", "has already failed")])
def test_a_finished_run_cannot_be_cancelled_and_the_409_says_why(staff, status, ended):
    run = TrainingRun.objects.create(trigger="api", status=status)
    response = staff.post(f"{RUNS}{run.pk}/cancel/")
    assert response.status_code == 409
    assert response.json()["detail"] == f"Run {run.pk} {ended}; only a queued or running run can be cancelled."


def test_a_running_run_shows_its_progress(staff):
    run = TrainingRun.objects.create(trigger="api", status="running", epoch=2, epochs=4, step=50, steps_per_epoch=100,
                                     loss_history=[0.6], stage="training")
    body = staff.get(f"{RUNS}{run.pk}/").json()
    assert (body["progress"], body["loss_history"], body["stage"]) == (0.375, [0.6], "training")


def publish(dimensions: int = 4) -> EmbeddingVersion:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see tests/api/conftest.py
    rng = np.random.default_rng(dimensions)
    return version_publish(run=None, book_ids=np.array([], dtype=np.int64),
                           book_vectors=rng.normal(size=(0, dimensions)).astype(np.float32),
                           link_ids=np.array([], dtype=np.int64),
                           link_vectors=rng.normal(size=(0, dimensions)).astype(np.float32))


def test_staff_list_activate_and_roll_back_versions(staff, active_version):
    newer = publish()
    listed = staff.get(VERSIONS).json()
    assert [version["id"] for version in listed["results"]] == [newer.pk, active_version.pk]
    assert listed["results"][1]["is_active"] is True

    activated = staff.post(f"{VERSIONS}{newer.pk}/activate/")
    assert activated.status_code == 200 and activated.json()["is_active"] is True
    assert staff.get("/api/v1/health/").json()["active_version"]["id"] == newer.pk

    rolled_back = staff.post(f"{VERSIONS}rollback/")
    assert rolled_back.status_code == 200 and rolled_back.json()["id"] == active_version.pk
    assert staff.get(f"{VERSIONS}{newer.pk}/").json()["is_active"] is False


def test_a_version_that_is_not_ready_cannot_be_activated(staff):
    unready = EmbeddingVersion.objects.create(dimensions=4)
    response = staff.post(f"{VERSIONS}{unready.pk}/activate/")
    assert response.status_code == 409 and "not ready" in response.json()["detail"]
    assert staff.post(f"{VERSIONS}999999/activate/").status_code == 404


def test_rolling_back_with_nothing_before_is_409(staff, active_version):
    response = staff.post(f"{VERSIONS}rollback/")
    assert response.status_code == 409
    assert "no earlier ready version" in response.json()["detail"]
