"""Library imports through the API with a real Celery worker (default queue): two readers import at once, each gets
their own shelves."""
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from books.models import Shelf, ShelfEntry
from tests.books.test_library_formats import GOODREADS, STORYGRAPH
from tests.books.test_library_import import IMPORTS, catalogue  # noqa: F401 - the catalogue fixture
from tests.factories import ReaderFactory
from tests.faults.conftest import Worker
from tests.support import client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path):
    worker = Worker("library", tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def wait_done(client, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"the import did not end: {body}")


def test_two_readers_import_at_once_each_into_their_own_shelves(catalogue, worker):  # noqa: F811
    ann, bob = ReaderFactory(username="ann"), ReaderFactory(username="bob")
    clients = {ann: client_for(ann), bob: client_for(bob)}
    urls = {}
    for user, text in ((ann, GOODREADS), (bob, STORYGRAPH)):
        response = clients[user].post(IMPORTS, {"file": SimpleUploadedFile("export.csv", text.encode())},
                                      format="multipart")
        assert response.status_code == 202, response.content
        urls[user] = response.json()["url"]
    assert wait_done(clients[ann], urls[ann])["matched"] == 2
    assert wait_done(clients[bob], urls[bob])["matched"] == 2
    assert set(ShelfEntry.objects.filter(shelf__user=ann).values_list("book_id", flat=True)) == {
        catalogue.hunger.pk, catalogue.catching.pk}
    assert set(ShelfEntry.objects.filter(shelf__user=bob).values_list("book_id", flat=True)) == {
        catalogue.war.pk, catalogue.anna.pk}
    assert not Shelf.objects.filter(user=ann, name="classics").exists()
    assert clients[bob].get(urls[ann]).status_code == 404
