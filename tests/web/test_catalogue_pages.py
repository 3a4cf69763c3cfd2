"""Catalogue and account pages: what a book's embedding was learned from, what a link is to its books, why a
book has no vector, how long ago the embeddings were trained, logging in and resetting a password."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from books.models import BookLink, Link
from books.templatetags.bookvec import ago
from recommender.models import EmbeddingVersion, TrainingRun
from tests.factories import make_book
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


def tag(book, name, count=1):
    link, _ = Link.objects.get_or_create(name=name, defaults={"display_name": name, "kind": Link.Kind.TAG})
    BookLink.objects.create(book=book, link=link, count=count)
    return link


def goodbooks_book(title, tags):
    book = make_book(title, "A. Writer", source="goodbooks")
    for count, name in enumerate(reversed(tags), start=1):
        tag(book, name, count=count)
    return book


def chips(html):
    """The link chips of a book page's "What it links to" section."""
    section = html[html.index('id="links-heading"'):]
    section = section[:section.index("</section>")]
    return [name.strip() for name in re.findall(r'class="chip chip-\w+"[^>]*>([^<]+)', section)]


# --- What a book's embedding was learned from --------------------------------------------------------


def test_book_page_leaves_out_the_links_training_ignores_and_says_how_many(client):
    book = goodbooks_book("The Hunger Games", ["to-read", "favorites", "owned", "read-in-2015", "dystopia", "ya"])
    html = client.get(reverse("book", args=[book.pk])).content.decode()
    assert chips(html) == ["dystopia", "ya"], "only the tags training learns from are chips"
    assert "4 links left out, such as “to-read”: they are on training’s removal list" in html


def test_book_page_follows_the_removal_list_of_the_run_that_trained_the_live_version(client):
    version = publish_planted_version(planted_catalogue())
    run = TrainingRun.objects.create(trigger="command", status="succeeded",
                                     params={"removed_links": ["dystopia"], "removed_link_patterns": []})
    EmbeddingVersion.objects.filter(pk=version.pk).update(training_run=run)
    book = goodbooks_book("The Hunger Games", ["to-read", "dystopia"])
    html = client.get(reverse("book", args=[book.pk])).content.decode()
    assert chips(html) == [], "a shelf name is never a chip, even where training learns from it"
    assert "1 tag not shown, “to-read”" in html
    assert "1 link left out, “dystopia”: it is on training’s removal list" in html


def test_book_page_says_what_its_links_are_for_its_source(client):
    tagged = goodbooks_book("The Hunger Games", ["dystopia"])
    linking = make_book("War and Peace", "Leo Tolstoy")
    tag(linking, "napoleon")
    tagged_html = client.get(reverse("book", args=[tagged.pk])).content.decode()
    linking_html = client.get(reverse("book", args=[linking.pk])).content.decode()
    # Neither has a vector yet (nothing is trained): its links are what its embedding will be learned from.
    assert "The tags readers gave it: what its embedding will be learned from, once training can place it." in tagged_html
    assert "Wikipedia pages" not in tagged_html
    assert ("The Wikipedia pages its article links to: what its embedding will be learned from, once training can "
            "place it.") in linking_html
    assert "tags readers" not in linking_html


def test_book_page_without_links_left_out_says_nothing_of_them(client):
    book = goodbooks_book("The Hunger Games", ["dystopia"])
    html = client.get(reverse("book", args=[book.pk])).content.decode()
    assert chips(html) == ["dystopia"] and 'data-testid="links-left-out"' not in html


def test_book_page_queries_do_not_grow_with_its_links(client):
    publish_planted_version(planted_catalogue())
    few = goodbooks_book("Few tags", ["to-read", "dystopia"])
    many = goodbooks_book("Many tags", ["to-read", "owned", "kindle"] + [f"theme {i}" for i in range(30)])
    counts = []
    for book in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("book", args=[book.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Why a book has no vector ------------------------------------------------------------------------


def test_a_book_added_after_training_will_be_placed_by_the_next_run(client):
    publish_planted_version(planted_catalogue())
    book = make_book("A Book Added Later", "New Author")
    html = client.get(reverse("book", args=[book.pk])).content.decode()
    assert "This book has no vector yet: it was added after the current embeddings were trained" in html


def test_a_book_older_than_the_embeddings_has_nothing_to_learn_from(client):
    book = goodbooks_book("An Old Unshelved Book", ["to-read"])
    publish_planted_version(planted_catalogue())
    html = client.get(reverse("book", args=[book.pk])).content.decode()
    assert "This book has no vector yet: it has nothing the model could learn from" in html
    assert "lets the next training run place it" in html
    assert "added after the current embeddings were trained" not in html


# --- What a link is to its books ---------------------------------------------------------------------


def test_a_reader_tag_page_says_books_are_tagged_with_it(client):
    books = [goodbooks_book(f"School story {i}", ["school"]) for i in range(3)]
    html = client.get(reverse("link", args=[books[0].links.get().pk])).content.decode()
    assert '<p class="eyebrow">Reader tag</p>' in html and "3 books tagged with it" in html
    assert "Wikipedia link" not in html


def test_a_wikipedia_link_page_says_books_link_to_it(client):
    link = Link.objects.create(name="russia", display_name="Russia", kind=Link.Kind.WIKILINK)
    for title in ("War and Peace", "Anna Karenina"):
        BookLink.objects.create(book=make_book(title, "Leo Tolstoy"), link=link)
    html = client.get(reverse("link", args=[link.pk])).content.decode()
    assert '<p class="eyebrow">Wikipedia link</p>' in html and "2 books link to it" in html


def test_a_name_both_tagged_and_linked_says_which_books_do_which(client):
    link = Link.objects.create(name="school", display_name="school", kind=Link.Kind.WIKILINK)
    BookLink.objects.create(book=make_book("Tom Brown's School Days", "Thomas Hughes"), link=link)
    for i in range(2):
        tag(make_book(f"School story {i}", source="goodbooks"), "school")
    html = client.get(reverse("link", args=[link.pk])).content.decode()
    assert '<p class="eyebrow">Reader tag and Wikipedia link</p>' in html
    assert "3 books: 2 tagged with it, 1 links to it" in html


def test_a_link_training_ignores_says_so_instead_of_too_few_books(client):
    books = [goodbooks_book(f"Unread {i}", ["to-read"]) for i in range(3)]
    html = client.get(reverse("link", args=[books[0].links.get().pk])).content.decode()
    assert "Training leaves this link out" in html and "too few books use it" not in html


# --- How long ago the embeddings were trained -------------------------------------------------------


def test_home_says_embeddings_trained_under_a_minute_ago_were_trained_just_now(client):
    publish_planted_version(planted_catalogue())
    html = client.get(reverse("home")).content.decode()
    assert "just now</time>" in html and "0 minutes" not in html


def test_older_embeddings_say_how_long_ago():
    assert ago(timezone.now() - timedelta(hours=3, minutes=5)) == "3\xa0hours, 5\xa0minutes ago"


# --- Logging in and resetting a password ------------------------------------------------------------


def test_the_nav_login_link_on_the_login_page_keeps_its_next_and_never_points_back_to_itself(client):
    html = client.get(reverse("login"), {"next": "/shelves/"}).content.decode()
    assert '<a href="/accounts/login/?next=/shelves/">Log in</a>' in html
    html = client.get(reverse("login")).content.decode()
    assert '<a href="/accounts/login/">Log in</a>' in html


def test_the_nav_login_link_elsewhere_comes_back_to_the_page(client):
    html = client.get(reverse("search"), {"q": "war"}).content.decode()
    assert '<a href="/accounts/login/?next=/search/%3Fq%3Dwar">Log in</a>' in html


def test_a_forgotten_password_is_reset_by_email(client, django_user_model):
    user = django_user_model.objects.create_user(username="reader", email="reader@example.com",
                                                 password="a-long-passphrase")
    login_page = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("password_reset")}">Forgot your password?</a>' in login_page
    assert "Reset your password" in client.get(reverse("password_reset")).content.decode()
    done = client.post(reverse("password_reset"), {"email": "reader@example.com"}, follow=True)
    assert "Check your email" in done.content.decode() and len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Password reset on Bookvec"
    assert "The Bookvec team" in mail.outbox[0].body and "testserver team" not in mail.outbox[0].body
    confirm_url = reverse("password_reset_confirm",
                          args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)])
    form = client.get(confirm_url, follow=True)
    assert "Choose a new password" in form.content.decode()
    complete = client.post(form.redirect_chain[-1][0], {"new_password1": "another-long-passphrase",
                                                        "new_password2": "another-long-passphrase"}, follow=True)
    assert "Password set" in complete.content.decode()
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")
    assert "This link has expired" in client.get(confirm_url, follow=True).content.decode()
