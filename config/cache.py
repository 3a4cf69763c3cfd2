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
        """Count one hit of ``key`` in a sliding window of ``duration`` seconds, if fewer than ``limit`` are in it:
        ``windows_hit`` with one window."""
        return self.windows_hit([(key, limit, duration)])

    def windows_hit(self, windows: list[tuple[str, int, float]]) -> tuple[str | None, float]:
        """Count one hit in every one of ``windows`` (``(key, limit, duration in seconds)``: a sliding window each) if
        each has fewer than its limit in it, else in none.

        Returns ``(hit, wait)``: the hit's id (for ``window_refund``) and 0, or ``None`` and the seconds until every
        full window has room again. One Redis script checks and counts them all, so concurrent hits from any number
        of processes never let more than a window's limit through, and a hit one window refuses fills no other.
        While Redis cannot be reached every hit passes (fails open)."""
        now = time.time()
        hit = f"{now:.6f}:{uuid.uuid4().hex}"
        keys = [self.make_and_validate_key(key) for key, _, _ in windows]
        limits = [value for _, limit, duration in windows for value in (duration, limit)]
        try:
            client = self._cache.get_client(keys[0], write=True)
            full = client.eval(_WINDOWS_HIT, len(keys), *keys, now, hit, *limits)
        except RedisError as error:
            self._warn(error)
            return hit, 0.0
        if not full:
            return hit, 0.0
        room_at = max(float(oldest) + windows[int(number) - 1][2] for number, oldest in zip(full[::2], full[1::2]))
        return None, max(room_at - time.time(), 1.0)

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


# KEYS: the windows (a sorted set of hits scored by time each); ARGV: now, the hit's id, then each window's duration (s)
# and limit. Returns {} when the hit was counted in every window, else {window's number, its oldest hit's time, …}
# for each full one (nothing counted).
_WINDOWS_HIT = """
local now, full = tonumber(ARGV[1]), {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[1 + 2 * i]))
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + 2 * i]) then
    full[#full + 1] = i
    full[#full + 1] = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
  end
end
if #full == 0 then
  for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[2])
    redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[1 + 2 * i]) * 1000))
  end
end
return full
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
