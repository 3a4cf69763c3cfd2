"""The cache every web process shares (Redis): the API's throttle counters and the map's data.

Throttle counters kept per process would let each gunicorn worker allow the whole rate (three workers, three
times the password tries). A cache outage must not take the site down with it, so this cache fails open: while
Redis cannot be reached, reads miss and writes are dropped (throttling pauses, the map is rebuilt per request),
and one warning a minute says so in the log.
"""
import logging
import time
from urllib.parse import urlsplit, urlunsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, whose get/set/clear never raise for a Redis that is down."""

    _warned_at = 0.0

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            self._warn(error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            self._warn(error)

    def clear(self):
        try:
            return super().clear()
        except RedisError as error:
            self._warn(error)
            return False

    def _warn(self, error: RedisError) -> None:
        if time.monotonic() - FailOpenRedisCache._warned_at > 60:
            FailOpenRedisCache._warned_at = time.monotonic()
            log.warning("The shared cache (Redis) cannot be reached: API throttling pauses and the map is rebuilt for "
                        "each request until it is back: %s", error)


def shared_cache(url: str) -> dict:
    """``CACHES`` for the Redis at ``url``, with short timeouts so an outage costs a request little."""
    return {"default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": url,
                        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}


def cache_url_of_broker(broker_url: str) -> str:
    """The broker's Redis, the database after the broker's (1 for a broker on 0): never the broker's own, which a
    cache ``clear()`` would empty. The broker URL is Celery's (kombu's): ``redis://`` or ``rediss://`` with the
    database as its path, or ``redis+socket://`` (a Unix socket, database 0), which the cache (redis-py) reaches
    as ``unix://``. ImproperlyConfigured for a broker that is no Redis."""
    parts = urlsplit(broker_url)
    if parts.scheme == "redis+socket":
        return f"unix://{parts.path}?db=1"
    if parts.scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured(f"The broker URL is not a Redis URL ({parts.scheme}://…): set CACHE_URL to a "
                                   "Redis for the cache the web processes share.")
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise ImproperlyConfigured(f"The broker URL's database {database!r} is not a number.")
    cache_database = (int(database) + 1) % 16  # a Redis has databases 0-15 unless configured otherwise
    return urlunsplit(parts._replace(path=f"/{cache_database}"))
