"""The factories write real rows: what tests build with them is what the product would have stored."""
import numpy as np
import pytest
from django.contrib.auth import authenticate

from books.models import Book, Link
from books.text import fold
from recommender.models import BookVector, EmbeddingVersion, LinkVector
from tests.factories import (
    PASSWORD,
    BookFactory,
    BookLinkFactory,
    PublishedVersionFactory,
    ReaderFactory,
    ShelfEntryFactory,
    TrainingRunFactory,
)

pytestmark = pytest.mark.django_db


def test_a_book_is_stored_as_an_importer_stores_it():
    book = BookFactory(title="Anna Karenina", author="Leo Tolstoy", source="goodbooks")

    assert book.external_id == "goodbooks:Anna Karenina"
    assert book.search_text == fold("Anna Karenina Leo Tolstoy")


def test_a_pair_and_a_shelf_entry_build_what_they_hang_on():
    pair = BookLinkFactory(count=3, link__display_name="Russian  Literature")
    entry = ShelfEntryFactory(shelf__user__username="natasha")

    assert pair.link.name == "russian literature" and pair.book.links.get() == pair.link
    assert entry.shelf.books.get() == entry.book and entry.shelf.user.username == "natasha"
    assert authenticate(username="natasha", password=PASSWORD) == entry.shelf.user
    assert ReaderFactory(username="natasha") == entry.shelf.user


def test_a_published_version_holds_every_vector_through_the_publish_service():
    books = BookFactory.create_batch(30)
    run = TrainingRunFactory()
    chosen = {book: [1.0, 0.0, 0.0, float(i)] for i, book in enumerate(books)}

    version = PublishedVersionFactory(book_vectors=chosen, link_vectors={BookLinkFactory(book=books[0]).link:
                                                                          [0.0, 1.0, 0.0, 0.0]}, run=run)

    assert version == EmbeddingVersion.objects.get(is_active=True) and version.training_run == run
    assert version.is_ready and version.dimensions == 4 and version.book_count == 30
    stored = dict(BookVector.objects.filter(version=version).values_list("book_id", "embedding"))
    np.testing.assert_allclose(stored[books[3].pk], chosen[books[3]])


def test_without_vectors_every_book_and_link_gets_one_and_activate_false_leaves_it_held_back():
    BookLinkFactory.create_batch(20)

    version = PublishedVersionFactory(activate=False, dimensions=6)

    assert not version.is_active and version.dimensions == 6
    assert BookVector.objects.filter(version=version).count() == Book.objects.count() == 20
    assert LinkVector.objects.filter(version=version).count() == Link.objects.count() == 20
