"""The "For you" page: why it has nothing to suggest (the API's reason, word for word), and the books the reader
is not interested in, listed with an Undo that lets them be suggested again."""
import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from books.models import Shelf
from books.services import shelf_add_book, shelves_ensure_standard
from recommender import views
from recommender.models import DismissedBook
from recommender.selectors import NoRecommendations
from recommender.services.dismissals import book_dismiss
from tests.factories import make_book

pytestmark = pytest.mark.django_db


def shelve(user, book):
    shelves_ensure_standard(user=user)
    shelf_add_book(shelf=Shelf.objects.get(user=user, kind=Shelf.Kind.READ), book=book)


def recommended(client) -> list:
    return [item.book for item in client.get(reverse("for_you")).context["recommendations"]]


# --- Why there is nothing to suggest --------------------------------------------------------------------


def shelve_the_first_book(user, genre_catalogue):
    shelve(user, genre_catalogue["books"][0])


def shelve_nothing(user, genre_catalogue):
    pass


def shelve_only_a_book_without_a_vector(user, genre_catalogue):
    shelve(user, make_book("Imported After Training", "New Author", genre="Fantasy"))


def shelve_one_book_and_dismiss_every_other(user, genre_catalogue):
    first, *others = genre_catalogue["books"]
    shelve(user, first)
    for book in others:
        book_dismiss(user=user, book=book)


@pytest.mark.parametrize(
    ("trained", "shelves", "reason", "heading"),
    [
        (False, shelve_the_first_book, NoRecommendations.NO_ACTIVE_VERSION, "Recommendations are on their way"),
        (True, shelve_nothing, NoRecommendations.EMPTY_SHELVES, "Your shelves are empty"),
        (True, shelve_only_a_book_without_a_vector, NoRecommendations.NO_SHELVED_BOOK_WITH_VECTOR,
         "Your books are not on the map yet"),
        (True, shelve_one_book_and_dismiss_every_other, NoRecommendations.ALL_NEIGHBOURS_TAKEN,
         "Nothing new to suggest yet"),
    ],
)
def test_the_page_and_the_api_give_the_same_reason_for_no_recommendations(
    request, client, user, genre_catalogue, trained, shelves, reason, heading
):
    if trained:
        request.getfixturevalue("embeddings")
    shelves(user, genre_catalogue)
    client.force_login(user)

    page = client.get(reverse("for_you"))

    html = page.content.decode()
    assert page.context["recommendations"] == [] and page.context["why_none"] is reason
    assert heading in html and escape(reason.value) in html
    assert client.get("/api/v1/me/recommendations/").json()["detail"] == reason.value


def test_a_reader_whose_only_book_has_no_vector_is_told_so_not_that_its_neighbours_are_taken(
    client, user, embeddings, genre_catalogue
):
    shelve_only_a_book_without_a_vector(user, genre_catalogue)
    client.force_login(user)
    html = client.get(reverse("for_you")).content.decode()
    assert "put books that have vectors on your shelves" in html
    assert "no neighbours left" not in html


# --- Not interested, and undo ---------------------------------------------------------------------------


def test_dismissed_books_are_listed_most_recent_first_each_with_a_link_and_an_undo(client, user, embeddings,
                                                                                  genre_catalogue):
    shelve(user, genre_catalogue["books"][0])
    client.force_login(user)
    assert 'data-testid="dismissed"' not in client.get(reverse("for_you")).content.decode(), "none yet: no list"
    dismissed = genre_catalogue["books"][1:4]
    for book in dismissed:
        client.post(reverse("book_not_interested", args=[book.pk]))

    page = client.get(reverse("for_you"), {"batch": 1})

    assert [dismissal.book for dismissal in page.context["dismissed"]] == dismissed[::-1]
    html = page.content.decode()
    listed = html[html.index('data-testid="dismissed"'):]
    links = [listed.index(f'href="{reverse("book", args=[book.pk])}"') for book in dismissed[::-1]]
    assert links == sorted(links), "most recent first"
    for book in dismissed:
        assert f'<form method="post" action="{reverse("book_not_interested_undo", args=[book.pk])}"' in listed
    assert listed.count('name="csrfmiddlewaretoken"') == 3
    assert listed.count('<input type="hidden" name="next" value="/for-you/?batch=1">') == 3, "back to this page"


def test_the_list_shows_the_most_recent_dismissals_and_says_so(client, user, embeddings, genre_catalogue, monkeypatch):
    monkeypatch.setattr(views, "DISMISSED_SHOWN", 2)
    for book in genre_catalogue["books"][:3]:
        book_dismiss(user=user, book=book)
    client.force_login(user)
    page = client.get(reverse("for_you"))
    assert [dismissal.book for dismissal in page.context["dismissed"]] == genre_catalogue["books"][2:0:-1]
    assert "(the 2 most recent)" in page.content.decode()


def test_undo_lets_the_book_be_suggested_again_and_goes_back_with_a_message(client, user, embeddings, genre_catalogue):
    shelve(user, genre_catalogue["books"][0])
    client.force_login(user)
    first = recommended(client)[0]
    client.post(reverse("book_not_interested", args=[first.pk]))
    assert first not in recommended(client)

    response = client.post(reverse("book_not_interested_undo", args=[first.pk]), {"next": "/for-you/?batch=0"},
                           follow=True)

    assert response.redirect_chain == [("/for-you/?batch=0", 302)]
    assert [str(message) for message in response.context["messages"]] == [
        f'Undone: "{first.title}" can be suggested to you again.']
    assert not DismissedBook.objects.filter(user=user).exists()
    assert response.context["recommendations"][0].book == first, "recommended again, in its place"
    assert response.context["dismissed"] == []


def test_undo_of_a_book_not_dismissed_says_so_and_leaves_other_readers_alone(client, user, other_user, genre_catalogue):
    book = genre_catalogue["books"][0]
    book_dismiss(user=other_user, book=book)
    client.force_login(user)

    response = client.post(reverse("book_not_interested_undo", args=[book.pk]), {"next": "https://evil.example/"},
                           follow=True)

    assert response.redirect_chain == [(reverse("for_you"), 302)], "never sent off the site"
    assert [str(message) for message in response.context["messages"]] == [
        f'"{book.title}" was not among the books you are not interested in.']
    assert DismissedBook.objects.filter(user=other_user, book=book).exists()
    assert client.post(reverse("book_not_interested_undo", args=[999999])).status_code == 404


def test_undo_needs_a_signed_in_reader_a_post_and_the_csrf_token(client, user, genre_catalogue):
    book = genre_catalogue["books"][0]
    book_dismiss(user=user, book=book)
    url = reverse("book_not_interested_undo", args=[book.pk])

    assert client.post(url).url.startswith(reverse("login")), "anonymous: to the login page"
    client.force_login(user)
    assert client.get(url).status_code == 405
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(user)
    assert checked.post(url).status_code == 403
    assert DismissedBook.objects.filter(user=user, book=book).exists()


def test_not_interested_on_a_later_batch_comes_back_to_that_batch(client, user, embeddings, genre_catalogue):
    shelve(user, genre_catalogue["books"][0])
    client.force_login(user)
    page = client.get(reverse("for_you"), {"batch": 1})
    book = page.context["recommendations"][0].book
    html = page.content.decode()
    form = html[html.index(f'action="{reverse("book_not_interested", args=[book.pk])}"'):]
    assert form[:form.index("</form>")].count('<input type="hidden" name="next" value="/for-you/?batch=1">') == 1

    response = client.post(reverse("book_not_interested", args=[book.pk]), {"next": "/for-you/?batch=1"})
    assert response.status_code == 302 and response.url == "/for-you/?batch=1"


# --- Cost ----------------------------------------------------------------------------------------------


def test_for_you_reads_its_suggestions_books_in_one_query(client, user, embeddings, genre_catalogue,
                                                          django_assert_max_num_queries):
    """The selector reads the suggested books with only what is shown of them (``SHOWN_BOOK_FIELDS``, the rest
    deferred): a card that showed another field would read it with one query a card."""
    shelve(user, genre_catalogue["books"][0])
    client.force_login(user)
    with django_assert_max_num_queries(12):  # as it is, with a card for each of 10 or more books
        page = client.get(reverse("for_you"))
    assert len(page.context["recommendations"]) >= 10
