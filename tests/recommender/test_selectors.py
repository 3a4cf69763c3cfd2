"""Serving reads on a published version with planted vectors: similar books and links, recommendations."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from books.models import Book, Shelf, ShelfEntry
from recommender.models import DismissedBook, TrainingRun
from recommender.selectors import (
    NoRecommendations,
    active_version,
    book_has_vector,
    book_recommendations,
    reader_recommendations,
    similar_books,
    similar_links,
    training_status,
)
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def indexed_catalogue():
    """1,200 books in 20 groups of 60, published as a version with its HNSW indexes."""
    indexed_catalogue = planted_catalogue(groups=20, books_per_group=60, links_per_group=6, links_per_book=3,
                                  readers_per_group=1, shelf_size=2)
    publish_planted_version(indexed_catalogue)
    return indexed_catalogue


def group_share(indexed_catalogue, book, books) -> float:
    return sum(indexed_catalogue.group_of_book[b.pk] == indexed_catalogue.group_of_book[book.pk] for b in books) / len(books)


def test_similar_books_are_the_nearest_of_the_book_s_group_most_similar_first(indexed_catalogue):
    book = indexed_catalogue.books[0]

    results = similar_books(book=book, k=10)

    assert len(results) == 10 and book not in [r.book for r in results]
    assert group_share(indexed_catalogue, book, [r.book for r in results]) == 1.0
    similarities = [r.similarity for r in results]
    assert similarities == sorted(similarities, reverse=True) and 0 < similarities[-1] <= similarities[0] <= 1


def plan_of_the_vector_query(read) -> str:
    """EXPLAIN of the nearest-neighbour query that ``read()`` runs, with sequential scans and sorts priced out:
    a test table is small enough that reading the version's rows and sorting them exactly is the cheaper plan
    (which one PostgreSQL picks then depends on what earlier tests left in the table); this checks that the
    index can serve the query's shape."""
    with CaptureQueriesContext(connection) as queries:
        read()
    sql = next(q["sql"] for q in queries.captured_queries if "<=>" in q["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_vector_queries_are_served_by_the_version_s_hnsw_index(indexed_catalogue):
    index = f"bookvector_hnsw_v{active_version().pk}"
    book = indexed_catalogue.books[0]

    assert index in plan_of_the_vector_query(lambda: similar_books(book=book, k=10))
    assert index in plan_of_the_vector_query(lambda: book_recommendations(book_ids=[book.pk], k=10))
    assert f"linkvector_hnsw_v{active_version().pk}" in plan_of_the_vector_query(
        lambda: similar_links(link=indexed_catalogue.links[0], k=5))


def test_similar_books_filtered_by_genre_still_return_k(indexed_catalogue):
    book = indexed_catalogue.books[0]
    far_genre = "Genre 7"  # a group whose books are all far from the book's own

    results = similar_books(book=book, k=12, genre=far_genre)

    assert len(results) == 12
    assert all(r.book.genre == far_genre for r in results)


def test_similar_books_take_a_constant_number_of_queries(indexed_catalogue, django_assert_max_num_queries):
    book = indexed_catalogue.books[0]
    with django_assert_max_num_queries(5):
        small = similar_books(book=book, k=3)
    with django_assert_max_num_queries(5):
        large = similar_books(book=book, k=50)
        titles = [r.book.title for r in large]  # books come loaded
    assert len(small) == 3 and len(titles) == 50


def test_a_book_without_a_vector_has_no_similar_books(indexed_catalogue):
    newcomer = Book.objects.create(external_id="wikipedia:Newcomer", source="wikipedia", title="Newcomer")

    assert similar_books(book=newcomer) == []
    assert not book_has_vector(book=newcomer) and book_has_vector(book=indexed_catalogue.books[0])


def test_similar_links_are_links_of_the_same_group(indexed_catalogue):
    link = indexed_catalogue.links[0]

    results = similar_links(link=link, k=5)

    assert len(results) == 5 and link not in [r.link for r in results]
    assert {r.link.name.split("-")[0] for r in results} == {"topic 0"}


def test_book_recommendations_leave_out_input_and_excluded_books_and_still_return_k(
    indexed_catalogue, django_assert_max_num_queries
):
    group = indexed_catalogue.books_of_group(3)
    inputs = [b.pk for b in group[:5]]
    excluded = [b.pk for b in group[5:50]]  # most of the group: the index must keep scanning past them

    with django_assert_max_num_queries(6):
        results = book_recommendations(book_ids=inputs, k=20, exclude_ids=excluded)
        explained = [b.pk for r in results for b in r.because]

    ids = [r.book.pk for r in results]
    assert len(ids) == 20 == len(set(ids))
    assert not set(ids) & (set(inputs) | set(excluded))
    assert {b.pk for b in group[50:]} <= set(ids), "the group's remaining books come first"
    assert set(explained) <= set(inputs) and all(r.because for r in results)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


def test_book_recommendations_query_count_does_not_grow_with_inputs(indexed_catalogue, django_assert_max_num_queries):
    many = [b.pk for b in indexed_catalogue.books[::12]]  # 100 books from every group
    with django_assert_max_num_queries(6):
        results = book_recommendations(book_ids=many, k=40)
        [b.title for r in results for b in r.because]
    assert len(results) == 40


def test_book_recommendations_follow_the_weights(indexed_catalogue):
    first, second = indexed_catalogue.books_of_group(1)[0], indexed_catalogue.books_of_group(2)[0]

    results = book_recommendations(book_ids=[first.pk, second.pk], k=5, weights={first.pk: 0.1, second.pk: 1.0})

    assert len(results) == 5 and all(indexed_catalogue.group_of_book[r.book.pk] == 2 for r in results)


def test_reader_recommendations_skip_every_shelved_and_dismissed_book(indexed_catalogue, user):
    group = indexed_catalogue.books_of_group(4)
    want, read = Shelf.objects.create(user=user, name="Want", kind="want-to-read"), \
        Shelf.objects.create(user=user, name="Read", kind="read")
    now = timezone.now()
    ShelfEntry.objects.bulk_create([ShelfEntry(shelf=want, book=b, added_at=now) for b in group[:3]]
                                   + [ShelfEntry(shelf=read, book=b, added_at=now, rating=5) for b in group[3:6]])
    DismissedBook.objects.bulk_create([DismissedBook(user=user, book=b) for b in group[6:10]])

    answer = reader_recommendations(user=user, k=15)
    results = answer.items

    ids = {r.book.pk for r in results}
    assert len(ids) == 15
    assert not ids & {b.pk for b in group[:10]}
    assert group_share(indexed_catalogue, group[0], [r.book for r in results]) == 1.0
    assert answer.version == active_version() and answer.why_none is None


def test_a_reader_with_empty_shelves_gets_no_recommendations(indexed_catalogue, user):
    answer = reader_recommendations(user=user)
    assert answer.items == [] and answer.why_none is NoRecommendations.EMPTY_SHELVES


def test_training_status_names_the_live_version_and_the_open_run(indexed_catalogue):
    run = TrainingRun.objects.create(trigger="admin", status="running", epochs=10, epoch=3, steps_per_epoch=4,
                                     step=2)

    status = training_status()

    version = active_version()
    assert status["active_version"]["id"] == version.pk
    assert status["active_version"]["book_count"] == len(indexed_catalogue.books)
    assert status["open_run"]["id"] == run.pk and status["open_run"]["fraction_done"] == pytest.approx(10 / 40)


def test_without_a_version_everything_is_empty(user):
    book = Book.objects.create(external_id="wikipedia:Alone", source="wikipedia", title="Alone")

    assert active_version() is None
    assert similar_books(book=book) == [] and book_recommendations(book_ids=[book.pk]) == []
    assert training_status() == {"active_version": None, "open_run": None}
