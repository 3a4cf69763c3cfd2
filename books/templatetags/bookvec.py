"""Template helpers of the site: list splitting, similarity as a percentage, cover colours, counts, stars, how long
ago, and the nav's log-in link."""
import zlib
from datetime import timedelta
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def split_list(value: str) -> list[str]:
    """ "Novel, Realism" → ["Novel", "Realism"]: the entries of a comma-separated field."""
    return [entry.strip() for entry in (value or "").split(",") if entry.strip()]


@register.filter
def percent(value) -> str:
    """0.8731 → "87%"."""
    try:
        return f"{round(float(value) * 100)}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def cover_hue(title: str) -> int:
    """A stable hue (0–359) for a book's placeholder cover, so each book keeps its colour."""
    return zlib.crc32((title or "").encode()) % 360


@register.filter
def thousands(value) -> str:
    """12345 → "12,345"."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


@register.filter
def stars(value) -> str:
    """3 → "★★★☆☆"."""
    try:
        rating = max(0, min(5, int(value)))
    except (TypeError, ValueError):
        return ""
    return "★" * rating + "☆" * (5 - rating)


@register.filter
def ago(moment) -> str:
    """How long ago ``moment`` was: "just now" under a minute, else "3 hours ago"."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


PAGES_NOT_TO_RETURN_TO = frozenset({
    "login", "logout", "sign_up",
    "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
})
"""Account pages that logging in must not lead back to: the nav's "Log in" passes on their own ``next`` instead."""


@register.simple_tag(takes_context=True)
def login_url(context) -> str:
    """The nav's "Log in" link: back to the page the reader is on, or from an account page (the login page
    itself, sign-up, password reset) on to where that page was to lead, if anywhere."""
    request = context["request"]
    match = request.resolver_match
    if match is not None and match.url_name in PAGES_NOT_TO_RETURN_TO:
        target = request.GET.get("next", "")
    else:
        target = request.get_full_path()
    return f"{reverse('login')}?next={quote(target, safe='/')}" if target else reverse("login")
