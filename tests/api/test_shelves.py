"""/api/v1/me/shelves/… (the signed-in reader's) and other readers' shelves: what each may and may not do."""
import pytest

from books.models import Shelf, ShelfEntry
from books.services import shelf_add_book, shelf_create, shelves_ensure_standard

pytestmark = pytest.mark.django_db

MY_SHELVES = "/api/v1/me/shelves/"


@pytest.fixture
def favourites(user):
    shelves_ensure_standard(user=user)
    return Shelf.objects.get(user=user, kind=Shelf.Kind.FAVOURITES)


@pytest.fixture
def russians(user, novels):
    shelf = shelf_create(user=user, name="Russians")
    shelf_add_book(shelf=shelf, book=novels.books.war_and_peace, rating=5)
    shelf_add_book(shelf=shelf, book=novels.books.master)
    return shelf


@pytest.fixture
def others_private(other_user, novels):
    shelf = shelf_create(user=other_user, name="Secret")
    shelf_add_book(shelf=shelf, book=novels.books.hunger_games)
    return shelf


@pytest.fixture
def others_public(other_user, novels):
    shelf = shelf_create(user=other_user, name="Recommended reading", is_public=True)
    shelf_add_book(shelf=shelf, book=novels.books.anna_karenina, rating=4)
    return shelf


# --- Anonymous -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""), ("post", ""), ("get", "1/"), ("patch", "1/"), ("delete", "1/"), ("get", "1/books/"),
        ("post", "1/books/"), ("patch", "1/books/1/"), ("delete", "1/books/1/"), ("post", "1/books/1/move/"),
    ],
)
def test_anonymous_may_not_use_my_shelves(anonymous, method, path):
    response = getattr(anonymous, method)(MY_SHELVES + path, {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


# --- My shelves ------------------------------------------------------------------------------------------


def test_my_shelves_start_with_the_four_standard_ones(reader):
    response = reader.get(MY_SHELVES)
    assert response.status_code == 200
    shelves = response.json()
    assert [shelf["kind"] for shelf in shelves] == ["want-to-read", "reading", "read", "favourites"]
    assert all(shelf["is_standard"] and not shelf["is_public"] and shelf["owner"] == "reader" for shelf in shelves)


def test_create_rename_publish_and_delete_a_shelf(reader, user):
    created = reader.post(MY_SHELVES, {"name": "  Summer   reading "}, format="json")
    assert created.status_code == 201
    shelf = created.json()
    assert (shelf["name"], shelf["kind"], shelf["is_public"], shelf["book_count"]) == ("Summer reading", "custom", False, 0)

    renamed = reader.patch(f"{MY_SHELVES}{shelf['id']}/", {"name": "Holiday", "is_public": True}, format="json")
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["is_public"]) == ("Holiday", True)

    assert reader.delete(f"{MY_SHELVES}{shelf['id']}/").status_code == 204
    assert not Shelf.objects.filter(pk=shelf["id"]).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "Russians"}, 'You already have a shelf named "Russians".'),
        ({"name": "RUSSIANS"}, 'You already have a shelf named "Russians".'),
        ({"name": "want to read"}, 'You already have a shelf named "Want to read".'),
        ({"name": "   "}, "name: This field may not be blank."),
    ],
)
def test_shelf_names_are_checked(reader, russians, body, message):
    response = reader.post(MY_SHELVES, body, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_rename_to_another_shelfs_name_in_another_case_is_400(reader, russians):
    poetry = shelf_create(user=russians.user, name="Poetry")
    response = reader.patch(f"{MY_SHELVES}{poetry.pk}/", {"name": "russians", "is_public": True}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == 'You already have a shelf named "Russians".'
    poetry.refresh_from_db()
    assert (poetry.name, poetry.is_public) == ("Poetry", False)
    assert reader.patch(f"{MY_SHELVES}{poetry.pk}/", {"name": "POETRY"}, format="json").json()["name"] == "POETRY"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ["Russians"]}, {"name": "x" * 101}, {"name": "ok", "is_public": "perhaps"}, {"name": "Nu\x00ll"},
     ["name"], "name"],
)
def test_a_malformed_shelf_is_400(reader, body):
    response = reader.post(MY_SHELVES, body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_malformed_json_is_400(reader):
    response = reader.post(MY_SHELVES, '{"name": "Unclosed', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_form_body_is_415(reader):
    response = reader.post(MY_SHELVES, {"name": "Form"})
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_standard_shelves_cannot_be_renamed_or_deleted(reader, favourites):
    response = reader.patch(f"{MY_SHELVES}{favourites.pk}/", {"name": "Loved"}, format="json")
    assert response.status_code == 400 and "standard shelf" in response.json()["detail"]
    response = reader.delete(f"{MY_SHELVES}{favourites.pk}/")
    assert response.status_code == 400 and "cannot be deleted" in response.json()["detail"]
    assert reader.patch(f"{MY_SHELVES}{favourites.pk}/", {"is_public": True}, format="json").status_code == 200


def test_another_readers_shelf_is_404_under_me_even_when_public(other_reader, russians):
    russians.is_public = True
    russians.save()
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("get", "books/"), ("post", "books/"),
                         ("patch", f"books/{russians.books.first().pk}/")]:
        body = None if method in ("get", "delete") else {"rating": 1}  # a GET's data would be query parameters
        response = getattr(other_reader, method)(f"{MY_SHELVES}{russians.pk}/{path}", body, format="json")
        assert response.status_code == 404, (method, path)
    assert Shelf.objects.filter(pk=russians.pk).exists()


# --- Books on my shelves -------------------------------------------------------------------------------


def test_add_list_rate_move_and_remove_books(reader, russians, favourites, novels):
    zhivago = novels.books.zhivago
    added = reader.post(f"{MY_SHELVES}{russians.pk}/books/", {"book": zhivago.pk, "rating": 4}, format="json")
    assert added.status_code == 201
    assert (added.json()["book"]["title"], added.json()["rating"]) == ("Doctor Zhivago", 4)
    again = reader.post(f"{MY_SHELVES}{russians.pk}/books/", {"book": zhivago.pk}, format="json")
    assert again.status_code == 200, "already there: nothing was created"
    assert (again.json()["added_at"], again.json()["rating"]) == (added.json()["added_at"], 4)

    listed = reader.get(f"{MY_SHELVES}{russians.pk}/books/").json()
    assert listed["count"] == 3 and listed["results"][0]["book"]["title"] == "Doctor Zhivago"

    entry_url = f"{MY_SHELVES}{russians.pk}/books/{zhivago.pk}/"
    assert reader.patch(entry_url, {"rating": 2}, format="json").json()["rating"] == 2
    assert reader.patch(entry_url, {"rating": None}, format="json").json()["rating"] is None

    reader.patch(entry_url, {"rating": 5}, format="json")
    moved = reader.post(f"{entry_url}move/", {"shelf": favourites.pk}, format="json")
    assert moved.status_code == 200
    assert (moved.json()["shelf"], moved.json()["rating"]) == (favourites.pk, 5)
    assert not ShelfEntry.objects.filter(shelf=russians, book=zhivago).exists()

    favourite_url = f"{MY_SHELVES}{favourites.pk}/books/{zhivago.pk}/"
    assert reader.delete(favourite_url).status_code == 204
    assert reader.delete(favourite_url).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"book": 999999}, {"book": "War and Peace"}, {}, {"book": None}, {"book": 1, "rating": 6}, {"book": 1, "rating": 0},
     {"book": 1, "rating": "five"}, {"book": 5.5}, {"book": False}],
)
def test_adding_a_bad_book_or_rating_is_400(reader, russians, novels, body):
    if body.get("book") == 1:
        body = {**body, "book": novels.books.zhivago.pk}
    response = reader.post(f"{MY_SHELVES}{russians.pk}/books/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_moves_go_only_to_another_of_my_shelves(reader, russians, others_public, novels):
    entry_url = f"{MY_SHELVES}{russians.pk}/books/{novels.books.war_and_peace.pk}/move/"
    for target, message in [(russians.pk, "already on this shelf"), (others_public.pk, "You have no shelf"),
                            ("next", "Expected a whole number")]:
        response = reader.post(entry_url, {"shelf": target}, format="json")
        assert response.status_code == 400
        assert message in response.json()["detail"]
    assert ShelfEntry.objects.filter(shelf=russians, book=novels.books.war_and_peace).exists()


def test_a_book_not_on_the_shelf_is_404(reader, russians, novels):
    url = f"{MY_SHELVES}{russians.pk}/books/{novels.books.hunger_games.pk}/"
    assert reader.get(url).status_code == 404
    assert reader.patch(url, {"rating": 3}, format="json").status_code == 404
    assert reader.post(f"{url}move/", {"shelf": russians.pk}, format="json").status_code == 404


def test_shelf_lists_make_the_same_few_queries_however_many_shelves_and_books(
    reader, user, russians, novels, django_assert_max_num_queries
):
    for n in range(12):
        shelf = shelf_create(user=user, name=f"Shelf {n}")
        for book in vars(novels.books).values():
            shelf_add_book(shelf=shelf, book=book)
    with django_assert_max_num_queries(6):  # token, standard shelves (2 and a savepoint pair), the list
        assert len(reader.get(MY_SHELVES).json()) == 17
    with django_assert_max_num_queries(4):  # token, shelf, count, page; no query per book
        assert reader.get(f"{MY_SHELVES}{shelf.pk}/books/").json()["count"] == 7


# --- Other readers' shelves ----------------------------------------------------------------------------


def test_a_public_shelf_is_readable_by_anyone(anonymous, reader, others_public):
    for client in (anonymous, reader):
        shelf = client.get(f"/api/v1/shelves/{others_public.pk}/")
        assert shelf.status_code == 200
        assert (shelf.json()["owner"], shelf.json()["book_count"]) == ("other-reader", 1)
        entries = client.get(f"/api/v1/shelves/{others_public.pk}/books/").json()
        assert [(e["book"]["title"], e["rating"]) for e in entries["results"]] == [("Anna Karenina", 4)]


def test_a_private_shelf_of_another_reader_is_404(anonymous, reader, others_private):
    for client in (anonymous, reader):
        assert client.get(f"/api/v1/shelves/{others_private.pk}/").status_code == 404
        assert client.get(f"/api/v1/shelves/{others_private.pk}/books/").status_code == 404


def test_my_own_private_shelf_is_readable_by_me_only(reader, other_reader, russians):
    assert reader.get(f"/api/v1/shelves/{russians.pk}/").status_code == 200
    assert other_reader.get(f"/api/v1/shelves/{russians.pk}/").status_code == 404


def test_a_readers_shelves_show_only_public_ones_to_others(anonymous, other_reader, others_public, others_private):
    url = "/api/v1/users/other-reader/shelves/"
    assert [shelf["name"] for shelf in anonymous.get(url).json()] == ["Recommended reading"]
    assert sorted(shelf["name"] for shelf in other_reader.get(url).json()) == ["Recommended reading", "Secret"]
    assert anonymous.get("/api/v1/users/nobody/shelves/").status_code == 404
