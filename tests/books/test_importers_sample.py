"""load_sample_data: the bundled sample fills an empty catalogue, and leaves a loaded one alone."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from books.models import Book, BookIdentifier, BookMerge, Link, ShelfEntry

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_sample_data", verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_bundled_sample_loads_into_an_empty_catalogue_once():
    load()
    assert Book.objects.filter(source="wikipedia").count() == 1411
    assert BookIdentifier.objects.filter(scheme="goodbooks").count() == 1100, "every goodbooks book, merged or not"
    merged = BookMerge.objects.filter(source="goodbooks").count()
    assert merged > 0, "the sample has books both sources describe"
    assert Book.objects.filter(source="goodbooks").count() == 1100 - merged
    assert get_user_model().objects.filter(username__startswith="goodbooks-").count() == 2500
    assert ShelfEntry.objects.count() > 30_000
    assert Link.objects.filter(kind=Link.Kind.TAG).exists() and Link.objects.filter(kind=Link.Kind.CATEGORY).exists()
    assert Book.objects.get(identifiers__scheme="goodbooks", identifiers__value="2").links.filter(name="fantasy").exists()

    books = Book.objects.count()
    assert f"already has {2511 - merged:,} books" in load()
    assert Book.objects.count() == books


def test_a_catalogue_with_books_is_left_alone():
    Book.objects.create(external_id="wikipedia:Dune", source="wikipedia", title="Dune")
    assert "the sample was not loaded" in load()
    assert Book.objects.count() == 1
