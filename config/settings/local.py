"""One machine, no Docker: embedded PostgreSQL + pgvector and Redis unless URLs are given."""
from config.cache import cache_url_of_broker, shared_cache
from config.embedded import VAR_DIR, embedded_postgres_url, embedded_redis_url

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)  # serves like the product; DEBUG=true opts in to debug pages
SECRET_KEY = env("SECRET_KEY", default="bookvec-local-development-key-not-for-production")

if not env("DATABASE_URL", default=""):
    DATABASES["default"].update(env.db_url_config(embedded_postgres_url(VAR_DIR / "pgdata")))  # noqa: F405
if not env("CELERY_BROKER_URL", default="") and not env("REDIS_URL", default=""):
    CELERY_BROKER_URL = embedded_redis_url(VAR_DIR / "redis")
    if not CACHE_URL:  # noqa: F405
        CACHES = shared_cache(cache_url_of_broker(CELERY_BROKER_URL))
