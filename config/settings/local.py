"""One machine, no Docker: the entry points (scripts/run, manage.py) start the embedded PostgreSQL + pgvector
and Redis in ``var/`` unless URLs are given, and export their URLs (``config/embedded.py``). These settings only
read configuration: the URLs, else where the embedded servers listen, from their pid and port files."""
from config.cache import cache_url_of_broker, shared_cache
from config.embedded import VAR_DIR, embedded_urls_of

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)  # serves like the product; DEBUG=true opts in to debug pages
SECRET_KEY = env("SECRET_KEY", default="bookvec-local-development-key-not-for-production")

_embedded_database_url, _embedded_broker_url = embedded_urls_of(VAR_DIR)
if not env("DATABASE_URL", default=""):
    DATABASES["default"].update(env.db_url_config(_embedded_database_url))  # noqa: F405
if not env("CELERY_BROKER_URL", default="") and not env("REDIS_URL", default=""):
    CELERY_BROKER_URL = _embedded_broker_url
    if not CACHE_URL:  # noqa: F405
        CACHES = shared_cache(cache_url_of_broker(CELERY_BROKER_URL))
