"""Shared fixtures. The embedded PostgreSQL + Redis of a run: tests/embedded_servers.py (a pytest plugin)."""
import pytest

from tests.factories import ReaderFactory


@pytest.fixture
def user(db):
    return ReaderFactory(username="reader")


@pytest.fixture
def other_user(db):
    return ReaderFactory(username="other-reader")


@pytest.fixture
def staff_user(db):
    return ReaderFactory(username="staff", is_staff=True)
