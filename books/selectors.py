"""Reads of the catalogue and of readers' shelves, with the privacy rule in one place."""
from django.db.models import Count, QuerySet

from books.models import Shelf, ShelfEntry


def shelves_visible_to(*, viewer) -> QuerySet[Shelf]:
    """Shelves ``viewer`` may see: their own, and every public one. Anonymous viewers see public ones."""
    if viewer is not None and viewer.is_authenticated:
        return Shelf.objects.filter(user=viewer) | Shelf.objects.filter(is_public=True)
    return Shelf.objects.filter(is_public=True)


def shelf_list(*, owner) -> QuerySet[Shelf]:
    """``owner``'s shelves, standard ones first, each with its ``book_count``."""
    return Shelf.objects.filter(user=owner).annotate(book_count=Count("entries")).order_by("id")


def shelf_entries(*, shelf: Shelf) -> QuerySet[ShelfEntry]:
    """The books on ``shelf``, newest first, with the books loaded."""
    return ShelfEntry.objects.filter(shelf=shelf).select_related("book")


def shelved_book_ids(*, user) -> set[int]:
    """Every book on any of ``user``'s shelves."""
    return set(ShelfEntry.objects.filter(shelf__user=user).values_list("book_id", flat=True))
