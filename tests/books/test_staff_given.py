"""Values staff give a book: written into the book and recorded as staff-given, a one-value field the book has
meanwhile kept; written back over what an import has just written (staff-given beats any source)."""
import pytest
from django.db import connection

from books.models import Book
from books.staff_given import book_value_give, staff_given_reapply
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def test_a_given_genre_is_added_and_a_country_set_where_the_book_has_none():
    book = BookFactory(genre="Fantasy", country="")

    assert book_value_give(book_id=book.pk, field="genre", value="Horror")
    assert book_value_give(book_id=book.pk, field="country", value="France")

    book.refresh_from_db()
    assert (book.genre, book.country) == ("Horror, Fantasy", "France")  # staff-given first, as imports write it
    assert list(book.genres.values_list("name", flat=True)) == ["Horror"]  # the source's relation is the import's
    assert book.staff_given == {"genre": ["Horror"], "country": "France"}


def test_a_country_the_book_has_meanwhile_is_kept_and_nothing_recorded():
    book = BookFactory(country="Japan")

    assert not book_value_give(book_id=book.pk, field="country", value="France")

    book.refresh_from_db()
    assert (book.country, book.staff_given) == ("Japan", {})
    with pytest.raises(ValueError, match="'title' is not a field staff give"):
        book_value_give(book_id=book.pk, field="title", value="Another")


def test_after_an_import_staff_values_come_first_and_beat_the_sources():
    given = BookFactory(genre="Romance, Horror", language="English",
                        staff_given={"genre": ["Horror", "Fantasy"], "language": "French"})
    untouched = BookFactory(genre="Travel")

    with connection.cursor() as cursor:
        changed = staff_given_reapply(cursor, [given.pk, untouched.pk])

    given.refresh_from_db()
    assert changed == 1 and (given.genre, given.language) == ("Horror, Fantasy, Romance", "French")
    assert Book.objects.get(pk=untouched.pk).genre == "Travel"

