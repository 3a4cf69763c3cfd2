"""The shelf model's neighbourhood solver: its fit, its neighbour lists stored with a version, serving from
them, rollback between the two kinds of versions, and a training run on the bundled goodbooks sample."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from django.core.management import call_command

from books.models import Book, ShelfEntry
from recommender.models import ShelfVector, TrainingRun
from recommender.selectors import active_version, book_recommendations
from recommender.selectors.recommendations import reader_recommendations
from recommender.services.training_pipeline import training_run_execute
from recommender.services.training_runs import training_run_request
from recommender.services.versions import version_activate, version_rollback
from recommender.training.dataset import PairSet
from recommender.training.params import TrainingParams
from recommender.training.shelf_model import (
    HeldOutShelves,
    choose_tail_blend,
    recommend_from_shelf_model,
    tail_books,
    train_shelf_model,
)
from tests.recommender.planted import planted_catalogue, planted_shelf_model, publish_planted_version
from tests.recommender.test_shelf_model import BOOKS_PER_GROUP, GROUPS, exact_weights, grouped_shelves

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "goodbooks"


def test_with_every_book_it_shares_a_shelf_with_as_a_neighbour_the_weights_are_the_exact_ones():
    """Each column is EASE's own regression: when a book's neighbourhood holds every book that shares a shelf
    with it, and those share shelves with each other (here each group's books pairwise; groups never meet), the
    weights are the closed form's, its positive ones kept (without the tail blend, tested below)."""
    shelves = grouped_shelves(readers_per_group=150)
    n = shelves.n_books
    params = TrainingParams(shelf_model_solver="neighbourhood", shelf_model_neighbours=n - 1,
                            shelf_model_out_neighbours=n, shelf_model_link_weight=0.0,
                            shelf_model_regularisation=10.0, shelf_model_dropout=0.25, shelf_model_min_shelves=1,
                            shelf_model_tail_selection_readers=0)

    model = train_shelf_model(shelves=shelves, content=None, params=params)

    exact = exact_weights(shelves, 10.0, 0.25)
    assert model.is_sparse and len(model) == n
    np.testing.assert_allclose(model.shelf_vectors.toarray(), np.where(exact > 0, exact, 0.0), atol=1e-5)


def test_every_book_on_enough_shelves_is_modelled_with_short_lists_that_recommend_its_group():
    shelves = grouped_shelves(extra_books=3)
    params = TrainingParams(shelf_model_solver="neighbourhood", shelf_model_neighbours=15,
                            shelf_model_out_neighbours=10, shelf_model_max_books=30, shelf_model_regularisation=10.0)

    model = train_shelf_model(shelves=shelves, content=None, params=params)

    assert len(model) == GROUPS * BOOKS_PER_GROUP, "no cap on the number of books: every shelved book is in it"
    lengths = np.diff(model.shelf_vectors.indptr)
    assert lengths.max() <= 10 and lengths.min() > 0
    shelf = 2 * BOOKS_PER_GROUP + np.arange(4)
    suggested = recommend_from_shelf_model(model, shelf, 10)
    assert len(suggested) == 10 and all(book // BOOKS_PER_GROUP == 2 for book in suggested)
    assert not set(suggested) & set(shelf)


def test_content_links_bring_a_book_into_its_group_s_neighbourhoods():
    shelves = grouped_shelves(extra_books=1)
    lonely = GROUPS * BOOKS_PER_GROUP  # on three shelves with nothing else, but tagged like group 0
    shelves = PairSet.combine(shelves, PairSet.build([lonely] * 3, [0, 1, 2], n_books=shelves.n_books, n_links=3))
    content = PairSet.build(list(range(BOOKS_PER_GROUP)) + [lonely], [0] * BOOKS_PER_GROUP + [0],
                            n_books=shelves.n_books, n_links=1)
    base = dict(shelf_model_solver="neighbourhood", shelf_model_neighbours=30, shelf_model_regularisation=10.0)

    with_links = train_shelf_model(shelves=shelves, content=content,
                                   params=TrainingParams(**base, shelf_model_link_weight=50.0))

    assert lonely in recommend_from_shelf_model(with_links, np.arange(4), 20)


@pytest.mark.django_db
class TestServing:
    @pytest.fixture
    def shelved_catalogue(self):
        shelved_catalogue = planted_catalogue(groups=6, books_per_group=30, links_per_group=4, links_per_book=2,
                                              readers_per_group=12, shelf_size=8)
        publish_planted_version(shelved_catalogue, shelf_model=True, shelf_model_solver="neighbourhood")
        return shelved_catalogue

    def test_the_version_holds_each_book_s_neighbour_list(self, shelved_catalogue):
        version = active_version()

        stored = ShelfVector.objects.filter(version=version)
        assert version.shelf_model_solver == "neighbourhood"
        shelved = ShelfEntry.objects.values("book").distinct().count()
        assert stored.count() == version.shelf_model_book_count == shelved > 0.95 * len(shelved_catalogue.books)
        assert not stored.filter(vector__isnull=False).exists()
        for neighbours, weights in stored.values_list("neighbours", "weights"):
            assert len(neighbours) == len(weights.to_numpy()) and 0 < len(neighbours) <= 500
            assert min(neighbours) >= 1 and max(neighbours) <= stored.count()

    def test_recommendations_are_the_model_s_ranking_explained_by_shelf_books(
            self, shelved_catalogue, django_assert_max_num_queries):
        version = active_version()
        rows = list(ShelfVector.objects.filter(version=version).order_by("position")
                    .values_list("book_id", "neighbours", "weights"))
        ids = np.array([book_id for book_id, _, _ in rows])
        inputs = [b.pk for b in shelved_catalogue.books_of_group(3)[:4]]
        scores = np.zeros(len(ids))
        for book_id, neighbours, weights in rows:
            if book_id in inputs:
                np.add.at(scores, np.array(neighbours) - 1, weights.to_numpy())
        scores[np.isin(ids, inputs)] = -np.inf

        with django_assert_max_num_queries(3):
            results = book_recommendations(book_ids=inputs, k=12)
            explained = [{b.pk for b in r.because} for r in results]

        assert [r.book.pk for r in results] == list(ids[np.lexsort((ids, -scores))[:12]])
        assert [r.score for r in results] == pytest.approx(sorted(scores, reverse=True)[:12], rel=1e-3)
        assert all(shelved_catalogue.group_of_book[r.book.pk] == 3 for r in results)
        assert all(because and because <= set(inputs) for because in explained)

    def test_excluding_the_best_books_still_gives_k_the_next_best(self, shelved_catalogue):
        inputs = [b.pk for b in shelved_catalogue.books_of_group(2)[:4]]
        ranking = [r.book.pk for r in book_recommendations(book_ids=inputs, k=40)]

        results = book_recommendations(book_ids=inputs, k=12, exclude_ids=ranking[:20])

        assert [r.book.pk for r in results] == ranking[20:32]

    def test_rollback_switches_between_an_exact_and_a_neighbourhood_version(self, shelved_catalogue):
        inputs = [b.pk for b in shelved_catalogue.books_of_group(1)[:3]]
        neighbourhood = active_version()
        from_neighbourhood = [r.book.pk for r in book_recommendations(book_ids=inputs, k=15)]
        exact = publish_planted_version(shelved_catalogue, shelf_model=True, seed=1)
        from_exact = [r.book.pk for r in book_recommendations(book_ids=inputs, k=15)]
        assert active_version() == exact and exact.shelf_model_solver == "exact"
        assert from_exact != from_neighbourhood, "the two models rank apart (else this test says nothing)"

        assert version_rollback() == neighbourhood

        assert [r.book.pk for r in book_recommendations(book_ids=inputs, k=15)] == from_neighbourhood
        version_activate(version=exact)
        assert [r.book.pk for r in book_recommendations(book_ids=inputs, k=15)] == from_exact


@pytest.mark.django_db
@pytest.mark.slow
def test_a_run_on_the_bundled_goodbooks_sample_serves_its_readers_from_neighbour_lists():
    call_command("import_goodbooks", str(SAMPLE), verbosity=0)
    params = {"epochs": 1, "min_steps": 0, "embedding_dim": 8, "batch_size": 4096, "progress_every_steps": 100,
              "shelf_model_solver": "neighbourhood", "shelf_model_neighbours": 50}
    run = training_run_execute(run_id=training_run_request(trigger="command", params=params, enqueue=False).pk)

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = active_version()
    assert version.training_run_id == run.pk and version.shelf_model_solver == "neighbourhood"
    stored = ShelfVector.objects.filter(version=version)
    assert stored.count() == version.shelf_model_book_count > 500, "more books than a head of the catalogue"
    assert stored.filter(neighbours__len__gt=0).count() > 0.9 * stored.count()
    assert run.metrics["shelf_recall@20"] > run.metrics["popularity_recall@20"]
    reader = ShelfEntry.objects.values_list("shelf__user", flat=True).order_by("shelf__user").first()
    from django.contrib.auth import get_user_model

    recommended = reader_recommendations(user=get_user_model().objects.get(pk=reader), k=10)
    shelved = set(ShelfEntry.objects.filter(shelf__user=reader).values_list("book_id", flat=True))
    assert recommended.version == version and len(recommended.items) == 10
    assert not {r.book.pk for r in recommended.items} & shelved
    assert all(r.because and {b.pk for b in r.because} <= shelved for r in recommended.items)
    assert Book.objects.filter(pk__in=[r.book.pk for r in recommended.items]).count() == 10


@pytest.mark.parametrize("common_link_books", [1000, 5])
def test_links_on_many_books_count_in_every_system_whether_listed_or_not(monkeypatch, common_link_books):
    """A link on more than ``COMMON_LINK_BOOKS`` books is left out of the neighbour lists but added to each
    system whole: with every book a neighbour, the weights are the closed form's with the links either way."""
    from recommender.training import shelf_model

    monkeypatch.setattr(shelf_model, "COMMON_LINK_BOOKS", common_link_books)
    shelves = grouped_shelves(readers_per_group=150)
    n = shelves.n_books
    everywhere = [(book, 0) for book in range(n)]  # one link on every book, one per group
    per_group = [(book, 1 + book // BOOKS_PER_GROUP) for book in range(n)]
    books, links = zip(*(everywhere + per_group))
    content = PairSet.build(books, links, n_books=n, n_links=1 + GROUPS)
    common = dict(shelf_model_link_weight=20.0, shelf_model_regularisation=10.0, shelf_model_min_shelves=1)

    exact = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(**common))
    model = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(
        **common, shelf_model_solver="neighbourhood", shelf_model_neighbours=n - 1, shelf_model_out_neighbours=n,
        shelf_model_tail_selection_readers=0))

    np.testing.assert_allclose(model.shelf_vectors.toarray(), np.maximum(exact.shelf_vectors, 0.0), atol=1e-5)


def test_more_links_on_many_books_than_components_fold_into_them_exactly_when_they_span_as_few_directions(
        monkeypatch):
    """Past ``COMMON_LINK_COMPONENTS`` such links their part of the Gram enters every system as its best
    approximation of that rank, the rest of its diagonal kept: the closed form's weights when the links span no
    more directions than that (here each group's link twice, under two names)."""
    from recommender.training import shelf_model

    monkeypatch.setattr(shelf_model, "COMMON_LINK_BOOKS", 5)
    monkeypatch.setattr(shelf_model, "COMMON_LINK_COMPONENTS", 1 + GROUPS)
    shelves = grouped_shelves(readers_per_group=150)
    n = shelves.n_books
    pairs = [(book, 0) for book in range(n)] + [(book, 1 + book // BOOKS_PER_GROUP) for book in range(n)] + [
        (book, 1 + GROUPS + book // BOOKS_PER_GROUP) for book in range(n)]
    books, links = zip(*pairs)
    content = PairSet.build(books, links, n_books=n, n_links=1 + 2 * GROUPS)
    common = dict(shelf_model_link_weight=20.0, shelf_model_regularisation=10.0, shelf_model_min_shelves=1)

    exact = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(**common))
    model = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(
        **common, shelf_model_solver="neighbourhood", shelf_model_neighbours=n - 1, shelf_model_out_neighbours=n,
        shelf_model_tail_selection_readers=0))

    np.testing.assert_allclose(model.shelf_vectors.toarray(), np.maximum(exact.shelf_vectors, 0.0), atol=1e-5)


def test_the_weights_do_not_depend_on_how_many_threads_fit_them(monkeypatch):
    from recommender.training import shelf_model

    monkeypatch.setattr(shelf_model, "SOLVE_BATCH", 8)
    monkeypatch.setattr(shelf_model, "GRAM_BLOCK_ENTRIES", 3000)  # several blocks of rows
    shelves = grouped_shelves(extra_books=3, seed=4)
    params = TrainingParams(shelf_model_solver="neighbourhood", shelf_model_neighbours=12,
                            shelf_model_out_neighbours=8, shelf_model_regularisation=10.0)
    fitted = {}
    for threads in (1, 3):
        monkeypatch.setattr(shelf_model, "solver_threads", lambda threads=threads: threads)
        fitted[threads] = train_shelf_model(shelves=shelves, content=None, params=params).shelf_vectors

    assert fitted[1].nnz > 0
    assert (fitted[1] != fitted[3]).nnz == 0


def test_the_tail_is_every_book_but_the_most_shelved_ones_holding_half_the_shelf_entries():
    counts = np.array([5.0, 40.0, 1.0, 30.0, 10.0, 10.0, 4.0])  # 100 entries: 40 + 30 hold 70, 40 alone 40

    assert list(np.flatnonzero(~tail_books(counts))) == [1, 3]
    assert list(np.flatnonzero(~tail_books(np.full(4, 3.0)))) == [0, 1], "ties by position"


def test_the_tail_blend_adds_each_book_s_cosine_to_the_tail_books_it_shares_shelves_with():
    """With every co-shelved book a neighbour and no cut, the blended weights are EASE's closed form plus
    ``shelf_model_tail_blend`` × the cosine of the two books' shelves in each tail book's column (a book's votes
    for its most similar tail books: item-kNN's), EASE's positive weights kept, the tail's columns then multiplied
    by ``shelf_model_tail_scale``; the head's columns are EASE's alone."""
    shelves = grouped_shelves(readers_per_group=150, seed=2)
    n = shelves.n_books
    x = np.zeros((shelves.n_links, n))
    x[shelves.link_index, shelves.book_index] = 1.0
    counts = x.sum(axis=0)
    cosines = (x.T @ x) / np.sqrt(np.outer(counts, counts))
    np.fill_diagonal(cosines, 0.0)
    tail = tail_books(counts)
    assert 0 < tail.sum() < n
    params = TrainingParams(shelf_model_solver="neighbourhood", shelf_model_neighbours=n - 1,
                            shelf_model_out_neighbours=n, shelf_model_link_weight=0.0,
                            shelf_model_regularisation=10.0, shelf_model_dropout=0.25, shelf_model_min_shelves=1,
                            shelf_model_tail_selection_readers=0, shelf_model_tail_blend=0.5,
                            shelf_model_tail_neighbours=n, shelf_model_tail_scale=0.2)

    model = train_shelf_model(shelves=shelves, content=None, params=params)

    blended = np.maximum(exact_weights(shelves, 10.0, 0.25), 0.0) + 0.5 * cosines * tail[None, :]
    scaled = blended * np.where(tail, 0.2, 1.0)[None, :]
    np.testing.assert_allclose(model.shelf_vectors.toarray(), scaled, atol=1e-5)


def test_the_tail_blend_votes_only_for_each_book_s_most_similar_tail_books():
    shelves = grouped_shelves(readers_per_group=60, extra_books=2, seed=3)
    n = shelves.n_books
    base = dict(shelf_model_solver="neighbourhood", shelf_model_neighbours=20, shelf_model_out_neighbours=n,
                shelf_model_regularisation=10.0, shelf_model_min_shelves=1, shelf_model_tail_selection_readers=0,
                shelf_model_tail_scale=1.0)

    plain = train_shelf_model(shelves=shelves, content=None, params=TrainingParams(
        **base, shelf_model_tail_blend=0.0)).shelf_vectors
    blended = train_shelf_model(shelves=shelves, content=None, params=TrainingParams(
        **base, shelf_model_tail_blend=1.0, shelf_model_tail_neighbours=3)).shelf_vectors

    counts = np.bincount(shelves.book_index, minlength=n).astype(float)
    counts = counts[counts >= 1]
    gained = (blended - plain).toarray() > 1e-6
    assert gained.any() and (gained.sum(axis=1) <= 3).all(), "at most 3 tail books gain from each book"
    assert not gained[:, ~tail_books(counts)].any(), "no head book's column changes"


def planted_tastes(*, n_books: int = 800, n_readers: int = 8000, genres: int = 8, seed: int = 0):
    """Shelves of readers with two planted genres each, drawing books of them by power-law popularity (as
    ``bench.speed.shelf_model_scale``'s generator), and tags that say only a book's genre: (reader, book) pairs
    and (book, tag) pairs."""
    rng = np.random.default_rng(seed)
    genre = rng.integers(genres, size=n_books)
    popularity = 1.0 / np.arange(1, n_books + 1) ** 0.9
    popularity = popularity[rng.permutation(n_books)]
    tastes = rng.integers(genres, size=(n_readers, 2))
    readers, books = [], []
    for reader in range(n_readers):
        drawn = tastes[reader][(rng.random(int(np.clip(rng.lognormal(np.log(15), 0.6), 2, 100))) < 0.45).astype(int)]
        for taste in np.unique(drawn):
            of_taste = np.flatnonzero(genre == taste)
            chosen = rng.choice(of_taste, min(int((drawn == taste).sum()), len(of_taste)), replace=False,
                                p=popularity[of_taste] / popularity[of_taste].sum())
            books += list(chosen)
            readers += [reader] * len(chosen)
    tag_books = np.repeat(np.arange(n_books), 10)
    return (np.array(readers), np.array(books)), (tag_books, genre[tag_books] * 20 + rng.integers(20, size=len(tag_books)))


def tail_recall_at_20(weights, shelves: list[np.ndarray], tail: np.ndarray) -> float:
    """Recall@20 of each shelf's last fifth among the tail books ranked apart, by the sum of its other books'
    rows of ``weights`` (readers with a tail book in that fifth)."""
    found = []
    for shelf in shelves:
        visible, hidden = shelf[: max(1, int(0.8 * len(shelf)))], shelf[max(1, int(0.8 * len(shelf))):]
        hidden = hidden[tail[hidden]]
        if len(hidden):
            scores = np.asarray(weights[visible].sum(axis=0)).ravel()
            scores[visible] = -np.inf
            scores[~tail] = -np.inf
            found.append(np.isin(np.argsort(-scores, kind="stable")[:20], hidden).sum() / min(len(hidden), 20))
    return float(np.mean(found))


def test_on_planted_tastes_whose_tags_say_only_the_genre_it_chooses_item_knn_s_votes_and_finds_the_tail_as_well():
    """The tail blend and scale are chosen per catalogue on held-out training shelves: where a tail book's EASE
    column knows only its genre (its tags are the genre's, its shelves few), item-kNN's votes find the planted
    tail better, and the chosen model finds it about as well as item-kNN on readers it never saw."""
    (readers, books), (tag_books, tags) = planted_tastes()
    n, training = 800, readers < 7000
    shelves = PairSet.build(books[training], readers[training], n_books=n, n_links=7000)
    content = PairSet.build(tag_books, tags, n_books=n, n_links=int(tags.max()) + 1)

    chosen = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(
        shelf_model_solver="neighbourhood"))
    plain = train_shelf_model(shelves=shelves, content=content, params=TrainingParams(
        shelf_model_solver="neighbourhood", shelf_model_tail_selection_readers=0))

    assert chosen.tail_blend > 0 and chosen.tail_scale < 1
    counts = np.bincount(books[training], minlength=n).astype(float)
    x = np.zeros((7000, n))
    x[readers[training], books[training]] = 1.0
    cosines = (x.T @ x) / np.sqrt(np.outer(counts, counts))
    np.fill_diagonal(cosines, 0.0)
    unseen = [np.random.default_rng(reader).permutation(books[readers == reader]) for reader in range(7000, 8000)]
    tail = tail_books(counts)
    item_knn = tail_recall_at_20(cosines, unseen, tail)
    assert tail_recall_at_20(chosen.shelf_vectors, unseen, tail) >= 0.95 * item_knn
    assert tail_recall_at_20(plain.shelf_vectors, unseen, tail) < 0.9 * item_knn, "without the blend it does not"


@pytest.mark.parametrize(("ease_for_hidden", "votes_for", "chosen"), [
    (0.7, range(31, 60), (0.0, 1.0)),  # the votes push the hidden book out of the 20, unless they are small
    (0.0, [30], (1.0, 1.0)),  # only a full blend lifts it over EASE's 20 others
])
def test_a_blend_is_chosen_only_where_it_finds_more_held_out_books(ease_for_hidden, votes_for, chosen):
    """Held-out readers shelve book 0 and hid book 30 (a tail book). EASE's row of book 0 weighs 0.6 on 20 other
    tail books and ``ease_for_hidden`` on book 30, item-kNN's votes 1 on ``votes_for``: the first best of the
    blends and scales is chosen, none unless it finds more."""
    n = 60
    is_tail = np.arange(n) >= 10
    ease = np.zeros((n, n), np.float32)
    ease[0, 10:30], ease[0, 30] = 0.6, ease_for_hidden
    votes = np.zeros((n, n), np.float32)
    votes[0, list(votes_for)] = 1.0
    shelf, hidden = np.zeros((150, n), np.float32), np.zeros((150, n), np.float32)
    shelf[:, 0], hidden[:, 30] = 1.0, 1.0

    assert choose_tail_blend(sp.csr_matrix(ease), sp.csr_matrix(votes), is_tail, HeldOutShelves(
        visible=sp.csr_matrix(shelf), hidden=sp.csr_matrix(hidden))) == chosen


@pytest.mark.django_db
def test_a_version_with_the_tail_blend_stores_the_blended_lists_and_serves_their_sum(django_assert_max_num_queries):
    catalogue = planted_catalogue(groups=6, books_per_group=30, links_per_group=4, links_per_book=2,
                                  readers_per_group=12, shelf_size=8)
    blend = {"shelf_model_tail_selection_readers": 0, "shelf_model_tail_blend": 1.0, "shelf_model_tail_scale": 0.5}
    publish_planted_version(catalogue, shelf_model=True, shelf_model_solver="neighbourhood",
                            shelf_model_params=blend)
    book_ids = np.array([book.pk for book in catalogue.books])
    model = planted_shelf_model(book_ids, solver="neighbourhood", params=blend)["shelf_model"]
    plain = planted_shelf_model(book_ids, solver="neighbourhood")["shelf_model"]
    assert (model.shelf_vectors != plain.shelf_vectors).nnz > 0, "the blend changes the lists (else this says nothing)"

    rows = list(ShelfVector.objects.filter(version=active_version()).order_by("position")
                .values_list("book_id", "neighbours", "weights"))
    stored = np.zeros(model.shelf_vectors.shape)
    for position, (_, neighbours, weights) in enumerate(rows):
        stored[position, np.array(neighbours, dtype=np.int64) - 1] = weights.to_numpy()
    np.testing.assert_allclose(stored, model.shelf_vectors.toarray(), rtol=2e-3, atol=1e-6)

    ids = np.array([book_id for book_id, _, _ in rows])
    inputs = [b.pk for b in catalogue.books_of_group(4)[:4]]
    scores = stored[np.isin(ids, inputs)].sum(axis=0)
    scores[np.isin(ids, inputs)] = -np.inf
    with django_assert_max_num_queries(3):
        results = book_recommendations(book_ids=inputs, k=12)
    assert [r.book.pk for r in results] == list(ids[np.lexsort((ids, -scores))[:12]])
