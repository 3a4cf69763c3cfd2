"""Tests: the same embedded PostgreSQL + pgvector and Redis as local, one pair per test run.

The test session (``tests/embedded_servers.py``, a pytest plugin) starts them in ``var/test-<pid>/`` and exports
their URLs before Django reads these settings, so processes the tests spawn (a Celery worker, gunicorn) share
them; it stops them at the end of the run. These settings only read the URLs.
"""
from config.cache import cache_url_of_broker, shared_cache

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "bookvec-tests"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["TEST"] = {"NAME": env("BOOKVEC_TEST_DATABASE", default="test_bookvec")}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CACHES = shared_cache(cache_url_of_broker(CELERY_BROKER_URL))  # this run's own Redis, whatever .env's CACHE_URL
# High rates, so tests do not throttle each other; a test that starts a server may set lower ones in its environment.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    "anon": env("API_ANON_RATE", default="10000/minute"), "user": env("API_USER_RATE", default="10000/minute"),
    "tokens": env("API_TOKEN_RATE", default="10000/minute")}}
ACCOUNT_LIMITS = {name: (10_000, seconds) for name, (_, seconds) in ACCOUNT_LIMITS.items()}  # noqa: F405
# Static files straight from static/ (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
