"""Signing in by a reader's name in any case: sign-up keeps names unique whatever their case (``books.services``),
so "ALICE" can only be alice."""
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from books.selectors import reader_named


class ReaderNameBackend(ModelBackend):
    """Django's model backend, finding the account with ``reader_named``.

    It has the last word on a name and password: a wrong one raises PermissionDenied, which ends Django's
    ``authenticate`` there, so Django's ``ModelBackend`` listed after it (for sessions signed in before this
    backend existed) never hashes the password a second time."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = reader_named(username)
        if user is None:
            get_user_model()().set_password(password)  # as long as a wrong password takes: no timing hint
            raise PermissionDenied
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        raise PermissionDenied

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)
