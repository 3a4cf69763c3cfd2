"""Predictions in a real browser: the book page marks a predicted genre as such, the map's "Genres with
predictions" toggle colours a book without a genre by its prediction, and staff accept one with its row's button in
the admin (Chromium driven by Playwright)."""
import re

import pytest
from django.contrib.auth import get_user_model

from books.models import Book
from recommender.models import BookPrediction
from tests.web.test_browser import CHROMIUM, browser, page  # noqa: F401 (the real-browser fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def test_a_predicted_genre_is_marked_on_the_book_page_and_coloured_on_the_map_when_asked(
        page, live_server, embeddings, genre_catalogue):  # noqa: F811
    book = genre_catalogue["books"][0]
    Book.objects.filter(pk=book.pk).update(genre="")
    BookPrediction.objects.create(version=embeddings, book=book, field="genre", value=genre_catalogue["books"][1].genre,
                                  confidence=0.87)

    page.goto(f"{live_server.url}/books/{book.pk}/")
    fact = page.get_by_test_id("predicted-genre")
    assert fact.is_visible() and "probably:" in fact.inner_text() and "87 %" in fact.inner_text()

    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-drawn-points='41']")
    legend = page.locator("#map-legend")
    assert "Not given" in legend.inner_text()
    page.get_by_label("Genres with predictions").check()
    page.wait_for_function("!document.getElementById('map-legend').innerText.includes('Not given')")


def test_staff_accept_a_prediction_with_its_button_and_the_book_page_shows_it_as_the_books_own(
        page, live_server, embeddings, genre_catalogue):  # noqa: F811
    book = genre_catalogue["books"][0]
    genre = genre_catalogue["books"][1].genre
    Book.objects.filter(pk=book.pk).update(genre="")
    BookPrediction.objects.create(version=embeddings, book=book, field="genre", value=genre, confidence=0.87)
    get_user_model().objects.create_superuser(username="root", password="a-long-passphrase")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/recommender/bookprediction/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/recommender/bookprediction/$"))

    page.locator("#result_list").get_by_role("button", name="Accept").click()

    assert "1 prediction accepted into the catalogue." in page.locator(".messagelist").inner_text()
    assert "accepted" in page.locator("#result_list").inner_text()
    page.goto(f"{live_server.url}/books/{book.pk}/")
    assert page.get_by_test_id("predicted-genre").count() == 0
    assert page.get_by_role("link", name=genre).first.is_visible()
    assert Book.objects.get(pk=book.pk).staff_given == {"genre": [genre]}
