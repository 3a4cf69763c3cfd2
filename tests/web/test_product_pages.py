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
def test_an_unknown_address_is_the_styled_404_without_internals(client, catalogue, path):
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
