"""Behaviour of the pure-Python training core on tiny synthetic data (no database, no shared data)."""

import numpy as np
import pytest

from recommender.training import (
    CATALOGUE,
    CONTENT,
    SHELF,
    PairSet,
    TrainingCancelled,
    TrainingParams,
    links_to_keep,
    normalise_link_name,
    split_holdout,
    train_embeddings,
)
from recommender.training.dataset import BatchSampler, TruePairs
from recommender.training.model import EmbeddingModel, step_loss
from recommender.training.trainer import epochs_to_run

FAST = dict(epochs=8, min_steps=0, batch_size=256, embedding_dim=16, progress_every_steps=4)


def planted_pairs(n_books=300, n_links=150, n_groups=6, links_per_book=8, seed=0) -> PairSet:
    """Books of group g link only to links of group g."""
    rng = np.random.default_rng(seed)
    link_group = np.arange(n_links) % n_groups
    books, links = [], []
    for book in range(n_books):
        choices = rng.choice(np.flatnonzero(link_group == book % n_groups), links_per_book, replace=False)
        books += [book] * links_per_book
        links += list(choices)
    return PairSet.build(books, links, n_books=n_books, n_links=n_links)


@pytest.mark.parametrize(("variant", "reject_true_pairs"),
                         [("classification", False), ("regression", False), ("classification", True)])
def test_trainer_learns_planted_structure(variant, reject_true_pairs):
    pairs = planted_pairs()
    # Regression's squared error wants the smaller constant rate (``TrainingParams.variant``).
    rate = {"learning_rate": 0.05, "learning_rate_end": 1.0} if variant == "regression" else {}
    result = train_embeddings(pairs, TrainingParams(variant=variant, reject_true_pairs=reject_true_pairs, **FAST,
                                                    **rate))

    assert result.heldout_auc > 0.9
    assert result.book_vectors.shape == (300, 16) and result.link_vectors.shape == (150, 16)
    np.testing.assert_allclose(np.linalg.norm(result.book_vectors, axis=1), 1.0, atol=1e-5)
    assert len(result.history) == 8 and result.history[-1] < result.history[0]
    assert result.pairs_per_second > 0 and result.n_heldout_pairs > 0
    # Nearest book of every book is in its group.
    sims = result.book_vectors @ result.book_vectors.T
    np.fill_diagonal(sims, -np.inf)
    assert (sims.argmax(axis=1) % 6 == np.arange(300) % 6).mean() > 0.95


def test_same_seed_gives_identical_vectors_and_other_seed_does_not():
    pairs = planted_pairs(n_books=120, n_links=60)
    params = TrainingParams(**{**FAST, "epochs": 2})
    first = train_embeddings(pairs, params)
    second = train_embeddings(pairs, params)
    other = train_embeddings(pairs, TrainingParams(**{**FAST, "epochs": 2, "seed": 7}))

    np.testing.assert_array_equal(first.book_vectors, second.book_vectors)
    np.testing.assert_array_equal(first.link_vectors, second.link_vectors)
    assert first.history == second.history
    assert not np.array_equal(first.book_vectors, other.book_vectors)


def test_small_catalogues_train_for_more_epochs_up_to_min_steps():
    pairs = planted_pairs(n_books=120, n_links=60)
    calls = []
    params = TrainingParams(**{**FAST, "epochs": 2, "min_steps": 7})
    result = train_embeddings(pairs, params, on_progress=lambda *args: calls.append(args))
    steps = calls[0][3]
    assert steps < 7, "the planted pairs must make fewer steps an epoch than min_steps for this test"
    expected = -(-7 // steps)
    assert result.epochs == expected == epochs_to_run(params, steps) and len(result.history) == expected
    assert calls[-1][:4] == (expected, expected, steps, steps)
    # A larger catalogue, or min_steps 0, keeps the epochs asked for.
    assert epochs_to_run(params, 7) == 2 and epochs_to_run(TrainingParams(**{**FAST, "epochs": 2}), 1) == 2


def test_progress_is_reported_and_cancel_stops_training():
    pairs = planted_pairs(n_books=120, n_links=60)
    calls = []
    train_embeddings(pairs, TrainingParams(**{**FAST, "epochs": 2}), on_progress=lambda *args: calls.append(args))
    steps = calls[0][3]
    assert [c[:4] for c in calls][-1] == (2, 2, steps, steps)
    assert all(np.isfinite(c[4]) for c in calls)

    polls = []

    def should_stop():
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(TrainingCancelled):
        train_embeddings(pairs, TrainingParams(**FAST), should_stop=should_stop)


def test_the_learning_rate_falls_from_the_first_step_on():
    pairs = planted_pairs(n_books=120, n_links=60)
    one_step = {**FAST, "epochs": 1, "batch_size": 2048, "holdout_fraction": 0.0}

    def vectors(**params):
        return train_embeddings(pairs, TrainingParams(**{**one_step, **params})).book_vectors

    # The first step takes the whole rate whatever learning_rate_end says; the steps after it less when it is below 1.
    np.testing.assert_array_equal(vectors(learning_rate_end=0.0), vectors(learning_rate_end=1.0))
    falling, constant = vectors(epochs=3, learning_rate_end=0.0), vectors(epochs=3, learning_rate_end=1.0)
    assert not np.array_equal(falling, constant)


@pytest.mark.parametrize("drawn_weight", [1.0, 3.0, 3])  # 3: an integer, as a form or JSON gives it
def test_the_step_loss_weighs_a_pairs_negatives_as_documented(drawn_weight):
    rng = np.random.default_rng(3)
    size, drawn, groups, dim = 4, 3, 2, 5
    books, links = rng.normal(size=(groups * size, dim)), rng.normal(size=(groups * size, dim))
    drawn_books, drawn_links = rng.normal(size=(groups * drawn, dim)), rng.normal(size=(groups * drawn, dim))
    params = TrainingParams(variant="regression", embedding_dim=dim)
    loss = step_loss(EmbeddingModel(2, 2, params), *(np.float32(x) for x in (books, links, drawn_books, drawn_links)),
                     group_size=size, drawn_negatives=drawn, negative_weight=2, drawn_weight=drawn_weight)

    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    books, links, drawn_books, drawn_links = map(unit, (books, links, drawn_books, drawn_links))
    pairs, negatives = [], []
    for i in range(groups * size):
        group = range(i // size * size, i // size * size + size)
        own_drawn = range(i // size * drawn, i // size * drawn + drawn)
        pairs.append((books[i] @ links[i] - 1) ** 2)
        in_group = [(books[i] @ links[j] + 1) ** 2 for j in group if j != i]
        drawn_scores = [(books[i] @ drawn_links[j] + 1) ** 2 for j in own_drawn]
        drawn_scores += [(links[i] @ drawn_books[j] + 1) ** 2 for j in own_drawn]
        negatives.append((sum(in_group) + drawn_weight * sum(drawn_scores))
                         / (len(in_group) + drawn_weight * len(drawn_scores)))
    assert float(loss) == pytest.approx(np.mean(pairs) + 2 * np.mean(negatives), rel=1e-5)


def test_an_epoch_holds_every_pair_once_in_groups_with_drawn_negatives():
    pairs = planted_pairs(n_books=120, n_links=60)
    params = TrainingParams(batch_size=100, group_size=16, drawn_negatives=4)
    sampler = BatchSampler(pairs, params, np.random.default_rng(0))
    batches = sampler.epoch()

    assert sampler.pairs_per_step == 112  # rounded up to 7 whole groups
    assert batches.books.shape == batches.links.shape == (sampler.steps_per_epoch, 112)
    assert batches.drawn_books.shape == batches.drawn_links.shape == (sampler.steps_per_epoch, 7 * 4)
    codes = np.sort(batches.books.ravel().astype(np.int64) * pairs.n_links + batches.links.ravel())
    assert np.isin(pairs.codes(), codes).all()  # equal weights: each pair once, then some a second time
    assert np.unique(codes, return_counts=True)[1].max() == 2


@pytest.mark.parametrize("max_bits", [TruePairs.MAX_BITS, 64])  # exact, and sharing bits by a modulus
def test_true_pairs_are_always_found_and_others_only_where_bits_are_shared(monkeypatch, max_bits):
    monkeypatch.setattr(TruePairs, "MAX_BITS", max_bits)
    monkeypatch.setattr(TruePairs, "_PRIME_BITS", 61)
    pairs = planted_pairs(n_books=40, n_links=30, links_per_book=3)
    lookup = TruePairs(pairs)
    books, links = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
    found = lookup.contain(books, links)
    true = np.zeros((40, 30), bool)
    true[pairs.book_index, pairs.link_index] = True
    assert found[true].all()
    if lookup.exact:
        assert (found == true).all()
    else:
        assert found.mean() > true.mean()  # 120 pairs in 61 slots: others share their bits


def test_with_rejection_the_masks_leave_out_exactly_the_negatives_that_are_true_pairs():
    pairs = planted_pairs(n_books=60, n_links=12, n_groups=2, links_per_book=4)  # dense: many true negatives
    params = TrainingParams(batch_size=64, group_size=8, drawn_negatives=5, reject_true_pairs=True)
    batches = BatchSampler(pairs, params, np.random.default_rng(0)).epoch()
    true = set(pairs.codes().tolist())

    def is_true(book, link):
        return book * pairs.n_links + link in true

    step, group = 1, 3
    books = batches.books[step].reshape(-1, 8)[group]
    links = batches.links[step].reshape(-1, 8)[group]
    drawn_books = batches.drawn_books[step].reshape(-1, 5)[group]
    drawn_links = batches.drawn_links[step].reshape(-1, 5)[group]
    book_negatives = batches.book_negatives[step].reshape(-1, 8, 13)[group]
    link_negatives = batches.link_negatives[step].reshape(-1, 8, 5)[group]
    candidates = np.concatenate([links, drawn_links])
    for i in range(8):
        assert not book_negatives[i, i]  # the pair itself
        for j in range(13):
            assert book_negatives[i, j] == (not is_true(books[i], candidates[j]))
        for j in range(5):
            assert link_negatives[i, j] == (not is_true(drawn_books[j], links[i]))
    assert not batches.book_negatives.all() and batches.book_negatives.mean() > 0.5
    assert BatchSampler(pairs, TrainingParams(batch_size=64, group_size=8), np.random.default_rng(0)).epoch() \
        .book_negatives is None  # without rejection no masks are drawn


def test_drawn_negatives_follow_degree_power_and_never_entities_without_pairs():
    # Book 0 holds 8 pairs, books 1-4 one each; book 5 and link 8 have none.
    pairs = PairSet.build([0] * 8 + [1, 2, 3, 4], list(range(8)) + [0, 1, 2, 3], n_books=6, n_links=9)
    for power, expected_share_of_book_0 in ((0.0, 1 / 5), (1.0, 8 / 12)):
        sampler = BatchSampler(pairs, TrainingParams(batch_size=8, group_size=8, drawn_negatives=1000,
                                                     negative_power=power), np.random.default_rng(0))
        batches = sampler.epoch()
        assert not (batches.drawn_books == 5).any() and not (batches.drawn_links == 8).any()
        assert (batches.drawn_books == 0).mean() == pytest.approx(expected_share_of_book_0, abs=0.03)


def test_batches_follow_pair_weights():
    pairs = PairSet.build([0, 1, 2, 3], [0, 1, 2, 3], n_books=4, n_links=4, weight=[1, 1, 1, 7])
    sampler = BatchSampler(pairs, TrainingParams(batch_size=1000, group_size=8), np.random.default_rng(0))
    books = sampler.epoch().books
    assert books.shape == (1, 1000)
    assert (books == 3).sum() in (699, 700, 701)  # systematic sampling: 70 % of the draws, give or take one


def test_pair_set_merges_duplicates_validates_and_combines_shelves():
    pairs = PairSet.build([0, 0, 1], [2, 2, 0], n_books=2, n_links=3, weight=[1.0, 3.0, 1.0])
    assert len(pairs) == 2 and pairs.weight.tolist() == [3.0, 1.0] and pairs.book_index.dtype == np.int32

    with pytest.raises(ValueError, match="link_index"):
        PairSet.build([0], [3], n_books=2, n_links=3)
    with pytest.raises(ValueError, match="weight"):
        PairSet.build([0], [1], n_books=2, n_links=3, weight=[0.0])

    shelves = PairSet.build([0, 1], [0, 0], n_books=2, n_links=1)  # one reader shelving both books
    combined = PairSet.combine(pairs, shelves)
    assert combined.n_links == 4
    assert sorted(zip(combined.book_index.tolist(), combined.link_index.tolist(), combined.kind.tolist())) == [
        (0, 2, CONTENT), (0, 3, SHELF), (1, 0, CONTENT), (1, 3, SHELF)]
    assert len(combined.with_shelf_weight(0.0)) == 2
    assert combined.with_shelf_weight(0.5).weight[combined.kind == SHELF].tolist() == [0.5, 0.5]


def test_content_pairs_are_weighted_by_count_and_idf_and_shelf_pairs_are_not():
    # Link 0 is on all 4 books (idf ln 1 -> floor 0.01), link 1 on 2 books (idf ln 2); book 0 links link 1 3 times.
    content = PairSet.build([0, 1, 2, 3, 0, 1], [0, 0, 0, 0, 1, 1], n_books=4, n_links=2,
                            weight=[1, 1, 1, 1, 3, 1])
    shelves = PairSet.build([0, 1], [0, 0], n_books=4, n_links=1, weight=[2, 2])
    weighted = PairSet.combine(content, shelves).with_content_weighting(count_power=2.0, idf_power=1.0)

    by_pair = {(b, link): w for b, link, w in zip(weighted.book_index.tolist(), weighted.link_index.tolist(),
                                              weighted.weight.tolist())}
    raw = {(0, 0): 0.01, (1, 0): 0.01, (2, 0): 0.01, (3, 0): 0.01, (0, 1): 9 * np.log(2), (1, 1): np.log(2)}
    scale = np.mean(list(raw.values()))
    for pair, value in raw.items():
        assert by_pair[pair] == pytest.approx(value / scale, rel=1e-5)
    assert by_pair[(0, 2)] == by_pair[(1, 2)] == 2.0  # shelf pairs keep their weight
    assert PairSet.combine(content, shelves).with_content_weighting(0.0, 0.0).weight.tolist() == [1, 3, 2, 1, 1, 2, 1, 1]


def test_catalogue_pairs_are_weighted_by_idf_among_themselves_and_count_the_catalogue_weight():
    # Content: link 0 on books 0-1 (book 0 names it twice). Catalogue: an author (link 1) on books 0-1, a genre
    # (link 2) on all 4 books, so idf ln 2 and ln 1 (floor 0.01) among the 4 books with catalogue pairs.
    content = PairSet.build([0, 1], [0, 0], n_books=4, n_links=3, weight=[2, 1])
    catalogue = PairSet.build([0, 1, 0, 1, 2, 3], [1, 1, 2, 2, 2, 2], n_books=4, n_links=3, kind=CATALOGUE)
    both = PairSet.build(np.concatenate([content.book_index, catalogue.book_index]),
                         np.concatenate([content.link_index, catalogue.link_index]), n_books=4, n_links=3,
                         weight=np.concatenate([content.weight, catalogue.weight]),
                         kind=np.concatenate([content.kind, catalogue.kind]))
    shelves = PairSet.build([2, 3], [0, 0], n_books=4, n_links=1)
    combined = PairSet.combine(both, shelves)
    assert sorted(set(combined.kind.tolist())) == [CONTENT, SHELF, CATALOGUE]

    weighted = combined.with_content_weighting(count_power=2.0, idf_power=1.0)
    by_pair = {(b, link): w for b, link, w in zip(weighted.book_index.tolist(), weighted.link_index.tolist(),
                                              weighted.weight.tolist())}
    # Content pairs are weighted as without the catalogue: 4 and 1 (idf ln 1 -> 0.01 each), averaging 1.
    assert (by_pair[0, 0], by_pair[1, 0]) == (pytest.approx(1.6), pytest.approx(0.4))
    raw = {(0, 1): np.log(2), (1, 1): np.log(2), (0, 2): 0.01, (1, 2): 0.01, (2, 2): 0.01, (3, 2): 0.01}
    scale = np.mean(list(raw.values()))
    for pair, value in raw.items():
        assert by_pair[pair] == pytest.approx(value / scale, rel=1e-5)
    assert by_pair[2, 3] == by_pair[3, 3] == 1.0  # shelf pairs keep their weight

    tripled = weighted.with_catalogue_weight(3.0)
    assert tripled.weight[tripled.kind == CATALOGUE] == pytest.approx(3 * weighted.weight[weighted.kind == CATALOGUE])
    assert (tripled.weight[tripled.kind != CATALOGUE] == weighted.weight[weighted.kind != CATALOGUE]).all()
    assert CATALOGUE not in weighted.with_catalogue_weight(0.0).kind


def test_holdout_keeps_every_book_and_link_in_training():
    pairs = planted_pairs(n_books=100, n_links=50, links_per_book=3)
    train, heldout = split_holdout(pairs, 0.3, seed=0)
    assert len(train) + len(heldout) == len(pairs)
    assert 0.2 * len(pairs) < len(heldout) <= 0.3 * len(pairs) + 1
    assert set(heldout.book_index) <= set(train.book_index)
    assert set(heldout.link_index) <= set(train.link_index)
    assert not np.isin(heldout.codes(), train.codes()).any()


def test_link_names_are_normalised_and_filtered():
    assert normalise_link_name("  Science\tFICTION \n novel ") == "science fiction novel"
    names = ["fantasy", "to-read", "read-in-2015", "hardcover", "wikipedia:wikiproject books", "rare", "kindle"]
    keep = links_to_keep(names, np.array([5, 9, 9, 9, 9, 1, 9]), TrainingParams(min_books_per_link=2))
    assert keep.tolist() == [True, False, False, False, False, False, False]


def test_params_round_trip_and_name_the_bad_field():
    params = TrainingParams(epochs=3, shelf_weight=0.5, variant="regression")
    assert TrainingParams.from_dict(params.to_dict()) == params
    assert TrainingParams.from_dict({"epochs": 3}).epochs == 3

    for field, value in [("epochs", 0), ("variant", "ranking"), ("learning_rate", -1.0), ("holdout_fraction", 0.7),
                         ("negative_power", 2), ("embedding_dim", 3.5), ("removed_links", "to-read"),
                         ("link_count_power", -1.0), ("link_idf_power", 5), ("group_size", 0), ("drawn_negatives", -1),
                         ("learning_rate_end", 1.5), ("learning_rate_end", -0.1), ("drawn_negative_weight", -1.0)]:
        with pytest.raises(ValueError, match=field):
            TrainingParams.from_dict({field: value})
    with pytest.raises(ValueError, match="colour"):
        TrainingParams.from_dict({"colour": "blue"})
