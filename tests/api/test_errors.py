"""Failures of the services the API stands on become clear JSON errors, never an HTML server error."""
from django.db import InterfaceError, OperationalError

from config.api_errors import api_exception_handler


def test_a_database_that_is_down_is_a_json_503_that_says_so():
    for error in (OperationalError("connection refused"), InterfaceError("connection already closed")):
        response = api_exception_handler(error, {})
        assert response.status_code == 503
        assert response.data == {"detail": "The database is unavailable; try again shortly."}
