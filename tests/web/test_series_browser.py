"""Series and For you in a real browser at 1280 px and 390 px, on the bundled goodbooks books and readers with a shelf
model fitted on their shelves: the book page's series block, the series page, and For you without the rest of a
shelved series, its box sets, or three books of one author in the first row."""
from collections import Counter

from django.contrib.auth import get_user_model

from books.services import shelf_add_book, shelves_ensure_standard
from tests.recommender.series_catalogue import by_goodbooks_id, goodbooks_with_live_version

from .test_browser import browser, pytestmark  # noqa: F401  (the shared browser and its markers)
from .test_site_browser import assert_fits, page, shoot, sign_in  # noqa: F401  (both widths)

FELLOWSHIP, TWO_TOWERS, LOTR_BOX, NARNIA_1 = 19, 155, 189, 37


def test_the_series_block_lists_the_series_in_order_and_leads_to_its_page(page, live_server):  # noqa: F811
    goodbooks_with_live_version()
    page.goto(f"{live_server.url}/books/{by_goodbooks_id(FELLOWSHIP).pk}/")
    block = page.get_by_test_id("series")
    assert block.locator(".series-place").inner_text() == "Book 1 of 3 in The Lord of the Rings"
    items = block.locator("li").all_inner_texts()
    assert [item.split(maxsplit=1)[0] for item in items] == ["1", "1–3", "2", "3"]
    assert "The Fellowship of the Ring" in items[0] and block.locator("li[aria-current]").count() == 1
    for item in block.locator("li").all():
        box = item.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    assert_fits(page)
    shoot(page, "series-block")

    block.get_by_role("link", name="The Two Towers").click()
    page.wait_for_url(f"**/books/{by_goodbooks_id(TWO_TOWERS).pk}/")
    assert page.get_by_test_id("series").locator(".series-place").inner_text() == "Book 2 of 3 in The Lord of the Rings"
    page.get_by_test_id("series").get_by_role("link", name="The Lord of the Rings").first.click()
    page.wait_for_url("**/series/*/")
    assert page.get_by_role("heading", name="The Lord of the Rings").is_visible()
    cards = page.get_by_test_id("series-books").locator("li")
    assert cards.count() == 4 and cards.first.inner_text().startswith("#1")
    assert_fits(page)
    shoot(page, "series-page")


def test_for_you_shows_the_next_book_of_a_shelved_series_once_and_explains_it(page, live_server):  # noqa: F811
    goodbooks_with_live_version()
    reader = get_user_model().objects.create_user(username="tolkien-fan", password="a-long-passphrase")
    shelf = shelves_ensure_standard(user=reader)[0]
    for book_id in (FELLOWSHIP, NARNIA_1):
        shelf_add_book(shelf=shelf, book=by_goodbooks_id(book_id))
    sign_in(page, live_server, "tolkien-fan", next_url="/for-you/")
    grid = page.get_by_test_id("recommendations")
    titles = grid.locator(".book-card-title").all_inner_texts()
    assert len(titles) == 12 and "The Two Towers" in titles
    assert not {"The Return of the King", "The Lord of the Rings", "The Chronicles of Narnia"} & set(titles)
    because = grid.locator("[data-testid=because]").all_inner_texts()
    assert len(because) == 12 and all("because you shelved" in text.lower() for text in because)
    assert any("%" in text for text in because), "two shelf books: a share is named"

    cards = grid.locator(".book-card").all()
    top = cards[0].bounding_box()["y"]
    first_row = [card for card in cards if abs(card.bounding_box()["y"] - top) < 2]
    authors = Counter(card.locator(".book-card-author").inner_text().split(",")[0] for card in first_row)
    assert max(authors.values()) <= 2, authors
    assert_fits(page)
    shoot(page, "for-you-series")
