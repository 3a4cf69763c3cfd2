"""Readers' shelves: the services that write them and the privacy rule that reads them."""
import threading

import pytest
from django.db import IntegrityError, connection

from books.models import Book, Shelf, ShelfEntry
from books.selectors import shelves_visible_to
from books.services import (
    ShelfError,
    ShelfGone,
    SignUpError,
    reader_sign_up,
    shelf_add_book,
    shelf_create,
    shelf_delete,
    shelf_entry_rate,
    shelf_move_book,
    shelf_update,
    shelves_ensure_standard,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    return Book.objects.create(external_id="wikipedia:War and Peace", source="wikipedia", title="War and Peace")


@pytest.fixture
def other_book():
    return Book.objects.create(external_id="goodbooks:1", source="goodbooks", title="The Hunger Games")


def test_standard_shelves_are_created_once(user):
    shelves_ensure_standard(user=user)
    shelves = shelves_ensure_standard(user=user)
    assert sorted(s.kind for s in shelves) == sorted(Shelf.STANDARD_KINDS)
    assert all(not s.is_public for s in shelves), "shelves are private by default"


def test_a_standard_shelf_kind_exists_once_per_reader(user):
    shelves_ensure_standard(user=user)
    with pytest.raises(IntegrityError):
        Shelf.objects.create(user=user, kind=Shelf.Kind.READ, name="Read again")


def test_adding_twice_keeps_one_entry_and_updates_the_rating(user, book):
    shelf = shelf_create(user=user, name="Russian  classics")
    assert shelf.name == "Russian classics"
    first, created = shelf_add_book(shelf=shelf, book=book)
    second, created_again = shelf_add_book(shelf=shelf, book=book, rating=5)
    assert ShelfEntry.objects.filter(shelf=shelf).count() == 1
    assert second.added_at == first.added_at and second.rating == 5
    assert created and not created_again


@pytest.mark.parametrize("rating", [0, 6, 2.5, True, "5"])
def test_ratings_are_whole_numbers_from_1_to_5(user, book, rating):
    shelf = shelf_create(user=user, name="Rated")
    with pytest.raises(ShelfError, match="1 to 5"):
        shelf_add_book(shelf=shelf, book=book, rating=rating)
    assert not ShelfEntry.objects.exists()


def test_the_database_refuses_an_out_of_range_rating(user, book):
    shelf = shelf_create(user=user, name="Rated")
    with pytest.raises(IntegrityError):
        ShelfEntry.objects.create(shelf=shelf, book=book, rating=9, added_at="2026-01-01T00:00Z")


def test_custom_shelves_are_renamed_and_deleted_but_standard_ones_are_not(user, book):
    standard = {s.kind: s for s in shelves_ensure_standard(user=user)}
    custom = shelf_create(user=user, name="Summer")
    shelf_add_book(shelf=standard[Shelf.Kind.READ], book=book)
    shelf_add_book(shelf=custom, book=book)

    assert shelf_update(shelf=custom, name="Summer 2026", is_public=True).name == "Summer 2026"
    with pytest.raises(ShelfError, match="standard shelf"):
        shelf_update(shelf=standard[Shelf.Kind.READ], name="Done")
    with pytest.raises(ShelfError, match="standard shelf"):
        shelf_delete(shelf=standard[Shelf.Kind.READ])
    with pytest.raises(ShelfError, match="already have a shelf"):
        shelf_create(user=user, name="Summer 2026")

    shelf_delete(shelf=custom)
    assert list(ShelfEntry.objects.values_list("shelf__kind", flat=True)) == [Shelf.Kind.READ]


def test_shelf_names_are_unique_per_reader_whatever_their_case(user, other_user):
    shelves_ensure_standard(user=user)
    summer = shelf_create(user=user, name="Summer reads")

    with pytest.raises(ShelfError, match='You already have a shelf named "Summer reads".'):
        shelf_create(user=user, name="summer READS")
    with pytest.raises(ShelfError, match='You already have a shelf named "Want to read".'):
        shelf_create(user=user, name="want to read")
    autumn = shelf_create(user=user, name="Autumn")
    with pytest.raises(ShelfError, match='You already have a shelf named "Summer reads".'):
        shelf_update(shelf=autumn, name="SUMMER reads")
    with pytest.raises(ShelfError, match='You already have a shelf named "Favourites".'):
        shelf_update(shelf=autumn, name="favourites")

    assert shelf_update(shelf=summer, name="Summer Reads").name == "Summer Reads", "a shelf may change its own case"
    assert shelf_create(user=other_user, name="summer reads").name == "summer reads", "other readers are apart"
    assert sorted(Shelf.objects.filter(user=user, kind=Shelf.Kind.CUSTOM).values_list("name", flat=True)) == [
        "Autumn", "Summer Reads",
    ]


def test_a_custom_shelf_cannot_take_a_standard_name_before_the_reader_has_the_standard_shelves(user):
    with pytest.raises(ShelfError, match='You already have a shelf named "Reading".'):
        shelf_create(user=user, name="READING")
    assert not Shelf.objects.filter(user=user).exists()


def test_moving_a_book_keeps_its_rating_and_leaves_the_source(user, book):
    standard = {s.kind: s for s in shelves_ensure_standard(user=user)}
    shelf_add_book(shelf=standard[Shelf.Kind.READING], book=book, rating=4)
    moved = shelf_move_book(source=standard[Shelf.Kind.READING], target=standard[Shelf.Kind.READ], book=book)
    assert moved.shelf.kind == Shelf.Kind.READ and moved.rating == 4
    assert not ShelfEntry.objects.filter(shelf=standard[Shelf.Kind.READING]).exists()


def test_moving_a_book_to_the_shelf_it_is_on_is_refused_and_keeps_the_entry(user, book):
    shelf = shelf_create(user=user, name="Summer")
    shelf_add_book(shelf=shelf, book=book, rating=3)
    with pytest.raises(ShelfError, match="already on the shelf"):
        shelf_move_book(source=shelf, target=shelf, book=book)
    assert ShelfEntry.objects.get(shelf=shelf, book=book).rating == 3


def test_books_cannot_move_to_another_readers_shelf(user, other_user, book):
    mine = shelf_create(user=user, name="Mine")
    theirs = shelf_create(user=other_user, name="Theirs")
    shelf_add_book(shelf=mine, book=book)
    with pytest.raises(ShelfError, match="same reader"):
        shelf_move_book(source=mine, target=theirs, book=book)
    assert ShelfEntry.objects.get().shelf == mine


def test_private_shelves_are_seen_only_by_their_owner(user, other_user, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    private = shelf_create(user=user, name="Secret")
    public = shelf_create(user=user, name="Shared", is_public=True)
    assert set(shelves_visible_to(viewer=user)) >= {private, public}
    assert private not in shelves_visible_to(viewer=other_user)
    assert public in shelves_visible_to(viewer=other_user)
    assert list(shelves_visible_to(viewer=AnonymousUser())) == [public]


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_the_same_book_leave_exactly_one_entry(user, book, other_book):
    shelf = shelf_create(user=user, name="Busy")
    errors = []

    def add(target):
        try:
            for _ in range(10):
                shelf_add_book(shelf=shelf, book=target)
        except Exception as error:  # noqa: BLE001 — collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(b,)) for b in (book, book, other_book, other_book)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(ShelfEntry.objects.filter(shelf=shelf).values_list("book__title", flat=True)) == [
        "The Hunger Games",
        "War and Peace",
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_name_in_different_cases_leave_one_shelf(user):
    created, errors, start = [], [], threading.Barrier(4)

    def create(name):
        try:
            start.wait()
            created.append(shelf_create(user=user, name=name).name)
        except ShelfError as error:
            errors.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(name,))
               for name in ("Summer reads", "summer READS", "SUMMER READS", "Summer Reads")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1 and len(errors) == 3
    assert list(Shelf.objects.filter(user=user).values_list("name", flat=True)) == created


def test_rating_moving_or_renaming_what_another_request_just_removed_says_it_is_gone(user, book):
    from config.api_errors import api_exception_handler

    shelf = shelf_create(user=user, name="Russians")
    other = shelf_create(user=user, name="Classics")
    entry, _ = shelf_add_book(shelf=shelf, book=book)
    ShelfEntry.objects.filter(pk=entry.pk).delete()  # another request won the race

    with pytest.raises(ShelfGone, match="not on that shelf any more"):
        shelf_entry_rate(entry=entry, rating=4)
    with pytest.raises(ShelfGone, match='"War and Peace" is not on the shelf "Russians" any more'):
        shelf_move_book(source=shelf, target=other, book=book)
    Shelf.objects.filter(pk=shelf.pk).delete()
    with pytest.raises(ShelfGone, match='The shelf "Russians" has been deleted'):
        shelf_update(shelf=shelf, is_public=True)
    assert api_exception_handler(ShelfGone("gone"), {}).status_code == 404


def test_a_readers_shelves_list_the_standard_ones_first_even_when_a_custom_one_is_older(user):
    from books.selectors import shelf_list

    shelf_create(user=user, name="Russians")
    shelves_ensure_standard(user=user)

    assert [shelf.name for shelf in shelf_list(owner=user)] == [
        "Want to read", "Reading", "Read", "Favourites", "Russians"]


def test_a_reader_has_at_most_custom_shelves_max_shelves_of_their_own(user, monkeypatch):
    monkeypatch.setattr("books.services.CUSTOM_SHELVES_MAX", 2)
    shelves_ensure_standard(user=user)  # standard shelves do not count
    shelf_create(user=user, name="One")
    shelf_create(user=user, name="Two")
    with pytest.raises(ShelfError, match="at most 2 shelves of their own; delete one first"):
        shelf_create(user=user, name="Three")
    shelf_delete(shelf=Shelf.objects.get(user=user, name="One"))
    assert shelf_create(user=user, name="Three").name == "Three"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("usernames", "emails", "field"), [
    (["reader0", "reader1", "reader2", "reader3"], ["ann@example.org", "ANN@example.org", "Ann@Example.org",
                                                    "ann@EXAMPLE.ORG"], "email"),
    (["ann", "ANN", "Ann", "aNN"], ["", "", "", ""], "username"),
])
def test_concurrent_sign_ups_of_one_name_or_email_in_different_cases_leave_one_account(django_user_model, usernames,
                                                                                       emails, field):
    created, refused, start = [], [], threading.Barrier(4)

    def sign_up(username, email):
        try:
            start.wait()
            created.append(reader_sign_up(username=username, password="a-long-passphrase", email=email))
        except SignUpError as error:
            refused.append(error.field)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=pair) for pair in zip(usernames, emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if field == "email":  # every account is created (a refusal would tell who is registered); one has the address
        assert len(created) == 4 and not refused
        assert django_user_model.objects.exclude(email="").count() == 1
    else:
        assert len(created) == 1 and django_user_model.objects.count() == 1
        assert refused == [field] * 3


def test_a_reader_signs_in_by_their_name_in_any_case_as_sign_up_keeps_it_unique(client, django_user_model):
    from django.contrib.auth import authenticate
    from rest_framework.test import APIClient

    alice = reader_sign_up(username="Alice", password="a-long-passphrase")
    assert authenticate(username="ALICE", password="a-long-passphrase") == alice
    assert authenticate(username="alice", password="wrong-passphrase") is None
    assert client.post("/accounts/login/", {"username": "aLiCe", "password": "a-long-passphrase"}).status_code == 302
    api = APIClient()
    assert api.post("/api/v1/me/tokens/", {"username": "ALICE", "password": "a-long-passphrase"},
                    format="json").status_code == 201
    assert api.get("/api/v1/users/ALICE/shelves/").status_code == 200


def test_older_accounts_differing_only_in_case_each_need_their_exact_name(django_user_model):
    from django.contrib.auth import authenticate

    upper = django_user_model.objects.create_user(username="BOB", password="a-long-passphrase")
    lower = django_user_model.objects.create_user(username="bob", password="a-long-passphrase")
    assert authenticate(username="BOB", password="a-long-passphrase") == upper
    assert authenticate(username="bob", password="a-long-passphrase") == lower
    assert authenticate(username="Bob", password="a-long-passphrase") is None


def test_a_session_signed_in_before_the_reader_name_backend_stays_signed_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/shelves/").status_code == 200


def test_finding_a_reader_by_name_in_any_case_uses_an_index_not_a_scan(django_user_model):
    from django.db import connection

    from books.selectors import reader_named

    reader_sign_up(username="Alice", password="a-long-passphrase")
    query = django_user_model.objects.filter(username__iexact="ALICE")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: the planner would scan them anyway
        plan = query.explain()
    assert "books_reader_username_upper" in plan
    assert reader_named("ALICE").username == "Alice"
