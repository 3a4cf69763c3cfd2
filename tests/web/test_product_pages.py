"""The site serves like a product: styled error pages with no internals, a favicon, debug pages only on request."""
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from books.services import shelf_create, shelves_ensure_standard
from recommender.models import TrainingRun

pytestmark = pytest.mark.django_db


def test_the_local_settings_serve_without_debug_pages_unless_asked():
    def debug_of(extra):
        # A database and broker URL are given so that importing the settings starts no embedded server.
        environment = {name: value for name, value in os.environ.items() if name != "DEBUG"}
        environment.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
                           CELERY_BROKER_URL="redis://127.0.0.1:1/0", **extra)
        code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
        return subprocess.run([sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR,
                              capture_output=True, text=True, check=True).stdout.strip()

    assert debug_of({}) == "False"
    assert debug_of({"DEBUG": "true"}) == "True"


@pytest.mark.parametrize("path", ["/no-such-page/", "/books/999999/", "/links/999999/"])
def test_an_unknown_address_is_the_styled_404_without_internals(client, genre_catalogue, path):
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 404
    assert "This page is not on any shelf" in html and 'class="site-header"' in html
    assert "URLconf" not in html and "urlpatterns" not in html and "Traceback" not in html


def test_a_private_shelf_opened_while_signed_out_is_the_styled_404(client, user):
    shelves_ensure_standard(user=user)
    secret = shelf_create(user=user, name="Secret reading")
    page = client.get(reverse("shelf", args=[secret.pk]))
    assert page.status_code == 404 and "This page is not on any shelf" in page.content.decode()
    assert "Secret reading" not in page.content.decode()


def test_a_server_error_is_the_styled_500_without_internals():
    page = server_error(RequestFactory().get("/"))
    html = page.content.decode()
    assert page.status_code == 500
    assert "Something went wrong on our side" in html and "css/site.css" in html and "favicon" in html


def test_the_favicon_answers_at_the_address_browsers_ask(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/favicon.ico")
    assert (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()[:4] == b"\x00\x00\x01\x00", "an ICO file"


# --- The first training, shown to everyone until a version is live ----------------------------------------


def first_run(staff_user):
    return TrainingRun.objects.create(
        trigger="command", status="running", requested_by=staff_user, params={"seed": 12345}, worker="training@secret-host",
        epoch=2, epochs=4, step=6, steps_per_epoch=10, stage="training (loss 0.4321)", error="")


def test_the_first_trainings_progress_is_public_and_tells_nothing_private(client, genre_catalogue, staff_user):
    assert client.get(reverse("first_training_progress")).json() == {"live": False, "run": None}
    first_run(staff_user)
    response = client.get(reverse("first_training_progress"))
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {"live": False, "run": {"status": "running", "stage": "training (loss 0.4321)",
                                                      "epoch": 2, "epochs": 4, "percent": 40}}
    assert "secret-host" not in response.content.decode() and "12345" not in response.content.decode()


def test_once_a_version_is_live_the_progress_says_so_and_nothing_more(client, embeddings, staff_user):
    first_run(staff_user)
    assert client.get(reverse("first_training_progress")).json() == {"live": True, "run": None}


@pytest.mark.parametrize("url", [reverse("home"), reverse("for_you")])
def test_home_and_for_you_show_the_first_trainings_progress_to_anyone_until_a_version_is_live(client, genre_catalogue,
                                                                                            staff_user, user, url):
    first_run(staff_user)
    for signed_in in (False, True):
        if signed_in:
            client.force_login(user)
        html = client.get(url).content.decode()
        assert 'data-testid="first-training"' in html and "<strong>40%</strong>" in html
        assert "Training (loss 0.4321) · epoch 2 of 4" in html


@pytest.mark.parametrize("url", [reverse("home"), reverse("for_you")])
def test_the_progress_is_gone_once_a_version_is_live(client, embeddings, staff_user, url):
    first_run(staff_user)
    assert 'data-testid="first-training"' not in client.get(url).content.decode()
