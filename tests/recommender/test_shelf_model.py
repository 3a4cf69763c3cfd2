"""The shelf model: its closed-form fit, and serving shelves from its vectors in pgvector."""
import numpy as np
import pytest

from recommender.models import ShelfVector
from recommender.selectors import active_version, book_recommendations
from recommender.training.dataset import PairSet
from recommender.training.params import TrainingParams
from recommender.training.shelf_model import recommend_from_shelf_model, train_shelf_model
from tests.recommender.planted import planted_catalogue, publish_planted_version

GROUPS, BOOKS_PER_GROUP = 5, 20


def grouped_shelves(*, readers_per_group: int = 40, shelf_size: int = 6, extra_books: int = 0, seed: int = 0):
    """Readers each shelving books of one group (book b is in group b // BOOKS_PER_GROUP)."""
    rng = np.random.default_rng(seed)
    books, readers = [], []
    for reader in range(readers_per_group * GROUPS):
        group = reader % GROUPS
        books += list(group * BOOKS_PER_GROUP + rng.choice(BOOKS_PER_GROUP, shelf_size, replace=False))
        readers += [reader] * shelf_size
    return PairSet.build(books, readers, n_books=GROUPS * BOOKS_PER_GROUP + extra_books,
                         n_links=readers_per_group * GROUPS)


def exact_weights(shelves: PairSet, regularisation: float, dropout: float) -> np.ndarray:
    """The closed form, written out directly: B = -P / diag(P), P = (XᵀX + Λ)⁻¹, diag(B) = 0, with
    Λ = diag(λ + dropout / (1 - dropout) · diag(XᵀX))."""
    x = np.zeros((shelves.n_links, shelves.n_books))
    x[shelves.link_index, shelves.book_index] = 1.0
    gram = x.T @ x
    p = np.linalg.inv(gram + np.diag(regularisation + dropout / (1 - dropout) * np.diag(gram)))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_the_shelf_vectors_are_the_exact_weights(dropout):
    shelves = grouped_shelves()
    params = TrainingParams(shelf_model_link_weight=0.0, shelf_model_regularisation=10.0, shelf_model_dropout=dropout)

    model = train_shelf_model(shelves=shelves, content=None, params=params)

    assert len(model) == shelves.n_books and model.shelf_vectors.shape == (shelves.n_books, shelves.n_books)
    np.testing.assert_allclose(model.shelf_vectors, exact_weights(shelves, 10.0, dropout), atol=1e-6)


def test_a_shelf_weighing_three_counts_as_three_copies_of_it():
    shelves = grouped_shelves(readers_per_group=8)
    first = shelves.link_index == 0
    weighted = PairSet.build(shelves.book_index, shelves.link_index, n_books=shelves.n_books,
                             n_links=shelves.n_links, weight=np.where(first, 3.0, 1.0))
    copies = PairSet.build(
        np.concatenate([shelves.book_index] + [shelves.book_index[first]] * 2),
        np.concatenate([shelves.link_index, np.full(first.sum(), shelves.n_links),
                        np.full(first.sum(), shelves.n_links + 1)]),
        n_books=shelves.n_books, n_links=shelves.n_links + 2)
    params = TrainingParams(shelf_model_link_weight=0.0, shelf_model_regularisation=10.0)

    np.testing.assert_allclose(train_shelf_model(shelves=weighted, content=None, params=params).shelf_vectors,
                               train_shelf_model(shelves=copies, content=None, params=params).shelf_vectors,
                               atol=1e-5)


def test_recommendations_come_from_the_shelf_s_group_and_leave_the_shelf_out():
    model = train_shelf_model(shelves=grouped_shelves(), content=None,
                              params=TrainingParams(shelf_model_regularisation=10.0))
    shelf = np.array([40, 41, 45])  # group 2

    suggested = recommend_from_shelf_model(model, shelf, 10)

    assert len(suggested) == 10 and not set(suggested) & set(shelf)
    assert all(book // BOOKS_PER_GROUP == 2 for book in suggested)


def test_shared_links_connect_books_no_reader_shelved_together():
    shelves = grouped_shelves(extra_books=0)
    # Books 0 and 99 (groups 0 and 4) share a link no other book has.
    content = PairSet.build([0, 99], [0, 0], n_books=shelves.n_books, n_links=1, weight=[3, 3])
    base = dict(shelf_model_regularisation=10.0)

    without = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(shelf_model_link_weight=0.0,
                                                                                         **base))
    with_links = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(shelf_model_link_weight=50.0,
                                                                                           **base))

    def weight(model, i, j):
        return float(model.shelf_vectors[i, j])

    assert weight(with_links, 0, 99) > 0.1 > abs(weight(without, 0, 99))
    assert 99 in recommend_from_shelf_model(with_links, np.array([0]), 5)


def test_only_books_on_enough_shelves_and_at_most_the_most_shelved_are_modelled():
    shelves = grouped_shelves(extra_books=7)  # 7 books on no shelf
    once, twice, thrice = GROUPS * BOOKS_PER_GROUP + np.arange(3)  # now on 1, 2 and 3 shelves of their own
    shelves = PairSet.combine(shelves, PairSet.build([once, twice, twice, thrice, thrice, thrice], np.arange(6),
                                                     n_books=shelves.n_books, n_links=6))
    capped = TrainingParams(shelf_model_max_books=30, shelf_model_solver="exact")
    popularity = np.bincount(shelves.book_index, minlength=shelves.n_books)

    model = train_shelf_model(shelves=shelves, content=None, params=TrainingParams())
    small = train_shelf_model(shelves=shelves, content=None, params=capped)
    every = train_shelf_model(shelves=shelves, content=None, params=TrainingParams(shelf_model_min_shelves=1))

    assert list(model.book_index) == list(np.flatnonzero(popularity >= 3))
    assert thrice in model.book_index and once not in model.book_index and twice not in model.book_index
    assert list(every.book_index) == list(np.flatnonzero(popularity))
    assert len(small) == 30 and popularity[small.book_index].min() >= np.sort(popularity)[::-1][29]
    outside = np.setdiff1d(np.arange(shelves.n_books), small.book_index)[:3]
    assert len(recommend_from_shelf_model(small, outside, 5)) == 0, "books outside the model are ignored"
    beyond = train_shelf_model(shelves=shelves, content=None, params=TrainingParams(shelf_model_max_books=30))
    assert beyond.is_sparse and list(beyond.book_index) == list(model.book_index), (
        "past the cap, the default (auto) takes the neighbourhood solver and models every book")
    assert not model.is_sparse, "under it, the exact solver"


def test_fewer_than_two_shelved_books_give_no_model():
    shelves = PairSet.build([3, 3], [0, 1], n_books=10, n_links=2)

    assert train_shelf_model(shelves=shelves, content=None, params=TrainingParams()) is None


@pytest.mark.django_db
class TestServing:
    @pytest.fixture
    def shelved_catalogue(self):
        shelved_catalogue = planted_catalogue(groups=6, books_per_group=30, links_per_group=4, links_per_book=2,
                                      readers_per_group=12, shelf_size=8)
        publish_planted_version(shelved_catalogue, shelf_model=True)
        return shelved_catalogue

    def test_the_version_holds_the_shelf_vectors(self, shelved_catalogue):
        version = active_version()

        stored = ShelfVector.objects.filter(version=version)
        assert stored.count() == version.shelf_model_book_count > 0
        assert sorted(stored.values_list("position", flat=True)) == list(range(1, stored.count() + 1))
        assert all(len(vector.to_numpy()) == stored.count() for vector in stored.values_list("vector", flat=True))

    def test_recommendations_are_of_the_shelf_s_group_explained_and_leave_out_excluded_books(
            self, shelved_catalogue, django_assert_max_num_queries):
        group = shelved_catalogue.books_of_group(3)
        inputs, excluded = [b.pk for b in group[:4]], [b.pk for b in group[4:10]]

        with django_assert_max_num_queries(4):
            results = book_recommendations(book_ids=inputs, k=12, exclude_ids=excluded)
            explained = [b.pk for r in results for b in r.because]

        ids = [r.book.pk for r in results]
        assert len(ids) == 12 == len(set(ids)) and not set(ids) & set(inputs + excluded)
        assert all(shelved_catalogue.group_of_book[pk] == 3 for pk in ids)
        assert set(explained) <= set(inputs) and all(r.because for r in results)
        scores = [r.score for r in results]
        assert scores == sorted(scores, reverse=True)

    def test_excluding_the_best_books_still_gives_k_the_next_best(self, shelved_catalogue):
        inputs = [b.pk for b in shelved_catalogue.books_of_group(3)[:4]]
        ranking = [r.book.pk for r in book_recommendations(book_ids=inputs, k=40)]

        results = book_recommendations(book_ids=inputs, k=12, exclude_ids=ranking[:25])

        assert [r.book.pk for r in results] == ranking[25:37]

    def test_the_ranking_is_the_shelf_model_s(self, shelved_catalogue):
        """What the selector serves is what the NumPy shelf model ranks (the figures in bench/ are of it)."""
        version = active_version()
        rows = list(ShelfVector.objects.filter(version=version).order_by("position").values_list("book_id", "vector"))
        ids = np.array([r[0] for r in rows])
        weights = np.stack([r[1].to_numpy() for r in rows]).astype(np.float32)
        inputs = [shelved_catalogue.books_of_group(1)[0].pk, shelved_catalogue.books_of_group(4)[0].pk]
        at = [int(np.flatnonzero(ids == pk)[0]) for pk in inputs]
        scores = weights[at].sum(axis=0)
        scores[at] = -np.inf

        results = book_recommendations(book_ids=inputs, k=8)

        assert [r.book.pk for r in results] == list(ids[np.lexsort((ids, -scores))[:8]])
        assert [r.score for r in results] == pytest.approx(sorted(scores, reverse=True)[:8], rel=1e-3)

    def test_weights_steer_the_recommendations(self, shelved_catalogue):
        first, second = shelved_catalogue.books_of_group(1)[0], shelved_catalogue.books_of_group(2)[0]

        results = book_recommendations(book_ids=[first.pk, second.pk], k=5, weights={first.pk: 0.05, second.pk: 1})

        assert len(results) == 5 and all(shelved_catalogue.group_of_book[r.book.pk] == 2 for r in results)

    def test_a_shelf_mixing_books_in_and_outside_the_shelf_model_is_answered_for_both(
            self, shelved_catalogue, django_assert_max_num_queries):
        unshelved = next(b for b in shelved_catalogue.books if not ShelfVector.objects.filter(book=b).exists())
        other_group = (shelved_catalogue.group_of_book[unshelved.pk] + 1) % 6
        known = shelved_catalogue.books_of_group(other_group)[0]

        with django_assert_max_num_queries(8):  # the shelf model's 2, neighbour voting's 4, version and books
            results = book_recommendations(book_ids=[known.pk, unshelved.pk], k=10)
            because = [{b.pk for b in r.because} for r in results]

        groups = [shelved_catalogue.group_of_book[r.book.pk] for r in results]
        assert len(results) == 10, "each input book speaks for its part of the shelf"
        assert set(groups) == {other_group, shelved_catalogue.group_of_book[unshelved.pk]}
        assert all(reasons == {known.pk} if group == other_group else reasons == {unshelved.pk}
                   for group, reasons in zip(groups, because))
        scores = [r.score for r in results]
        assert scores == sorted(scores, reverse=True)

    def test_books_outside_the_shelf_model_fall_back_to_neighbour_voting(self, shelved_catalogue):
        unshelved = [pk for pk in (b.pk for b in shelved_catalogue.books)
                     if not ShelfVector.objects.filter(book_id=pk).exists()][:2]
        assert unshelved, "the planted shelves leave some books off every shelf"

        results = book_recommendations(book_ids=unshelved, k=5)

        assert len(results) == 5 and all(set(b.pk for b in r.because) <= set(unshelved) for r in results)
        assert all(shelved_catalogue.group_of_book[r.book.pk] in {shelved_catalogue.group_of_book[pk] for pk in unshelved}
                   for r in results)
