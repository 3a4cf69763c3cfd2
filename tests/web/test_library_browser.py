"""Importing a library in a real browser: shelves page → upload a Goodreads export → the status page refreshes
until a real Celery worker has run it → the result, with an unmatched row resolved by picking its book."""
import re

import pytest

from books.models import ShelfEntry
from tests.books.test_library_formats import GOODREADS
from tests.books.test_library_import import catalogue  # noqa: F401 - the catalogue fixture
from tests.faults.conftest import Worker
from tests.web.test_browser import browser, page, pytestmark, shoot  # noqa: F401 - fixtures and marks

UNMATCHED = ',War and Peace,A. Translator,,,,,4,,,,,,,,2021/02/02,read,,read,,,,,\n'


@pytest.fixture
def worker(tmp_path):
    worker = Worker("library-browser", tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def test_a_reader_imports_a_goodreads_export_and_resolves_what_did_not_match(
        page, live_server, catalogue, worker, django_user_model, tmp_path):  # noqa: F811
    reader = django_user_model.objects.create_user(username="importer", password="a-long-passphrase")
    export = tmp_path / "goodreads_library_export.csv"
    export.write_text(GOODREADS + UNMATCHED)
    page.goto(f"{live_server.url}/accounts/login/?next=/shelves/")
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/shelves/$"))
    assert page.get_by_role("link", name="Export your library").is_visible()
    page.get_by_role("link", name="Import your library").click()
    page.wait_for_url(re.compile(r"/shelves/import/$"))

    page.get_by_label("Export file (CSV)").set_input_files(str(export))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/shelves/import/\d+/$"))
    page.wait_for_selector("#import-status[data-status=succeeded]", timeout=60_000)
    assert "Done: 2 of 3 books are on your shelves, 1 did not match" in page.locator("#import-status").inner_text()
    shoot(page, "library-import")

    row = page.locator("#row-4")
    assert "no book has both this title and this author" in row.inner_text()
    row.get_by_label("It is").select_option(label="War and Peace — Leo Tolstoy")
    row.get_by_role("button", name="Shelve it").click()
    page.wait_for_selector("#row-4 >> text=shelved as")
    assert ShelfEntry.objects.filter(shelf__user=reader, shelf__kind="read", book=catalogue.war, rating=4).exists()


def test_a_file_that_is_not_an_export_is_refused_on_the_page(page,  # noqa: F811
        live_server, django_user_model, tmp_path):
    django_user_model.objects.create_user(username="importer", password="a-long-passphrase")
    bad = tmp_path / "contacts.csv"
    bad.write_text("name,email\nann,ann@example.com\n")
    page.goto(f"{live_server.url}/accounts/login/?next=/shelves/import/")
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/shelves/import/$"))
    page.get_by_label("Export file (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    assert "not a library export" in page.locator("#import-error").inner_text()
