"""Real-browser tests: Debian's Chromium driven by Playwright against the live test server.

A new reader's path: search (with a typo) → open a book → see similar books → sign up → shelve it → get
recommendations that explain themselves; and the map draws every book and opens one on click.
Screenshots of the main pages go to screenshots/ (git-ignored) on each run, to look at.
"""
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; Django's async-safety check would refuse ORM calls under it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=name != "map")


def test_a_new_reader_finds_a_book_signs_up_shelves_it_and_gets_recommendations(page, live_server, embeddings,
                                                                                  genre_catalogue):
    page.goto(live_server.url)
    shoot(page, "home")
    hero = page.locator(".hero-search")
    hero.get_by_role("searchbox", name="Search books by title or author").fill("war and paece")
    hero.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search/"))
    assert page.get_by_text("showing results for").is_visible()
    shoot(page, "search")

    page.get_by_role("link", name="War and Peace", exact=True).first.click()
    page.wait_for_url(re.compile(r"/books/\d+/$"))
    book_url = page.url
    similar = page.locator("[data-testid=similar-books] .book-card")
    assert similar.count() == 12
    assert "Historical novel book" in similar.first.inner_text() and "alike" in similar.first.inner_text()
    shoot(page, "book")

    page.locator(".shelf-controls").get_by_role("link", name="sign up").click()
    page.get_by_label("Username").fill("tolstoyan")
    page.get_by_label("Password", exact=True).fill("a-long-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(book_url)
    assert get_user_model().objects.filter(username="tolstoyan").exists()

    page.get_by_label("Add to shelf").select_option(label="Read")
    page.get_by_role("button", name="Add", exact=True).click()
    assert page.get_by_text('"War and Peace" is on your shelf "Read".').is_visible()
    assert page.get_by_role("button", name="Remove from Read").is_visible()
    shoot(page, "book-shelved")

    page.get_by_role("link", name="For you").click()
    cards = page.locator("[data-testid=recommendations] .book-card")
    assert cards.count() >= 10
    first = cards.first.inner_text()
    assert "Historical novel book" in first and "Because you shelved War and Peace" in first
    shoot(page, "for-you")

    cards.first.get_by_role("button", name="Not interested").click()
    assert page.get_by_text("won't be suggested to you again").is_visible()
    assert first.splitlines()[0] not in page.locator("[data-testid=recommendations]").inner_text()
    dismissed = page.locator("[data-testid=dismissed]")
    assert first.splitlines()[0] in dismissed.inner_text()
    shoot(page, "for-you-dismissed")
    dismissed.get_by_role("button", name=re.compile(r"^Undo")).click()
    assert page.get_by_text("can be suggested to you again").is_visible()
    assert first.splitlines()[0] in page.locator("[data-testid=recommendations] .book-card").first.inner_text()
    assert page.locator("[data-testid=dismissed]").count() == 0

    page.get_by_role("link", name="My shelves").click()
    shoot(page, "shelves")


def test_the_map_draws_every_book_and_a_click_opens_one(page, live_server, embeddings, genre_catalogue):
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-drawn-points='41']")
    assert page.locator("#map-legend li").count() == 4, "four genres (no Other, no Not given)"
    page.get_by_label("Find a book on the map").fill("war and")
    page.get_by_role("option").first.click()
    focus = page.locator("#map-focus")
    focus.locator("ol li").first.wait_for()
    assert focus.locator("ol li").count() == 10 and "Historical novel book" in focus.inner_text()
    page.wait_for_timeout(700)  # the zoom transition
    shoot(page, "map")

    page.get_by_label("Country").check()
    assert "Russia" in page.locator("#map-legend").inner_text()
    page.get_by_label("Source").check()
    assert page.locator("#map-legend").inner_text().split() == ["Wikipedia", "41"], "one source, with its count"

    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-drawn-points='41']")
    target = genre_catalogue["books"][5]
    x, y = page.evaluate(
        """(id) => {
            const map = window.bookvecMap, index = map.indexById.get(id);
            const [x, y] = map.scatterplot.getScreenPosition(index);
            const box = document.getElementById('map-canvas').getBoundingClientRect();
            return [box.left + x, box.top + y];
        }""",
        target.pk,
    )
    page.mouse.move(x - 5, y - 5)
    page.mouse.move(x, y, steps=5)
    page.locator("#map-tooltip").wait_for(state="visible")
    assert target.title in page.locator("#map-tooltip").inner_text()
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(rf"/books/{target.pk}/$"))


SCREEN_POSITIONS = """(ids) => {
    const map = window.bookvecMap, box = document.getElementById('map').getBoundingClientRect();
    return ids.map((id) => {
        const [x, y] = map.scatterplot.getScreenPosition(map.indexById.get(id));
        return [box.left + x, box.top + y];
    });
}"""


def test_the_map_pans_and_zooms_the_frame_drawn_and_draws_the_books_where_it_landed(page, live_server, embeddings,
                                                                                   genre_catalogue):
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-drawn-points='41']")
    ids = [book.pk for book in genre_catalogue["books"][:5]]
    before = page.evaluate(SCREEN_POSITIONS, ids)
    box = page.locator("#map").bounding_box()
    x, y = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 30, steps=6)
    moved = page.evaluate("() => document.getElementById('map-canvas').style.transform")
    page.wait_for_timeout(400)  # a rest in the drag: drawn there
    page.mouse.move(x + 100, y + 10, steps=4)
    page.mouse.up()
    page.wait_for_function("() => !document.getElementById('map-canvas').style.transform")
    after = page.evaluate(SCREEN_POSITIONS, ids)
    assert moved.startswith("translate("), "the frame drawn moves with the mouse"
    assert all(abs(a[0] - b[0] - 100) < 0.5 and abs(a[1] - b[1] - 10) < 0.5 for a, b in zip(after, before)), (
        "each book is drawn again 100 px right and 10 px down, where the mouse took it")
    assert page.url == f"{live_server.url}/map/", "a drag opens no book"

    page.mouse.move(x - 50, y + 40)
    for _ in range(3):
        page.mouse.wheel(0, -100)
    page.wait_for_function("() => !document.getElementById('map-canvas').style.transform")
    zoomed = page.evaluate(SCREEN_POSITIONS, ids)
    height = page.evaluate("() => document.getElementById('map-canvas').clientHeight")
    factor = page.evaluate(f"() => Math.exp(300 / {height})")
    assert all(abs(z[0] - (x - 50 + factor * (a[0] - x + 50))) < 0.5 and abs(z[1] - (y + 40 + factor * (a[1] - y - 40))) < 0.5
               for z, a in zip(zoomed, after)), "zoomed in about the mouse"


def test_staff_training_page_and_error_pages_look_finished(page, live_server, embeddings, django_user_model):
    django_user_model.objects.create_user(username="staffer", password="a-long-passphrase", is_staff=True)
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/training/")
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/staff/training/$"))
    assert page.get_by_role("button", name="Retrain now").is_visible()
    shoot(page, "training")
    page.goto(f"{live_server.url}/books/999999/")
    assert page.get_by_text("This page is not on any shelf.").is_visible()
    shoot(page, "404")


def test_no_page_scrolls_sideways_on_a_phone_even_with_long_shelf_names(browser, live_server, embeddings, genre_catalogue,
                                                                        django_user_model):
    from books.services import shelf_create, shelves_ensure_standard

    reader = django_user_model.objects.create_user(username="phone", password="a-long-passphrase")
    shelves_ensure_standard(user=reader)
    shelf_create(user=reader, name="Science fiction novels recommended by my book club, all of them")
    long_shelf = shelf_create(user=reader, name="x" * 100)
    book = genre_catalogue["books"][0]
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("phone")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    for path in ("/", f"/books/{book.pk}/", "/shelves/", f"/shelves/{long_shelf.pk}/", "/for-you/", "/search/?q=war"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide at 360 px"
    context.close()
