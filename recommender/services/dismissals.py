"""A reader's "not interested": remembered, so the book is never recommended to them again, until they undo it."""
from django.db import transaction

from books.models import Book
from recommender.models import DismissedBook


@transaction.atomic
def book_dismiss(*, user, book: Book) -> tuple[DismissedBook, bool]:
    """Remember that ``user`` is not interested in ``book``: the dismissal, and whether it is new (dismissing
    twice keeps one row, with its first date)."""
    return DismissedBook.objects.get_or_create(user=user, book=book)


@transaction.atomic
def book_dismissal_undo(*, user, book_id: int) -> bool:
    """Forget ``user``'s dismissal of the book with id ``book_id``, so it can be recommended to them again;
    whether there was one to forget."""
    deleted, _ = DismissedBook.objects.filter(user=user, book_id=book_id).delete()
    return deleted > 0
