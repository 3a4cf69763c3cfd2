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
            log.warning("The cache (Redis) cannot be reached, so API throttling is paused: %s", error)


def shared_cache(url: str) -> dict:
    """``CACHES`` for the Redis at ``url``, with short timeouts so an outage costs a request little."""
    return {"default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": url,
                        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}


def cache_url_of_broker(broker_url: str) -> str:
    """The broker's Redis, database 1 (the broker uses 0)."""
    return urlunsplit(urlsplit(broker_url)._replace(path="/1"))
