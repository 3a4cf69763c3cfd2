"""The cache every web process shares (Redis): the API's throttle counters and the map's data.

Throttle counters kept per process would let each gunicorn worker allow the whole rate (three workers, three
times the password tries). A cache outage must not take the site down with it, so this cache fails open: while
Redis cannot be reached, reads miss and writes are dropped (throttling pauses, the map is rebuilt per request),
and one warning a minute says so in the log.
"""
import logging
import time
import uuid
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

    def window_hit(self, key: str, *, limit: int, duration: float) -> tuple[str | None, float]:
        """Count one hit of ``key`` in a sliding window of ``duration`` seconds, if fewer than ``limit`` are in it.

        Returns ``(hit, wait)``: the hit's id (for ``window_refund``) and 0, or ``None`` and the seconds until the
        window has room again. One Redis script checks and counts, so concurrent hits from any number of processes
        never let more than ``limit`` through. While Redis cannot be reached every hit passes (fails open)."""
        hit = f"{time.time():.6f}:{uuid.uuid4().hex}"
        try:
            client = self._cache.get_client(key, write=True)
            allowed, oldest = client.eval(_WINDOW_HIT, 1, self.make_and_validate_key(key), time.time(), duration,
                                          limit, hit)
        except RedisError as error:
            self._warn(error)
            return hit, 0.0
        if allowed:
            return hit, 0.0
        return None, max(float(oldest) + duration - time.time(), 1.0)

    def window_refund(self, key: str, hit: str) -> None:
        """Take back one hit ``window_hit`` counted (a sign-in that succeeded is no failure)."""
        try:
            self._cache.get_client(key, write=True).zrem(self.make_and_validate_key(key), hit)
        except RedisError as error:
            self._warn(error)

    def _warn(self, error: RedisError) -> None:
        if time.monotonic() - FailOpenRedisCache._warned_at > 60:
            FailOpenRedisCache._warned_at = time.monotonic()
            log.warning("The shared cache (Redis) cannot be reached: API throttling pauses and the map is rebuilt for "
                        "each request until it is back: %s", error)


# KEYS[1]: the window (a sorted set of hits scored by time); ARGV: now, duration (s), limit, the hit's id.
# Returns {1, 0} when the hit was counted, {0, oldest hit's time} when the window is full.
_WINDOW_HIT = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(duration * 1000))
  return {1, 0}
end
return {0, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
"""


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
