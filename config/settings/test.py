"""Tests: the same embedded PostgreSQL + pgvector and Redis as local, one pair per test run.

The first process of a run starts them in ``var/test-<pid>/`` and exports their URLs, so processes the
tests spawn (a Celery worker, gunicorn) share them. ``conftest.py`` stops them at the end of the run.
"""
import os

from config.cache import cache_url_of_broker, shared_cache
from config.embedded import VAR_DIR, embedded_postgres_url, embedded_redis_url

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "bookvec-tests"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if not os.environ.get("DATABASE_URL"):
    TEST_SERVERS_DIR = VAR_DIR / f"test-{os.getpid()}"
    os.environ["BOOKVEC_TEST_SERVERS_DIR"] = str(TEST_SERVERS_DIR)
    os.environ["DATABASE_URL"] = embedded_postgres_url(TEST_SERVERS_DIR / "pgdata")
if not os.environ.get("CELERY_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = embedded_redis_url(VAR_DIR / f"test-{os.getpid()}" / "redis")

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["TEST"] = {"NAME": env("BOOKVEC_TEST_DATABASE", default="test_bookvec")}
CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
CACHES = shared_cache(cache_url_of_broker(CELERY_BROKER_URL))  # this run's own Redis, whatever .env's CACHE_URL
# High rates, so tests do not throttle each other; a test that starts a server may set lower ones in its environment.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    "anon": env("API_ANON_RATE", default="10000/minute"), "user": env("API_USER_RATE", default="10000/minute"),
    "tokens": env("API_TOKEN_RATE", default="10000/minute")}}
ACCOUNT_LIMITS = {name: (10_000, seconds) for name, (_, seconds) in ACCOUNT_LIMITS.items()}  # noqa: F405
# Static files straight from static/ (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
