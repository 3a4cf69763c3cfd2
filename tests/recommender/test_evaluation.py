"""Behaviour of the metrics and of the shelf scoring function."""

import numpy as np
import pytest

from recommender.training import evaluation
from recommender.training.evaluation import (
    auc,
    centroid_recommender,
    label_knn_accuracy,
    nearest_neighbours,
    neighbour_recommender,
    popularity_recommender,
    same_author_precision,
    shelf_recall_ndcg,
    split_shelves,
)
from recommender.training.scoring import ScoredBook, ShelfScoring, blend_rankings, recommend_for_shelf


def test_auc_counts_ordered_pairs_and_half_ties():
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc(np.array([1.0]), np.array([2.0])) == 0.0
    assert auc(np.array([1.0, 3.0]), np.array([1.0, 2.0])) == pytest.approx(0.625)


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_nearest_neighbours_exclude_the_book_and_are_sorted():
    vectors = unit([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]])
    ids, sims = nearest_neighbours(vectors, k=2, block=2)
    assert ids[:, 0].tolist() == [1, 0, 3, 2, 2]
    assert (ids != np.arange(5)[:, None]).all()
    assert (np.diff(sims, axis=1) <= 0).all()


def test_nearest_neighbours_of_some_rows_match_the_full_lists():
    vectors = unit(np.random.default_rng(3).normal(size=(40, 4)))
    full_ids, full_sims = nearest_neighbours(vectors, k=5, block=7)
    rows = np.array([0, 9, 31])
    ids, sims = nearest_neighbours(vectors, k=5, block=2, rows=rows)
    assert (ids[rows] == full_ids[rows]).all()
    assert np.allclose(sims[rows], full_sims[rows])
    others = np.setdiff1d(np.arange(40), rows)
    assert (ids[others] == -1).all() and np.isnan(sims[others]).all()


def test_nearest_neighbours_score_in_blocks_bounded_by_the_cell_budget_with_the_same_lists(monkeypatch):
    vectors = unit(np.random.default_rng(4).normal(size=(50, 4)))
    whole_ids, whole_sims = nearest_neighbours(vectors, k=5, block=50)
    monkeypatch.setattr(evaluation, "BLOCK_CELLS", 120)  # 2 query rows of 50 at once
    assert evaluation.block_rows(50) == 2 and evaluation.block_rows(10**9) == 1
    ids, sims = nearest_neighbours(vectors, k=5)
    assert (ids == whole_ids).all() and np.allclose(sims, whole_sims)


def test_metrics_on_some_rows_count_only_those_books():
    neighbours = np.array([[1, 2], [0, 2], [0, 1], [0, 1]])
    authors = ["tolstoy", "tolstoy", "gogol", None]
    neighbours_of_0 = neighbours.copy()
    neighbours_of_0[1:] = -1  # only book 0's list was computed
    assert same_author_precision(neighbours_of_0, authors, k=1, rows=np.array([0])) == pytest.approx(1.0)
    genres = ["novel", "novel", "play", "novel"]
    assert label_knn_accuracy(neighbours, genres, k=1, rows=np.array([2, 3])) == pytest.approx(0.5)


def test_same_author_precision_of_a_catalogue_without_authors_is_not_a_number():
    assert np.isnan(same_author_precision(np.array([[1], [0]]), ["", None], k=1))


def test_same_author_precision_and_label_accuracy():
    neighbours = np.array([[1, 2], [0, 2], [0, 1], [0, 1]])
    authors = ["tolstoy", "tolstoy", "gogol", None]
    # Books 0 and 1 qualify (tolstoy has 2 books): each has 1 same-author book in its top 2.
    assert same_author_precision(neighbours, authors, k=2) == pytest.approx(0.5)
    assert same_author_precision(neighbours, authors, k=1) == pytest.approx(1.0)
    genres = ["novel", "novel", "play", "novel"]
    # k=1: 0->1 novel ok, 1->0 novel ok, 2->0 novel miss, 3->0 novel ok.
    assert label_knn_accuracy(neighbours, genres, k=1) == pytest.approx(0.75)


def test_scoring_excludes_shelf_books_returns_k_and_explains():
    shelf = [10, 20]
    sources = [10, 10, 10, 20, 20, 20]
    neighbours = [20, 30, 40, 10, 30, 50]
    sims = [0.9, 0.8, 0.5, 0.9, 0.7, 0.6]
    result = recommend_for_shelf(shelf, sources, neighbours, sims, k=2, scoring=ShelfScoring(popularity_power=0))
    assert [r.book_id for r in result] == [30, 50]
    assert result[0].because == (10, 20)
    assert result[0].shares == pytest.approx((0.8**4 / (0.8**4 + 0.7**4), 0.7**4 / (0.8**4 + 0.7**4))), \
        "each shelf book's share of the votes"
    assert result[0].score > result[1].score

    everything = recommend_for_shelf(shelf, sources, neighbours, sims, k=10)
    assert {r.book_id for r in everything} == {30, 40, 50}


def test_scoring_weighs_shelf_books_and_popularity():
    shelf = [1, 2]
    sources, neighbours, sims = [1, 2], [100, 200], [0.8, 0.8]
    by_weight = recommend_for_shelf(shelf, sources, neighbours, sims, shelf_weights=[1.0, 2.0], k=1)
    assert by_weight[0].book_id == 200
    by_popularity = recommend_for_shelf(shelf, sources, neighbours, sims, neighbour_popularity=[50, 5], k=1,
                                        scoring=ShelfScoring(popularity_power=0.5))
    assert by_popularity[0].book_id == 100
    assert recommend_for_shelf(shelf, [], [], [], k=5) == []


def test_blending_rankings_weighs_each_by_its_share_whatever_its_scale():
    shelf_model = [ScoredBook(100, 40.0, (1,)), ScoredBook(101, 20.0, (1, 2)), ScoredBook(102, 4.0, (2,))]
    votes = [ScoredBook(200, 0.9, (3,)), ScoredBook(101, 0.45, (3,))]

    blended = blend_rankings([(2 / 3, shelf_model), (1 / 3, votes)], k=4)

    assert [r.book_id for r in blended] == [100, 101, 200, 102]
    assert [r.score for r in blended] == pytest.approx([2 / 3, 1 / 3 + 1 / 6, 1 / 3, 2 / 3 / 10])
    assert blended[1].because == (1, 2, 3), "both rankings' reasons, the larger contribution's first"
    assert blended[1].shares == pytest.approx((1 / 3, 1 / 3, 1 / 3)), "each a third of 1/3 + 1/6"
    assert blend_rankings([(0.5, shelf_model), (0.5, [])], k=2) == [
        ScoredBook(100, 0.5, (1,), (1.0,)), ScoredBook(101, 0.25, (1, 2), (0.5, 0.5))]
    assert blend_rankings([(1.0, [])], k=3) == []


def test_split_shelves_hides_part_of_unseen_readers_shelves():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(50), 10)
    books = np.concatenate([rng.choice(100, 10, replace=False) for _ in range(50)])
    train_mask, cases = split_shelves(users, books, n_validation_users=5, seed=3)
    assert len(cases) == 5
    for case in cases:
        assert len(case.visible) == 8 and len(case.hidden) == 2
        assert sorted(np.concatenate([case.visible, case.hidden])) == sorted(books[users == case.user_id])
        assert not train_mask[users == case.user_id].any()
    assert train_mask.sum() == 450
    again = split_shelves(users, books, n_validation_users=5, seed=3)[1]
    assert [c.hidden.tolist() for c in again] == [c.hidden.tolist() for c in cases]


def test_recall_and_ndcg_of_perfect_popular_and_neighbour_recommenders():
    vectors = unit(np.eye(4)[[0, 0, 1, 1, 2, 2, 3, 3]] + 0.01 * np.arange(8)[:, None])
    _, cases = split_shelves(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 3]), n_validation_users=2, seed=0)
    hidden = {c.user_id: c.hidden for c in cases}
    perfect = shelf_recall_ndcg(lambda shelf, k: next(h for h in hidden.values() if not np.isin(h, shelf).any()
                                                      and abs(h[0] - shelf[0]) == 1), cases, k=5)
    assert perfect == {"recall@5": 1.0, "ndcg@5": 1.0, "users": 2}

    ids, sims = nearest_neighbours(vectors, k=3)
    for recommend in (neighbour_recommender(ids, sims), centroid_recommender(vectors)):
        assert shelf_recall_ndcg(recommend, cases, k=1)["recall@1"] == 1.0
    popular = popularity_recommender(np.array([9, 8, 7, 6, 5, 4, 3, 2]))
    assert popular(np.array([0, 2]), 3).tolist() == [1, 3, 4]
