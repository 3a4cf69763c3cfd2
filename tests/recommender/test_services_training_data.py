"""Pairs read from the database for training."""
import pytest

from books.models import Book, BookLink, Link
from recommender.services.training_data import training_data_build
from recommender.training.params import TrainingParams

pytestmark = pytest.mark.django_db


def test_only_an_articles_link_count_weighs_a_pair_not_a_tags_reader_count():
    # A goodbooks tag and a Wikipedia link of the same name share one Link; the tag's count is how many
    # readers gave it (tens of thousands), which squared would drown every other pair if read as a count.
    fantasy = Link.objects.create(name="fantasy", display_name="Fantasy", kind=Link.Kind.WIKILINK)
    article = Book.objects.create(external_id="wikipedia:The Hobbit", source="wikipedia", title="The Hobbit")
    tagged = Book.objects.create(external_id="goodbooks:7", source="goodbooks", title="The Hobbit")
    BookLink.objects.create(book=article, link=fantasy, count=3)
    BookLink.objects.create(book=tagged, link=fantasy, count=47478)

    data = training_data_build(params=TrainingParams(min_books_per_link=1))

    weight_of_book = {int(data.book_ids[b]): float(w) for b, w in zip(data.pairs.book_index, data.pairs.weight)}
    assert weight_of_book == {article.pk: 3.0, tagged.pk: 1.0}


def test_the_shelf_model_learns_from_want_to_read_shelves_the_embeddings_from_every_shelf(user):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from books.models import Shelf, ShelfEntry

    books = Book.objects.bulk_create([Book(external_id=f"goodbooks:{i}", source="goodbooks", title=f"Book {i}")
                                      for i in range(6)])
    other = get_user_model().objects.create(username="other-reader")
    now = timezone.now()
    for reader, kind, shelved in ((user, "want-to-read", books[:3]), (user, "read", books[3:5]),
                                  (other, "read", books[4:6])):
        shelf = Shelf.objects.create(user=reader, name=kind, kind=kind)
        ShelfEntry.objects.bulk_create([ShelfEntry(shelf=shelf, book=b, added_at=now) for b in shelved])

    data = training_data_build(params=TrainingParams(min_books_per_link=1))

    def shelved(pairs, first_reader=0):
        return {int(data.book_ids[b]) for b, r in zip(pairs.book_index, pairs.link_index) if r >= first_reader}

    assert shelved(data.shelves) == {b.pk for b in books[:3]} and data.shelves.n_links == 1
    assert shelved(data.pairs, data.n_content_links) == {b.pk for b in books} and data.n_readers == 2
