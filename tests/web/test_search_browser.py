"""Search in a real browser at 1280 px and 390 px: one corrected query, a series in order, nothing wider than the
screen."""
import re

from books.models import Book
from books.series import series_assign
from tests.factories import make_book

from .test_browser import browser, pytestmark  # noqa: F401  (the shared browser and its markers)
from .test_site_browser import WIDTHS, assert_fits, page, shoot  # noqa: F401  (a page at each width)


def test_a_misspelled_series_is_corrected_once_and_listed_in_order(page, live_server):  # noqa: F811
    for title, popularity in (("Harry Potter and the Deathly Hallows (Harry Potter, #7)", 9_000),
                              ("Harry Potter and the Sorcerer's Stone (Harry Potter, #1)", 5_000),
                              ("Harry Potter and the Chamber of Secrets (Harry Potter, #2)", 1_000)):
        make_book(title, "J.K. Rowling", popularity=popularity)
    series_assign(book_ids=Book.objects.values_list("pk", flat=True))  # as an import does
    make_book("The Poster Girl", "Veronica Roth", popularity=50_000)
    page.goto(f"{live_server.url}/search/?q=hary+poter")
    correction = page.get_by_test_id("search-correction")
    assert correction.inner_text() == "No book matches “hary poter”; showing results for “harry potter”."
    assert [re.sub(r".*#(\d+)\)$", r"\1", title) for title in page.locator(".result-title").all_inner_texts()] == [
        "1", "2", "7"]
    assert_fits(page)
    shoot(page, "search-corrected")

    page.goto(f"{live_server.url}/search/?q=ahrry+potter")
    page.get_by_test_id("search-correction").get_by_role("link", name="“harry potter”").click()
    page.wait_for_url(re.compile(r"q=harry"))
    assert page.locator(".result-title").count() == 3
    assert_fits(page)
