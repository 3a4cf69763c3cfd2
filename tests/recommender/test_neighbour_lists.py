"""Neighbour lists: the books a version's shelf model leaves out get their nearest books listed once, and a
recommendation for them reads the list instead of searching the index, with the same answer."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommender.models import BookVector, NeighbourList, ShelfVector, TrainingRun
from recommender.selectors import active_version, book_recommendations
from recommender.selectors.recommendations import LISTED_NEIGHBOURS, NEIGHBOURS_PER_BOOK, vote_neighbours
from recommender.services.neighbour_lists import neighbour_lists_store
from recommender.services.training_pipeline import training_run_execute
from recommender.services.training_runs import training_run_request
from recommender.services.versions import versions_prune
from tests.recommender.planted import FAST_PARAMS, planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def partly_shelved():
    """240 books in 6 groups of 40, at most 12 of each group on a shelf: a neighbourhood shelf model that leaves out
    most books, and more books than a list holds."""
    catalogue = planted_catalogue(groups=6, books_per_group=40, links_per_group=4, links_per_book=2,
                                  readers_per_group=2, shelf_size=6)
    publish_planted_version(catalogue, shelf_model=True, shelf_model_solver="neighbourhood")
    return catalogue


def left_out(catalogue) -> list[int]:
    known = set(ShelfVector.objects.filter(version=active_version(), neighbours__len__gt=0)
                .values_list("book_id", flat=True))
    return [book.pk for book in catalogue.books if book.pk not in known]


def searches(queries) -> int:
    """How many of the captured queries searched the vectors (a cosine-distance query)."""
    return sum("<=>" in query["sql"] for query in queries)


def answers(**kwargs):
    return [(r.book.pk, round(r.score, 9), [b.pk for b in r.because], [round(s, 9) for s in r.shares])
            for r in book_recommendations(**kwargs)]


def test_every_book_the_shelf_model_leaves_out_is_listed_with_what_the_search_finds(partly_shelved):
    version = active_version()
    unknown = left_out(partly_shelved)
    assert 100 < len(unknown) < len(partly_shelved.books), "the model knows some books and leaves out others"

    assert version.listed_book_count == 0
    assert neighbour_lists_store(version=version) == len(unknown)
    assert active_version().listed_book_count == len(unknown)

    lists = {book_id: (neighbours, distances) for book_id, neighbours, distances
             in NeighbourList.objects.filter(version=version).values_list("book_id", "neighbours", "distances")}
    assert sorted(lists) == sorted(unknown)
    searched = vote_neighbours(version, unknown, [], LISTED_NEIGHBOURS)
    for book_id, (neighbours, distances) in lists.items():
        rows = [row for row in searched if row[0] == book_id]
        assert len(neighbours) == len(distances) == LISTED_NEIGHBOURS < len(partly_shelved.books)
        assert neighbours == [row[1] for row in rows] and distances == [row[2] for row in rows]
        assert neighbours[0] == book_id and distances == sorted(distances)
    assert neighbour_lists_store(version=version) == 0, "a listed book is not listed again"


def test_recommendations_read_the_lists_and_answer_as_the_search_does(partly_shelved):
    version = active_version()
    unknown = left_out(partly_shelved)
    known = [b.pk for b in partly_shelved.books if b.pk not in set(unknown)]
    cases = [dict(book_ids=unknown[:1], k=20), dict(book_ids=unknown[3:6], k=10, exclude_ids=unknown[10:20]),
             dict(book_ids=[unknown[40], *known[:3]], k=20), dict(book_ids=unknown[50:52], k=20, collapse=True)]
    searched = [answers(**case) for case in cases]

    neighbour_lists_store(version=version)
    with CaptureQueriesContext(connection) as queries:
        listed = [answers(**case) for case in cases]

    assert listed == searched
    assert all(answer for answer in listed)
    assert searches(queries) == 0, "every input book had a list: no index search"


def test_a_list_with_too_few_books_left_after_the_excluded_ones_is_searched_past(partly_shelved):
    version = active_version()
    source = left_out(partly_shelved)[0]
    neighbours = vote_neighbours(version, [source], [], LISTED_NEIGHBOURS)
    excluded = [row[1] for row in neighbours[1:LISTED_NEIGHBOURS - NEIGHBOURS_PER_BOOK + 2]]
    searched = answers(book_ids=[source], k=20, exclude_ids=excluded)

    neighbour_lists_store(version=version)
    with CaptureQueriesContext(connection) as queries:
        listed = answers(book_ids=[source], k=20, exclude_ids=excluded)

    assert listed == searched and len(listed) == 20
    assert searches(queries) == 1
    assert not {book_id for book_id, *_ in listed} & set(excluded)


def test_a_version_without_a_shelf_model_lists_nothing_and_still_votes():
    catalogue = planted_catalogue(groups=4, books_per_group=20, readers_per_group=1, shelf_size=2)
    version = publish_planted_version(catalogue)
    inputs = [book.pk for book in catalogue.books_of_group(2)[:3]]

    assert neighbour_lists_store(version=version) == 0
    assert active_version().listed_book_count == 0
    results = book_recommendations(book_ids=inputs, k=10)
    assert len(results) == 10 and all(catalogue.group_of_book[r.book.pk] == 2 for r in results)


def test_pruning_a_version_deletes_its_lists(partly_shelved):
    first = active_version()
    neighbour_lists_store(version=first)
    assert NeighbourList.objects.filter(version=first).exists()

    publish_planted_version(partly_shelved, seed=1)
    publish_planted_version(partly_shelved, seed=2)
    assert first.pk in versions_prune(keep=1)

    assert not NeighbourList.objects.filter(version=first).exists()


def test_a_training_run_lists_the_books_its_shelf_model_leaves_out_before_the_version_goes_live():
    catalogue = planted_catalogue(groups=4, books_per_group=30, readers_per_group=3, shelf_size=5)
    run = training_run_execute(run_id=training_run_request(
        trigger="command", params={**FAST_PARAMS, "shelf_model_min_shelves": 2}, enqueue=False).pk)

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = active_version()
    unknown = set(BookVector.objects.filter(version=version).values_list("book_id", flat=True)) - set(
        ShelfVector.objects.filter(version=version).values_list("book_id", flat=True))
    assert version.shelf_model_book_count > 0 and unknown, "the model knows some books and leaves out others"
    assert set(NeighbourList.objects.filter(version=version).values_list("book_id", flat=True)) == unknown
    assert version.listed_book_count == run.metrics["neighbour_lists"] == len(unknown) < len(catalogue.books)
    assert "neighbour_lists" in run.timings
