"""The OpenAPI schema: it generates without warnings, and the API keeps its word under property-based testing.

schemathesis reads /api/v1/schema/ from the running Django app (WSGI, in this test's transaction), then
sends every operation generated requests, valid and invalid, as a staff reader with shelves: no response
may be a server error or break the schema.
"""
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from books.services import shelf_add_book, shelf_create, shelves_ensure_standard
from tests.support import client_for


def test_the_schema_generates_and_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_the_schema_and_swagger_ui_are_served_without_a_cdn(anonymous):
    assert anonymous.get("/api/v1/schema/").status_code == 200
    page = anonymous.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn." not in page


@pytest.fixture
def staff_token(staff_user, novels, active_version):
    """A staff reader with a custom public shelf and a few books; returns their ``Authorization`` header."""
    shelves_ensure_standard(user=staff_user)
    shelf = shelf_create(user=staff_user, name="Favourite Russians", is_public=True)
    for book in (novels.books.war_and_peace, novels.books.master, novels.books.new_arrival):
        shelf_add_book(shelf=shelf, book=book, rating=4)
    return client_for(staff_user)._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def api_schema(db, staff_token):
    # Like Django's test client: keep the test's connection (and its transaction) open across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# The library upload is multipart with a file, which schemathesis' WSGI transport cannot send (it passes the
# generated body to werkzeug as a list); tests/books/test_library_import.py posts real and bad files to it.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/api/v1/me/library-imports/", method="POST")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error_or_breaks_the_schema(case, staff_token):
    case.call_and_validate(
        headers={"Authorization": staff_token}, checks=[not_a_server_error, response_schema_conformance]
    )


def test_every_operation_documents_the_errors_the_shared_machinery_gives(anonymous):
    schema = anonymous.get("/api/v1/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            if path.endswith("/health/"):
                assert not {"400", "429"} & documented, "the health check takes any request, never throttled"
                continue
            assert {"400", "401", "429"} <= documented, (method, path)
            if "requestBody" in operation:
                assert {"413", "415"} <= documented, (method, path)
    assert schema["paths"]["/api/v1/books/{id}/"]["get"]["responses"]["400"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/Error"}
