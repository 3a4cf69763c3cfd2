"""The API's throttles, counted in the shared cache with one atomic Redis script per request.

DRF's own throttles read a client's history, decide and write it back: concurrent requests all read the same
history, so a burst over many connections gets far more than the rate. These count with
``FailOpenRedisCache.windows_hit`` (sliding windows checked and counted in one step), keyed as DRF keys them: the
client address (``NUM_PROXIES`` says how many proxies' ``X-Forwarded-For`` entries to trust) or the reader. The API's
views check all their throttles' windows at once (``SharedWindowThrottling``).
"""
from django.core.cache import cache
from rest_framework import throttling


class _SharedWindow:
    """A DRF rate throttle's window in the shared cache (``window``), and its ``allow_request`` and ``wait`` over
    it alone (for views that are not ``SharedWindowThrottling``, such as the schema's)."""

    _wait = None

    def window(self, request, view) -> tuple[str, int, float] | None:
        """``(cache key, limit, seconds)`` of the window this request counts in; None when the throttle does not
        apply to it (no rate, or DRF's key is None: e.g. the anonymous throttle for a signed-in reader)."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        return None if key is None else (key, self.num_requests, self.duration)

    def allow_request(self, request, view):
        window = self.window(request, view)
        if window is None:
            return True
        hit, self._wait = cache.windows_hit([window])
        return hit is not None

    def wait(self):
        return self._wait


class AnonRateThrottle(_SharedWindow, throttling.AnonRateThrottle):
    """Anonymous requests per client address (rate ``anon``)."""


class UserRateThrottle(_SharedWindow, throttling.UserRateThrottle):
    """Requests per reader, or per client address for anonymous ones (rate ``user``)."""


class ScopedRateThrottle(_SharedWindow, throttling.ScopedRateThrottle):
    """Requests to views of one ``throttle_scope`` per reader or client address (the scope's rate)."""

    def window(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return None
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().window(request, view)


class SharedWindowThrottling:
    """A view's throttles checked together: one Redis script counts the request in every window of its throttles,
    or, if any is full, in none (429 with the longest wait).

    DRF asks each throttle in turn, and each counts the request when its own window has room, so a request one
    throttle refused still filled the others' windows: in a concurrent anonymous burst a refused request could take
    the per-client window's last place before an allowed one reached it, which was then refused too (4 answers
    instead of the rate's 5). One script also makes one round trip of the two a request made."""

    def check_throttles(self, request):
        windows = [window for throttle in self.get_throttles() if (window := throttle.window(request, self))]
        if windows:
            hit, wait = cache.windows_hit(windows)
            if hit is None:
                self.throttled(request, wait)
