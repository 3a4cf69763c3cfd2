"""Session authentication for the site's own JavaScript, robust to forged session cookies."""
from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication


class SiteSessionAuthentication(SessionAuthentication):
    """DRF's session authentication, except that a cookie Django could never have issued means "anonymous".

    Without this check a forged ``sessionid`` holding a NUL byte reaches PostgreSQL (which refuses NUL in
    text) and the request fails with a server error instead of being treated as signed out.
    """

    def authenticate(self, request):
        session_key = request._request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if session_key and not set(session_key) <= set(VALID_KEY_CHARS):
            return None
        return super().authenticate(request)


class SiteSessionScheme(SessionScheme):
    """Documents ``SiteSessionAuthentication`` in the OpenAPI schema as the session cookie it is."""

    target_class = SiteSessionAuthentication
