"""Django's database sessions, robust to forged session cookies (``SESSION_ENGINE`` points here)."""
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    """A cookie holding a key Django could never have issued means "no session".

    Without this check a forged ``sessionid`` with a NUL byte reaches PostgreSQL (which refuses NUL in
    text) and every page answers with a server error instead of treating the visitor as signed out.
    """

    def _get_session_from_db(self):
        if not set(self.session_key or "") <= set(VALID_KEY_CHARS):
            self._session_key = None
            return None
        return super()._get_session_from_db()
