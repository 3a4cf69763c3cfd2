"""The site in a real browser (Debian's Chromium driven by Playwright) at a desktop width (1280 px) and a phone's
(390 px): error pages, the first training's progress, the book page, the header, covers and the staff pages.
Screenshots go to screenshots/ (git-ignored) on each run, to look at."""
import re

import pytest
from django.contrib.auth import get_user_model

from books.models import BookLink, Link
from books.services import shelf_add_book, shelf_create, shelves_ensure_standard
from recommender.models import TrainingRun
from recommender.services.versions import version_activate
from tests.factories import make_book

from .test_browser import SCREENSHOTS, browser, pytestmark  # noqa: F401  (the shared browser and its markers)

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(params=list(WIDTHS))
def page(request, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width_name = request.param
    yield page
    context.close()


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{page.width_name}.png", full_page=True)


def sign_in(page, live_server, username, *, next_url="/"):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


def assert_fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTHS[page.width_name], f"{page.url} is {width} px wide"


def test_error_pages_are_styled_and_a_private_shelf_is_one_of_them(page, live_server, genre_catalogue):
    reader = get_user_model().objects.create_user(username="private", password="a-long-passphrase")
    shelves_ensure_standard(user=reader)
    secret = shelf_create(user=reader, name="Secret reading")
    for path in ("/no-such-page/", "/books/999999/", f"/shelves/{secret.pk}/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404
        assert page.get_by_role("heading", name="This page is not on any shelf.").is_visible()
        assert page.locator(".site-header .brand").is_visible()
        assert_fits(page)
    shoot(page, "404")
    assert page.goto(f"{live_server.url}/favicon.ico").status == 200


def test_the_first_trainings_progress_follows_the_run_and_goes_once_a_version_is_live(page, live_server, embeddings):
    live = embeddings
    live.__class__.objects.filter(pk=live.pk).update(is_active=False)
    run = TrainingRun.objects.create(trigger="command", status="running", stage="reading pairs")
    page.goto(live_server.url)
    progress = page.get_by_test_id("first-training")
    assert progress.is_visible() and "0% · Reading pairs" in progress.inner_text()
    assert_fits(page)
    TrainingRun.objects.filter(pk=run.pk).update(epoch=2, epochs=4, step=6, steps_per_epoch=10,
                                                 stage="training (loss 0.4321)")
    page.wait_for_function("document.querySelector('[data-training-state]').textContent.includes('40%')")
    assert "40% · Training (loss 0.4321) · epoch 2 of 4" in progress.inner_text()
    assert page.locator(".first-training progress").evaluate("bar => bar.value") == 40
    shoot(page, "first-training")

    version_activate(version=live)
    page.wait_for_selector("[data-testid=first-training]", state="detached")
    assert page.get_by_text("Explore the map of 41 books").is_visible()


def test_the_header_is_one_compact_row_with_a_menu_on_a_phone(page, live_server, genre_catalogue):
    get_user_model().objects.create_user(username="header", password="a-long-passphrase", is_staff=True)
    sign_in(page, live_server, "header")
    for path in ("/", f"/books/{genre_catalogue['war_and_peace'].pk}/", "/for-you/"):
        page.goto(f"{live_server.url}{path}")
        header = page.locator(".site-header").bounding_box()
        nav = page.get_by_role("navigation", name="Main")
        if page.width_name == "phone":
            assert header["height"] <= 64, f"the header of {path} is {header['height']} px high"
            assert not nav.is_visible()
            page.locator(".menu-toggle").click()
            assert nav.get_by_role("link", name="For you").is_visible()
            assert page.locator(".header-search").get_by_role("searchbox").is_visible()
            assert_fits(page)
            shoot(page, "header-menu-open")
            page.locator(".menu-toggle").click()
            assert not nav.is_visible()
        else:
            assert header["height"] <= 72 and not page.locator(".menu-toggle").is_visible()
            assert nav.get_by_role("link", name="For you").is_visible()
            assert page.locator(".header-search").get_by_role("searchbox").is_visible()
    shoot(page, "header")


def test_move_to_on_a_shelf_page_keeps_its_words_whole(page, live_server, genre_catalogue):
    reader = get_user_model().objects.create_user(username="mover", password="a-long-passphrase")
    shelves_ensure_standard(user=reader)
    shelf = shelf_create(user=reader, name="Science fiction novels recommended by my book club, all of them")
    for book in genre_catalogue["books"][:3]:
        shelf_add_book(shelf=shelf, book=book)
    sign_in(page, live_server, "mover")
    page.goto(f"{live_server.url}/shelves/{shelf.pk}/")
    labels = page.get_by_text("Move to", exact=True)
    assert labels.count() == 3
    line_height = labels.first.evaluate("label => parseFloat(getComputedStyle(label).lineHeight)")
    for index in range(3):
        assert labels.nth(index).bounding_box()["height"] < 1.5 * line_height, "one line"
    shoot(page, "shelf")
    assert_fits(page)


def test_the_book_page_shows_ratings_readers_a_clean_title_and_only_the_tags_about_the_book(page, live_server,
                                                                                          embeddings):
    from .test_book_page import HUNGER_GAMES_ROW

    book = make_book("The Hunger Games (The Hunger Games, #1)", "Suzanne Collins", source="goodbooks",
                     metadata=HUNGER_GAMES_ROW, genre="Science fiction")
    for name in ("dystopia", "young-adult", "my-favorites", "5-star", "to-read"):
        link, _ = Link.objects.get_or_create(name=name, defaults={"display_name": name, "kind": Link.Kind.TAG})
        BookLink.objects.create(book=book, link=link, count=3)
    reader = get_user_model().objects.create_user(username="fan", password="a-long-passphrase")
    shelves_ensure_standard(user=reader)
    shelf_add_book(shelf=reader.shelves.get(kind="read"), book=book)
    page.goto(f"{live_server.url}/books/{book.pk}/")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "The Hunger Games"
    assert heading.get_attribute("title") == "The Hunger Games (The Hunger Games, #1)"
    assert page.get_by_test_id("series").inner_text() == "The Hunger Games, #1"
    reception = page.get_by_test_id("reception")
    assert "4.34" in reception.inner_text() and "1 reader shelved it here" in reception.inner_text()
    assert page.locator(".rating-bars tr").count() == 5
    assert page.get_by_role("link", name="Reader tags from goodbooks-10k").is_visible()
    chips = page.locator(".chips .chip-tag").all_inner_texts()
    assert [chip.split()[0] for chip in chips] == ["dystopia", "young-adult"]
    assert_fits(page)
    shoot(page, "book")


def test_covers_that_cannot_load_leave_the_placeholder_quietly(page, live_server, genre_catalogue):
    books = genre_catalogue["books"]
    for book in books:
        book.cover_url = f"https://covers.invalid/{book.pk}.jpg"
        book.save(update_fields=["cover_url"])
    asked, script_errors = [], []
    page.route("https://covers.invalid/**", lambda route: (asked.append(route.request.url), route.abort()))
    page.on("pageerror", lambda error: script_errors.append(error))
    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("networkidle")
    covers = page.locator("img[data-cover]")
    assert all(attribute == "lazy" for attribute in covers.evaluate_all("images => images.map(i => i.loading)"))
    assert set(covers.evaluate_all("images => images.map(i => i.referrerPolicy)")) <= {"no-referrer"}
    shown_before_scrolling = len(asked)
    assert 0 < shown_before_scrolling < 12 + 6, "covers below the fold wait until they are scrolled to"
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(500)
    page.wait_for_load_state("networkidle")
    assert page.locator("img[data-cover]").count() == 0, "each cover that failed is gone"
    assert page.locator(".book-grid .cover-title").first.is_visible(), "the drawn placeholder shows instead"
    assert not script_errors
    shoot(page, "covers-offline")


FULL_METRICS = {"heldout_auc": 0.9412, "same_author_precision@5": 0.4391, "same_author_precision@10": 0.3811,
                "genre_knn_accuracy@10": 0.7702, "country_knn_accuracy@10": 0.6611, "shelf_recall@20": 0.1862,
                "shelf_ndcg@20": 0.1281, "popularity_recall@20": 0.0912, "popularity_ndcg@20": 0.0611,
                "votes_recall@20": 0.1691, "votes_ndcg@20": 0.1093, "shelf_users": 12345,
                "wikipedia:same_author_precision@5": 0.5551, "goodbooks:same_author_precision@5": 0.4212}


@pytest.fixture
def staff_history(embeddings, genre_catalogue):
    """The live version (from ``embeddings``) and a newer one from a finished run with every metric and some
    parameters changed, not activated; a few more runs."""
    import numpy as np

    from recommender.models import EmbeddingVersion
    from recommender.services.versions import version_publish
    from recommender.training.params import TrainingParams

    EmbeddingVersion.objects.filter(pk=embeddings.pk).update(metrics=FULL_METRICS)
    run = TrainingRun.objects.create(
        trigger="admin", status="succeeded", epochs=20, epoch=20, steps_per_epoch=40, step=40, stage="done",
        loss_history=[0.69, 0.52, 0.41, 0.37], params={**TrainingParams().to_dict(), "epochs": 20, "seed": 7},
        metrics={**FULL_METRICS, "heldout_auc": 0.9533, "live": FULL_METRICS,
                 "quality_gate": {"passed": True, "activated": False, "reasons": []}})
    for status in ("failed", "cancelled", "succeeded"):
        TrainingRun.objects.create(trigger="schedule", status=status, stage=status, metrics=FULL_METRICS)
    vectors = embeddings.book_vectors.order_by("book_id")
    books = np.array([vector.book_id for vector in vectors])
    link_vectors = embeddings.link_vectors.order_by("link_id")
    newer = version_publish(
        run=run, book_ids=books, book_vectors=np.stack([np.asarray(v.embedding) for v in vectors]),
        link_ids=np.array([v.link_id for v in link_vectors]),
        link_vectors=np.stack([np.asarray(v.embedding) for v in link_vectors]),
        metrics={**FULL_METRICS, "heldout_auc": 0.9533})
    return {"live": embeddings, "newer": newer, "run": run}


def test_the_staff_training_page_names_metrics_in_words_and_never_breaks_a_figure(page, live_server, staff_history):
    get_user_model().objects.create_user(username="trainer", password="a-long-passphrase", is_staff=True)
    sign_in(page, live_server, "trainer", next_url="/staff/training/")
    figures = page.locator("dl.metrics dd")
    assert figures.count() >= 14
    assert "Same-author precision@5" in page.locator("dl.metrics").first.inner_text()
    assert "same_author_precision" not in page.locator("main").inner_text()
    heights = figures.evaluate_all("figures => figures.map(f => f.getBoundingClientRect().height)")
    line = figures.first.evaluate("figure => parseFloat(getComputedStyle(figure).lineHeight)")
    assert max(heights) < 1.5 * line, "every figure on one line"
    assert_fits(page)
    shoot(page, "training")


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_admins_run_and_version_lists_fit_and_going_live_asks_first(browser, live_server, staff_history,  # noqa: F811
                                                                      width):
    get_user_model().objects.create_superuser(username="root", password="a-long-passphrase")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    for model in ("trainingrun", "embeddingversion"):
        page.goto(f"{live_server.url}/admin/recommender/{model}/")
        table, box = page.locator("#result_list"), page.locator("#changelist .results")
        page.screenshot(path=SCREENSHOTS / f"admin-{model}-{width}.png", full_page=True)
        assert table.evaluate("t => t.scrollWidth") <= box.evaluate("b => b.clientWidth"), f"{model} list clipped"
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    run_page = f"{live_server.url}/admin/recommender/trainingrun/{staff_history['run'].pk}/change/"
    page.goto(run_page)
    assert page.locator("input[name=_save], input[name=_continue]").count() == 0
    assert page.locator("table.params tr.changed").count() == 2
    page.screenshot(path=SCREENSHOTS / f"admin-run-{width}.png", full_page=True)

    live, newer = staff_history["live"], staff_history["newer"]
    page.goto(f"{live_server.url}/admin/recommender/embeddingversion/")
    page.locator(f"input[name=_selected_action][value='{newer.pk}']").check()
    page.locator("select[name=action]").select_option("activate")
    page.locator("button[name=index]").click()
    asking = page.get_by_test_id("confirm-live")
    assert f"version {newer.pk}" in asking.inner_text() and f"instead of version {live.pk}" in asking.inner_text()
    assert "Held-out link AUC" in asking.inner_text() and "0.953" in asking.inner_text()
    page.screenshot(path=SCREENSHOTS / f"admin-confirm-{width}.png", full_page=True)
    page.get_by_role("link", name=re.compile("^No, keep version")).click()
    assert live.__class__.objects.get(is_active=True).pk == live.pk
    page.get_by_role("link", name="Roll back to the previous version").click()
    assert "no earlier ready version" in page.locator(".messagelist").inner_text()
    page.locator(f"input[name=_selected_action][value='{newer.pk}']").check()
    page.locator("select[name=action]").select_option("activate")
    page.locator("button[name=index]").click()
    page.get_by_role("button", name=f"Yes, make version {newer.pk} live").click()
    assert f"Version {newer.pk} is live." in page.locator(".messagelist").inner_text()
    page.get_by_role("link", name="Roll back to the previous version").click()
    assert f"Roll back to version {live.pk}?" in page.locator("h1").inner_text()
    page.get_by_role("button", name=f"Yes, roll back to version {live.pk}").click()
    assert f"Rolled back: version {live.pk} is live." in page.locator(".messagelist").inner_text()
    context.close()
