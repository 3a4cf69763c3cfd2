"""Shelf entries are the largest table (20 million rows at issue 22's size): every index is written for each entry an
import adds, so the table carries none that another already provides."""
import pytest
from django.db import connection

from books.models import Book, Shelf, ShelfEntry
from tests.factories import BookFactory


@pytest.mark.django_db
def test_shelf_entries_have_one_index_for_each_lookup_and_none_redundant():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'books_shelfentry'")
        indexes = dict(cursor.fetchall())
    columns = sorted(definition.split("btree ")[1] for definition in indexes.values())

    assert columns == ["(book_id)", "(id)", "(shelf_id, book_id)"], indexes


@pytest.mark.django_db
def test_entries_are_still_found_by_shelf_and_by_book_through_the_remaining_indexes(django_user_model):
    reader = django_user_model.objects.create_user(username="reader")
    shelf = Shelf.objects.create(user=reader, name="Mine", kind=Shelf.Kind.CUSTOM)
    book = BookFactory()
    ShelfEntry.objects.create(shelf=shelf, book=book, added_at="2026-12-07T00:00Z")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in ("SELECT * FROM books_shelfentry WHERE shelf_id = %s", "SELECT * FROM books_shelfentry WHERE book_id = %s"):
            cursor.execute("EXPLAIN " + query, [shelf.pk if "shelf_id" in query else book.pk])
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan and ("shelfentry_unique" in plan or "shelfentry_book" in plan), plan
    assert Book.objects.filter(shelf_entries__shelf=shelf).get() == book
