"""Pairs read from the database for training."""
import pytest

from books.models import Book, BookLink, Link
from recommender.selectors.training_data import training_data_build
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


def test_the_shelf_model_learns_from_want_to_read_shelves_and_others_at_their_weight(user):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from books.models import Shelf, ShelfEntry

    books = Book.objects.bulk_create([Book(external_id=f"goodbooks:{i}", source="goodbooks", title=f"Book {i}")
                                      for i in range(6)])
    other = get_user_model().objects.create(username="other-reader")
    now = timezone.now()
    for reader, kind, shelved in ((user, "want-to-read", books[:3]), (user, "read", books[3:5]),
                                  (user, "favourites", books[2:4]), (other, "read", books[4:6])):
        shelf = Shelf.objects.create(user=reader, name=kind, kind=kind)
        ShelfEntry.objects.bulk_create([ShelfEntry(shelf=shelf, book=b, added_at=now) for b in shelved])

    data = training_data_build(params=TrainingParams(min_books_per_link=1, shelf_model_other_shelves_weight=0.2))

    def model_shelves(pairs):
        shelves = {}
        for book, shelf, weight in zip(pairs.book_index, pairs.link_index, pairs.weight):
            shelves.setdefault(int(shelf), (set(), float(weight)))[0].add(int(data.book_ids[book]))
        return sorted(((sorted(books), weight) for books, weight in shelves.values()), key=str)

    pk = [b.pk for b in books]
    # One shelf of the want-to-read kind, and each reader's books of other kinds (read, favourites) as one more.
    assert model_shelves(data.shelves) == sorted([(pk[:3], 1.0), (pk[2:5], pytest.approx(0.2)),
                                                  (pk[4:6], pytest.approx(0.2))], key=str)
    # The embeddings learn from every shelf, one reader each.
    reader_books = {int(data.book_ids[b]) for b, r in zip(data.pairs.book_index, data.pairs.link_index)
                    if r >= data.n_content_links}
    assert reader_books == set(pk) and data.n_readers == 2

    without = training_data_build(params=TrainingParams(min_books_per_link=1, shelf_model_other_shelves_weight=0))
    assert model_shelves(without.shelves) == [(pk[:3], 1.0)]
