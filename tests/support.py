"""Helpers the tests share (fixtures live in conftest modules; what a test imports lives here)."""
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PROJECT_DIR = Path(__file__).resolve().parents[1]

# The shape of the web tests' genre catalogue (fixture ``genre_catalogue``, tests/web/conftest.py).
GENRES = {
    "Science fiction": ("United States", ["space", "robots", "aliens"]),
    "Fantasy": ("United Kingdom", ["dragons", "magic", "quests"]),
    "Crime": ("France", ["detectives", "murder", "police"]),
    "Historical novel": ("Russia", ["war", "empire", "revolution"]),
}
BOOKS_PER_GENRE = 10


def client_for(user=None) -> APIClient:
    """An API client, signed in as ``user`` with a real token (as a program would be)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def worker_environment() -> dict[str, str]:
    """The environment of a process that must see what the tests commit: the test database, the test broker."""
    url = urlsplit(os.environ["DATABASE_URL"])
    test_database_url = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    return {**os.environ, "DATABASE_URL": test_database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONPATH": str(PROJECT_DIR)}


def terminate(process: subprocess.Popen, grace: float = 30.0) -> None:
    """Stops ``process`` if it still runs: SIGTERM, then SIGKILL after ``grace`` seconds; waits for it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
