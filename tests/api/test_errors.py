"""Every error is clear JSON that says what and where: unreadable or unknown input, missing objects, and
failures of the services the API stands on (never an HTML server error)."""
import pytest
from django.db import InterfaceError, OperationalError

from books.services import shelf_add_book, shelf_create
from config.api_errors import api_exception_handler
from recommender.models import TrainingRun

pytestmark = pytest.mark.django_db


def test_a_database_that_is_down_is_a_json_503_that_says_so():
    for error in (OperationalError("connection refused"), InterfaceError("connection already closed")):
        response = api_exception_handler(error, {})
        assert response.status_code == 503
        assert response.data == {"detail": "The database is unavailable; try again shortly."}


# --- Input that cannot be read, or names no field -----------------------------------------------------


def test_malformed_json_is_a_400_shaped_like_every_input_error(anonymous):
    response = anonymous.post("/api/v1/recommendations/", '{"books": [1,', content_type="application/json")

    assert response.status_code == 400
    message = "JSON parse error - Expecting value: line 1 column 14 (char 13)"
    assert response.json() == {"detail": f"Invalid input. {message}.", "errors": {"non_field_errors": [message]}}


def test_json_nested_too_deeply_to_parse_is_a_400(anonymous):
    body = '{"books": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = anonymous.post("/api/v1/recommendations/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["JSON parse error - nested too deeply."]}


def test_a_body_larger_than_any_valid_request_is_refused_before_parsing(anonymous, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"external_ids": [' + ", ".join(['"goodbooks:1"'] * 100) + "]}"

    response = anonymous.post("/api/v1/recommendations/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 1,000 bytes."}


@pytest.mark.parametrize(
    ("method", "url", "body", "errors"),
    [
        ("post", "/api/v1/recommendations/", {"bookz": [42]},
         {"bookz": ["Unknown field. Known fields: books, external_ids, k, collapse, ratings."]}),
        ("post", "/api/v1/me/shelves/", {"name": "Russians", "public": True},
         {"public": ["Unknown field. Known fields: name, is_public."]}),
        ("patch", "/api/v1/me/shelves/{shelf}/", {"nmae": "Russians", "colour": "red"},
         {"nmae": ["Unknown field. Known fields: name, is_public."],
          "colour": ["Unknown field. Known fields: name, is_public."]}),
        ("post", "/api/v1/me/shelves/{shelf}/books/", {"book_id": 1},
         {"book_id": ["Unknown field. Known fields: book, rating."]}),
        ("patch", "/api/v1/me/shelves/{shelf}/books/{book}/", {"stars": 5},
         {"stars": ["Unknown field. Known fields: rating."]}),
        ("post", "/api/v1/me/shelves/{shelf}/books/{book}/move/", {"to": 1},
         {"to": ["Unknown field. Known fields: shelf."]}),
    ],
)
def test_unknown_fields_are_400_naming_them_and_the_known_ones(reader, user, novels, method, url, body, errors):
    shelf = shelf_create(user=user, name="Russians")
    book = novels.books.war_and_peace
    shelf_add_book(shelf=shelf, book=book)

    response = getattr(reader, method)(url.format(shelf=shelf.pk, book=book.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert all(name in response.json()["detail"] for name in errors)
    shelf.refresh_from_db()
    assert shelf.name == "Russians" and shelf.entries.count() == 1


def test_unknown_credentials_fields_and_training_parameters_are_named(anonymous, staff, user):
    response = anonymous.post("/api/v1/me/tokens/", {"username": "reader", "pasword": "x"}, format="json")
    assert response.json()["errors"] == {"pasword": ["Unknown field. Known fields: username, password."]}

    response = staff.post("/api/v1/training-runs/", {"params": {"epoch": 3}, "priority": 1}, format="json")
    assert response.json()["errors"] == {"priority": ["Unknown field. Known fields: params."]}
    response = staff.post("/api/v1/training-runs/", {"params": {"epoch": 3}}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid input. params.epoch: Unknown field. Known fields: ")
    assert not TrainingRun.objects.exists()


# --- Not found ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/api/v1/books/99999/", "No book with id 99999."),
        ("/api/v1/books/99999/similar/", "No book with id 99999."),
        ("/api/v1/links/99999/", "No link with id 99999."),
        ("/api/v1/links/99999/similar/", "No link with id 99999."),
        ("/api/v1/training-runs/99999/", "No training run with id 99999."),
        ("/api/v1/embedding-versions/99999/", "No embedding version with id 99999."),
        ("/api/v1/shelves/99999/", "No shelf with id 99999."),
        ("/api/v1/shelves/99999/books/", "No shelf with id 99999."),
        ("/api/v1/me/shelves/99999/", "No shelf with id 99999."),
        ("/api/v1/me/shelves/99999/books/1/", "No shelf with id 99999."),
        ("/api/v1/users/nobody/shelves/", "No reader named nobody."),
    ],
)
def test_a_404_names_what_was_asked_for(staff, novels, url, detail):
    response = staff.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


def test_a_404_for_a_book_not_on_your_shelf_names_both(reader, user, novels):
    shelf = shelf_create(user=user, name="Russians")
    response = reader.get(f"/api/v1/me/shelves/{shelf.pk}/books/{novels.books.master.pk}/")
    assert response.json() == {"detail": f"No book with id {novels.books.master.pk} on shelf {shelf.pk}."}
