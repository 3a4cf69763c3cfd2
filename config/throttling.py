"""The API's throttles, counted in the shared cache with one atomic Redis script per request.

DRF's own throttles read a client's history, decide and write it back: concurrent requests all read the same
history, so a burst over many connections gets far more than the rate. These count with
``FailOpenRedisCache.window_hit`` (a sliding window checked and counted in one step), keyed as DRF keys them:
the client address (``NUM_PROXIES`` says how many proxies' ``X-Forwarded-For`` entries to trust) or the reader.
"""
from django.core.cache import cache
from rest_framework import throttling


class _SharedWindow:
    """``allow_request`` and ``wait`` of a DRF rate throttle, over ``cache.window_hit``."""

    _wait = None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        hit, self._wait = cache.window_hit(key, limit=self.num_requests, duration=self.duration)
        return hit is not None

    def wait(self):
        return self._wait


class AnonRateThrottle(_SharedWindow, throttling.AnonRateThrottle):
    """Anonymous requests per client address (rate ``anon``)."""


class UserRateThrottle(_SharedWindow, throttling.UserRateThrottle):
    """Requests per reader, or per client address for anonymous ones (rate ``user``)."""


class ScopedRateThrottle(_SharedWindow, throttling.ScopedRateThrottle):
    """Requests to views of one ``throttle_scope`` per reader or client address (the scope's rate)."""

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
