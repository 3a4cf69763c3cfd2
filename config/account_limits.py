"""Limits on the site's sign-in and password-reset forms, per account (or address) and per client address.

Counted in the shared cache (``FailOpenRedisCache.window_hit``: atomic, across every web process), in sliding
windows: a guesser is refused for a while and the real owner can sign in again once the window has room (no
lock-out for good). ``ACCOUNT_LIMITS`` in the settings gives each limit as (tries, seconds).
"""
import hashlib
import math

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from rest_framework.throttling import BaseThrottle


class LimitReached(Exception):
    def __init__(self, wait: float):
        super().__init__(wait)
        self.minutes = max(1, math.ceil(wait / 60))


def client_address(request) -> str:
    """The client's address as the API throttles see it (``X-Forwarded-For`` only from ``NUM_PROXIES`` proxies)."""
    return BaseThrottle().get_ident(request)


def limits_take(*limits: tuple[str, str]) -> list[tuple[str, str]]:
    """Count one try against each ``(limit name, who)``; LimitReached (nothing counted) if any is used up.

    Returns what was counted, for ``limits_give_back``."""
    taken, waits = [], []
    for name, who in limits:
        tries, seconds = settings.ACCOUNT_LIMITS[name]
        key = f"limit:{name}:{hashlib.sha256(who.encode()).hexdigest()}"
        hit, wait = cache.window_hit(key, limit=tries, duration=seconds)
        if hit is None:
            waits.append(wait)
        else:
            taken.append((key, hit))
    if waits:
        limits_give_back(taken)
        raise LimitReached(max(waits))
    return taken


def limits_give_back(taken: list[tuple[str, str]]) -> None:
    for key, hit in taken:
        cache.window_refund(key, hit)


class LimitedAuthenticationForm(AuthenticationForm):
    """Django's sign-in form; failed sign-ins are limited per account name and per client address."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        try:
            taken = limits_take(("sign_in_account", username.casefold()),
                                ("sign_in_client", client_address(self.request)))
        except LimitReached as limit:
            raise ValidationError(
                f"Too many failed sign-ins for this account or from your address. Try again in {limit.minutes} "
                "minute(s), or reset your password.", code="limited") from None
        cleaned = super().clean()  # ValidationError for a wrong password: the tries stay counted
        limits_give_back(taken)  # signed in: no failure to count
        return cleaned


class LimitedLoginView(auth_views.LoginView):
    form_class = LimitedAuthenticationForm


class LimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset; mails are limited per address and per client address, whether or not an
    account has the address (so the limit tells nothing of who is registered)."""

    def form_valid(self, form):
        try:
            limits_take(("password_reset_address", form.cleaned_data["email"].casefold()),
                        ("password_reset_client", client_address(self.request)))
        except LimitReached as limit:
            form.add_error(None, f"Too many password reset mails for this address or from yours. Try again in "
                                 f"{limit.minutes} minute(s).")
            return self.form_invalid(form)
        return super().form_valid(form)
