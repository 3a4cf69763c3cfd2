"""Shared fixtures. The embedded PostgreSQL + Redis of a run: tests/embedded_servers.py (a pytest plugin)."""
import pytest


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="reader", password="a-long-passphrase")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="other-reader", password="a-long-passphrase")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(username="staff", password="a-long-passphrase", is_staff=True)
