"""/api/v1/me/dismissed-books/ ("not interested"): list, dismiss, undo; an undone book is recommended again."""
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from books.services import shelf_add_book, shelf_create
from recommender.models import DismissedBook
from recommender.services.dismissals import book_dismiss

pytestmark = pytest.mark.django_db

DISMISSED = "/api/v1/me/dismissed-books/"
MINE = "/api/v1/me/recommendations/"


@pytest.fixture
def dystopias(user, novels):
    """A reader whose shelf holds The Hunger Games: Catching Fire is their first recommendation."""
    shelf = shelf_create(user=user, name="Dystopias")
    shelf_add_book(shelf=shelf, book=novels.books.hunger_games, rating=5)
    return shelf


def recommended_ids(client) -> list[int]:
    return [result["book"]["id"] for result in client.get(MINE).json()["results"]]


# --- Signed in only -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", ""), ("delete", "1/")])
def test_anonymous_may_not_see_or_change_dismissed_books(anonymous, method, path):
    response = getattr(anonymous, method)(DISMISSED + path, {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_a_session_needs_the_csrf_token_to_dismiss(user, novels):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="reader", password="a-long-passphrase")
    assert client.get(DISMISSED).status_code == 200
    response = client.post(DISMISSED, {"book": novels.books.zhivago.pk}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not DismissedBook.objects.exists()


def test_dismissed_books_are_throttled_like_every_endpoint(reader, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    cache.clear()
    try:
        assert [reader.get(DISMISSED).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        cache.clear()


# --- Dismiss, list, undo ------------------------------------------------------------------------------


def test_dismissing_is_201_when_new_and_200_when_already_dismissed(reader, user, novels):
    zhivago = novels.books.zhivago
    created = reader.post(DISMISSED, {"book": zhivago.pk}, format="json")
    assert created.status_code == 201
    assert created.json()["book"]["id"] == zhivago.pk and created.json()["book"]["title"] == "Doctor Zhivago"
    again = reader.post(DISMISSED, {"book": zhivago.pk}, format="json")
    assert again.status_code == 200, "already dismissed: nothing was created"
    assert again.json()["dismissed_at"] == created.json()["dismissed_at"]
    assert DismissedBook.objects.filter(user=user).count() == 1


def test_the_list_is_mine_most_recent_first_and_paginated(reader, user, other_user, novels):
    b = novels.books
    for book in (b.zhivago, b.master, b.catching_fire):
        book_dismiss(user=user, book=book)
    book_dismiss(user=other_user, book=b.anna_karenina)

    listed = reader.get(DISMISSED).json()
    assert listed["count"] == 3
    assert [d["book"]["title"] for d in listed["results"]] == [
        "Catching Fire", "The Master and Margarita", "Doctor Zhivago"]

    first_page = reader.get(DISMISSED, {"page_size": 2}).json()
    assert len(first_page["results"]) == 2 and first_page["next"]
    second_page = reader.get(DISMISSED, {"page_size": 2, "page": 2}).json()
    assert [d["book"]["title"] for d in second_page["results"]] == ["Doctor Zhivago"]
    assert reader.get(DISMISSED, {"page": 3}).status_code == 404
    assert reader.get(DISMISSED, {"page": 0}).status_code == 400


def test_the_list_makes_the_same_few_queries_however_many_books(reader, user, novels,
                                                               django_assert_max_num_queries):
    for book in vars(novels.books).values():
        book_dismiss(user=user, book=book)
    with django_assert_max_num_queries(3):  # token, count, page (books joined); no query per book
        assert reader.get(DISMISSED).json()["count"] == 7


def test_undo_is_204_then_404_naming_the_id(reader, user, novels):
    zhivago = novels.books.zhivago
    book_dismiss(user=user, book=zhivago)
    assert reader.delete(f"{DISMISSED}{zhivago.pk}/").status_code == 204
    assert not DismissedBook.objects.filter(user=user).exists()
    again = reader.delete(f"{DISMISSED}{zhivago.pk}/")
    assert again.status_code == 404
    assert again.json() == {"detail": f"No dismissed book with id {zhivago.pk}."}


@pytest.mark.parametrize("book_id", [999999, 2**64])
def test_undoing_an_unknown_book_is_404_naming_it(reader, novels, book_id):
    response = reader.delete(f"{DISMISSED}{book_id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": f"No dismissed book with id {book_id}."}


def test_another_readers_dismissal_is_not_mine_to_undo(reader, other_user, novels):
    book_dismiss(user=other_user, book=novels.books.master)
    assert reader.delete(f"{DISMISSED}{novels.books.master.pk}/").status_code == 404
    assert DismissedBook.objects.filter(user=other_user, book=novels.books.master).exists()


def test_a_dismissed_book_is_not_recommended_and_an_undone_one_is_again(reader, dystopias, novels,
                                                                      active_version):
    catching_fire = novels.books.catching_fire
    assert recommended_ids(reader)[0] == catching_fire.pk

    assert reader.post(DISMISSED, {"book": catching_fire.pk}, format="json").status_code == 201
    assert catching_fire.pk not in recommended_ids(reader)

    assert reader.delete(f"{DISMISSED}{catching_fire.pk}/").status_code == 204
    assert recommended_ids(reader)[0] == catching_fire.pk


# --- Bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"book": 999999}, {"book": ["No book with id 999999."]}),
        ({}, {"book": ["This field is required."]}),
        ({"book": None}, {"book": ["This field may not be null."]}),
        ({"book": "Doctor Zhivago"}, {"book": ["Expected a book id (a whole number), got string 'Doctor Zhivago'."]}),
        ({"book": 1.5}, {"book": ["Expected a book id (a whole number), got number 1.5."]}),
        ({"book": 1, "rating": 3}, {"rating": ["Unknown field. Known fields: book."]}),
    ],
)
def test_dismissing_a_bad_book_is_400_naming_the_field(reader, novels, body, errors):
    if body.get("book") == 1:
        body = {**body, "book": novels.books.zhivago.pk}
    response = reader.post(DISMISSED, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert response.json()["detail"].startswith("Invalid input. ")
    assert not DismissedBook.objects.exists()


@pytest.mark.parametrize("raw", ['{"book": 1', "[1]", "null"])
def test_malformed_or_non_object_json_is_400(reader, raw):
    response = reader.post(DISMISSED, raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]


def test_a_form_body_is_415(reader, novels):
    response = reader.post(DISMISSED, {"book": novels.books.zhivago.pk})
    assert response.status_code == 415


@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", ""), ("delete", "1/")])
def test_unknown_query_parameters_are_400(reader, user, novels, method, path):
    book_dismiss(user=user, book=novels.books.war_and_peace)
    url = f"{DISMISSED}{path.replace('1', str(novels.books.war_and_peace.pk))}?sort=title"
    response = getattr(reader, method)(url, {"book": novels.books.zhivago.pk} if method == "post" else None,
                                       format="json")
    assert response.status_code == 400
    assert "sort" in response.json()["errors"]
    assert DismissedBook.objects.count() == 1, "nothing was dismissed or undone"


@pytest.mark.parametrize("book", [1.5, 2.9, 1e0, True, "\u0663", " 2 ", "2.0", [1], None])
def test_a_book_id_is_a_whole_number_never_cut_down_to_one(reader, novels, book):
    """1.5 used to dismiss book 1."""
    response = reader.post(DISMISSED, {"book": book}, format="json")
    assert response.status_code == 400, response.content
    assert "book" in response.json()["errors"]
    assert not DismissedBook.objects.exists()


def test_a_book_id_may_be_given_as_its_digits(reader, novels):
    zhivago = novels.books.zhivago
    assert reader.post(DISMISSED, {"book": str(zhivago.pk)}, format="json").status_code == 201
    assert reader.post(DISMISSED, {"book": 2**70}, format="json").json()["errors"]["book"] == [
        f"No book with id {2**70}."]
