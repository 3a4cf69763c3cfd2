"""Predictions in a real browser: the book page marks a predicted genre as such, and the map's "Genres with
predictions" toggle colours a book without a genre by its prediction (Chromium driven by Playwright)."""
import pytest

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
