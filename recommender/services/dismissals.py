"""A reader's "not interested": remembered, so the book is never recommended to them again."""
from django.db import transaction

from books.models import Book
from recommender.models import DismissedBook


@transaction.atomic
def book_dismiss(*, user, book: Book) -> DismissedBook:
    """Remember that ``user`` is not interested in ``book`` (idempotent: dismissing twice keeps one row)."""
    dismissal, _ = DismissedBook.objects.get_or_create(user=user, book=book)
    return dismissal
