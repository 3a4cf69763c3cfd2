"""The shelf model on tiny planted shelves (no database, no shared data): it learns which books share
shelves, is deterministic for a seed, and its NumPy reference never recommends a shelf book."""

import numpy as np
import pytest

from bench.shelf_model import (
    ShelfModelParams,
    ShelfVectors,
    reader_vector,
    recommend_from_shelf_vectors,
    train_shelf_model,
)

N_GROUPS, BOOKS_PER_GROUP = 4, 12
N_BOOKS = N_GROUPS * BOOKS_PER_GROUP
FAST = dict(embedding_dim=16, epochs=40, batch_size=64, learning_rate=0.02, dropout=0.5, threads=1)


def planted_shelves(readers_per_group=60, shelf_size=6, seed=0):
    """Each reader shelves ``shelf_size`` books of one group; group g holds books g*12 .. g*12+11."""
    rng = np.random.default_rng(seed)
    readers, books = [], []
    for reader in range(N_GROUPS * readers_per_group):
        group = reader % N_GROUPS
        chosen = group * BOOKS_PER_GROUP + rng.choice(BOOKS_PER_GROUP, shelf_size, replace=False)
        readers += [reader] * shelf_size
        books += list(chosen)
    return np.array(readers), np.array(books)


@pytest.fixture(scope="module", params=[False, True], ids=["untied", "tied"])
def trained(request) -> ShelfVectors:
    readers, books = planted_shelves()
    return train_shelf_model(readers, books, N_BOOKS, ShelfModelParams(tied=request.param, **FAST))


def test_a_shelf_of_one_group_gets_that_group_recommended(trained):
    for group in range(N_GROUPS):
        shelf = group * BOOKS_PER_GROUP + np.arange(4)
        recommended = recommend_from_shelf_vectors(shelf, trained, k=5)

        assert len(recommended) == 5
        assert all(r.book_index // BOOKS_PER_GROUP == group for r in recommended)


def test_shelf_books_are_never_recommended_and_k_is_kept(trained):
    shelf = np.arange(0, N_BOOKS, 2)  # half the catalogue, every group
    recommended = recommend_from_shelf_vectors(shelf, trained, k=20)

    assert len(recommended) == 20
    assert not set(r.book_index for r in recommended) & set(shelf.tolist())
    scores = [r.score for r in recommended]
    assert scores == sorted(scores, reverse=True)


def test_scores_are_the_inner_product_of_the_served_vectors(trained):
    shelf = np.array([1, 2, 13])
    query = np.append(reader_vector(shelf, trained.input_vectors), 1.0)
    recommended = recommend_from_shelf_vectors(shelf, trained, k=3)

    assert trained.serving_vectors.shape == (N_BOOKS, FAST["embedding_dim"] + 1)
    for r in recommended:
        assert r.score == pytest.approx(float(trained.serving_vectors[r.book_index] @ query), rel=1e-4)
    # The reasons are shelf books; a recommendation of group 0 names group-0 shelf books first.
    assert all(set(r.because) <= {1, 2, 13} and r.because for r in recommended)
    first_of_group0 = next(r for r in recommended if r.book_index < BOOKS_PER_GROUP)
    assert first_of_group0.because[0] in (1, 2)


def test_tied_model_serves_one_vector_per_book():
    readers, books = planted_shelves(readers_per_group=10)
    vectors = train_shelf_model(readers, books, N_BOOKS, ShelfModelParams(tied=True, **{**FAST, "epochs": 2}))

    np.testing.assert_array_equal(vectors.input_vectors, vectors.output_vectors)


def test_same_seed_same_vectors_other_seed_other_vectors():
    readers, books = planted_shelves(readers_per_group=10)
    params = ShelfModelParams(**{**FAST, "epochs": 3})
    first = train_shelf_model(readers, books, N_BOOKS, params)
    again = train_shelf_model(readers, books, N_BOOKS, params)
    other = train_shelf_model(readers, books, N_BOOKS, ShelfModelParams(**{**FAST, "epochs": 3, "seed": 7}))

    np.testing.assert_allclose(first.serving_vectors, again.serving_vectors, rtol=0, atol=1e-6)
    assert first.history == pytest.approx(again.history, rel=1e-6)
    assert not np.allclose(first.serving_vectors, other.serving_vectors, atol=1e-3)


def test_books_on_no_training_shelf_get_no_vector_and_are_never_recommended():
    readers, books = planted_shelves(readers_per_group=10)
    keep = books != 5
    vectors = train_shelf_model(readers[keep], books[keep], N_BOOKS, ShelfModelParams(**{**FAST, "epochs": 3}))

    assert not vectors.trained[5] and vectors.trained.sum() == N_BOOKS - 1
    assert not vectors.serving_vectors[5].any()
    assert 5 not in {r.book_index for r in recommend_from_shelf_vectors([0, 1, 2], vectors, k=N_BOOKS)}


def test_params_round_trip_and_reject_bad_values():
    params = ShelfModelParams(embedding_dim=32, tied=True)
    assert ShelfModelParams.from_dict(params.to_dict()) == params
    with pytest.raises(ValueError, match="dropout"):
        ShelfModelParams(dropout=1.0)
    with pytest.raises(ValueError, match="unknown"):
        ShelfModelParams.from_dict({"epoch": 3})


def test_links_give_a_vector_to_a_book_on_no_shelf_close_to_its_group():
    readers, books = planted_shelves(readers_per_group=30)
    keep = books != 5
    # Every book links to its group's two tags; book 5 (group 0) is on no shelf, known only by its links.
    link_books = np.repeat(np.arange(N_BOOKS), 2)
    links = np.stack([2 * (np.arange(N_BOOKS) // BOOKS_PER_GROUP), 2 * (np.arange(N_BOOKS) // BOOKS_PER_GROUP) + 1],
                     axis=1).ravel()
    params = ShelfModelParams(tied=True, link_weight=1.0, **FAST)
    vectors = train_shelf_model(readers[keep], books[keep], N_BOOKS, params,
                                link_book_index=link_books, link_index=links, n_links=2 * N_GROUPS)

    assert vectors.trained.all()
    others = vectors.output_vectors / np.linalg.norm(vectors.output_vectors, axis=1, keepdims=True)
    similarity = others @ others[5]
    same_group = [b for b in range(BOOKS_PER_GROUP) if b != 5]
    other_groups = range(BOOKS_PER_GROUP, N_BOOKS)
    assert similarity[same_group].mean() > similarity[list(other_groups)].mean() + 0.2
