"""A reader's "not interested": the service that remembers and forgets it, and the selector that lists it."""
import pytest

from recommender.models import DismissedBook
from recommender.selectors import dismissed_books
from recommender.services.dismissals import book_dismiss, book_dismissal_undo
from tests.factories import make_book

pytestmark = pytest.mark.django_db


def test_dismissing_twice_keeps_one_dismissal_with_its_first_date(user):
    book = make_book("Dune", "Frank Herbert")

    first, created = book_dismiss(user=user, book=book)
    again, created_again = book_dismiss(user=user, book=book)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.dismissed_at == first.dismissed_at
    assert DismissedBook.objects.filter(user=user).count() == 1


def test_undo_forgets_only_this_readers_dismissal_and_says_whether_there_was_one(user, other_user):
    book = make_book("Dune", "Frank Herbert")
    book_dismiss(user=user, book=book)
    book_dismiss(user=other_user, book=book)

    assert book_dismissal_undo(user=user, book_id=book.pk) is True
    assert book_dismissal_undo(user=user, book_id=book.pk) is False
    assert book_dismissal_undo(user=user, book_id=book.pk + 1000) is False
    assert list(DismissedBook.objects.values_list("user", flat=True)) == [other_user.pk]


def test_dismissed_books_are_the_readers_own_most_recent_first(user, other_user):
    dune, emma, ulysses = (make_book(title) for title in ("Dune", "Emma", "Ulysses"))
    for book in (dune, emma, ulysses):
        book_dismiss(user=user, book=book)
    book_dismiss(user=other_user, book=make_book("Middlemarch"))
    book_dismissal_undo(user=user, book_id=emma.pk)
    book_dismiss(user=user, book=emma)

    assert [dismissal.book.title for dismissal in dismissed_books(user=user)] == ["Emma", "Ulysses", "Dune"]
