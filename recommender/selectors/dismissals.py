"""Reads of readers' dismissals ("not interested")."""
from __future__ import annotations

from django.db.models import QuerySet

from recommender.models import DismissedBook


def dismissed_books(*, user) -> QuerySet[DismissedBook]:
    """The books ``user`` said "not interested" in, with their book, most recently dismissed first."""
    return DismissedBook.objects.filter(user=user).select_related("book").order_by("-dismissed_at", "-id")
