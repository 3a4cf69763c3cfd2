"""Shelf-recommendation quality on goodbooks-10k: the shelf model, the book–link embeddings (tags vs
tags+shelves, variants, scorings) and baselines, on the same readers.

Protocol: validation readers (seeded, default 6,800) and tuning readers (default 2,000) are carved out of
``to_read.csv``; neither is ever trained on. Each of their shelves is shuffled (seeded), 80 % is visible,
the rest hidden; a recommender proposes 20 books not on the visible shelf; Recall@20 = hidden found /
min(hidden, 20) and NDCG@20 are averaged over readers. Scoring knobs are chosen on the tuning readers,
figures are reported on the validation readers. Baselines (most popular, item-kNN cosine on the
training readers' shelves) run in the same script on the same split.

The shelf model runs (``shelf_model*``) fit ``recommender.training.shelf_model`` on the training readers'
want-to-read shelves, their rated books (``ratings.csv``: the importer's "read" shelves) as shelves of
their own, and the books' kept tags, as a training run does. Besides the bar's protocol they are measured
on the validation readers' whole shelves (want-to-read and rated books, split the same way), as a run's
stored metrics are. ``bench/quality/served.py`` measures the same readers through the product's API. Each shelf
model and item-kNN (sum of cosine) also rank the head books and the tail books apart for the validation readers
(``head_and_tail_apart``), as the planted tastes of ``bench.speed.shelf_model_scale`` are ranked.

Usage: python bench/quality/goodbooks.py --data ../shared/data/goodbooks [--runs NAME,...]
Writes bench/results/quality_goodbooks.json (with ``--runs``, only those runs' figures are replaced).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.speed.shelf_model_scale import knn_scores, shelf_model_scores  # noqa: E402
from bench.support.original_reference import train_reference_on_pair_set  # noqa: E402
from recommender.training import (  # noqa: E402
    PairSet,
    TrainingParams,
    links_to_keep,
    normalise_link_name,
    train_embeddings,
)
from recommender.training.evaluation import (  # noqa: E402
    ShelfCase,
    centroid_recommender,
    nearest_neighbours,
    neighbour_recommender,
    popularity_recommender,
    shelf_model_recommender,
    shelf_recall_ndcg,
    split_shelves,
)
from recommender.training.scoring import ShelfScoring  # noqa: E402
from recommender.training.shelf_model import tail_books, train_shelf_model  # noqa: E402

NEIGHBOURS = 100  # neighbours per shelf book, as the selector's pgvector query returns them
K = 20


def load_goodbooks(data: Path, params: TrainingParams, *, n_validation: int, n_tuning: int, seed: int):
    """Tag pairs, training shelf pairs, tuning and validation cases, popularity and authors."""
    with open(data / "books.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    n_books = max(int(r["book_id"]) for r in rows)  # book i has index i - 1 (a sample's ids have gaps)
    book_of_goodreads = {int(r["goodreads_book_id"]): int(r["book_id"]) - 1 for r in rows}
    authors, titles = [""] * n_books, [""] * n_books
    for r in rows:
        authors[int(r["book_id"]) - 1] = r["authors"].split(",")[0].strip()
        titles[int(r["book_id"]) - 1] = r["title"]

    with open(data / "tags.csv", newline="", encoding="utf-8") as f:
        tag_names = {int(r["tag_id"]): normalise_link_name(r["tag_name"]) for r in csv.DictReader(f)}
    book_tags = np.loadtxt(data / "book_tags.csv", delimiter=",", skiprows=1, dtype=np.int64)
    known = np.isin(book_tags[:, 0], list(book_of_goodreads))
    tag_books = np.array([book_of_goodreads[g] for g in book_tags[known, 0]])
    tag_ids = book_tags[known, 1]
    # Tags are links by normalised name.
    vocabulary, link_of_tag = np.unique([tag_names[t] for t in tag_ids], return_inverse=True)
    content_all = PairSet.build(tag_books, link_of_tag, n_books=n_books, n_links=len(vocabulary))
    books_per_link = np.bincount(content_all.link_index, minlength=len(vocabulary))
    keep = links_to_keep(list(vocabulary), books_per_link, params)
    new_index = np.cumsum(keep) - 1
    kept = keep[content_all.link_index]
    content = PairSet.build(content_all.book_index[kept], new_index[content_all.link_index[kept]],
                            n_books=n_books, n_links=int(keep.sum()))

    shelves = np.loadtxt(data / "to_read.csv", delimiter=",", skiprows=1, dtype=np.int64)
    users, shelf_books = shelves[:, 0], shelves[:, 1] - 1
    train_mask, cases = split_shelves(users, shelf_books, n_validation_users=n_validation + n_tuning, seed=seed)
    order = np.random.default_rng([seed, 5]).permutation(len(cases))
    tuning = [cases[i] for i in order[:n_tuning]]
    validation = [cases[i] for i in order[n_tuning:]]
    train_users, train_books = users[train_mask], shelf_books[train_mask]
    popularity = np.bincount(train_books, minlength=n_books).astype(np.float64)
    # Readers' rated books are their "read" shelves (the importer's): the training readers' ones are trained
    # on, and the held-out readers' ones complete their whole shelves.
    rated = (np.loadtxt(data / "ratings.csv", delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)[:, :2]
             if (data / "ratings.csv").exists() else np.zeros((0, 2), np.int64))
    held_out = np.isin(rated[:, 0], [case.user_id for case in cases])
    return dict(
        n_books=n_books, content=content, train_users=train_users, train_books=train_books,
        rated_users=rated[~held_out, 0], rated_books=rated[~held_out, 1] - 1,
        tuning=tuning, validation=validation, whole_shelves=whole_shelves(validation, rated[held_out], seed),
        popularity=popularity, authors=authors, titles=titles,
        n_tags_kept=int(keep.sum()), n_tags_total=len(vocabulary),
    )


def whole_shelves(cases: list[ShelfCase], rated: np.ndarray, seed: int) -> list[ShelfCase]:
    """The same readers' whole shelves (want-to-read and rated books together), split 80 / 20 the same way:
    what a run's stored shelf metrics measure."""
    rng = np.random.default_rng([seed, 6])
    rated_by = {}
    for user, book in rated.tolist():
        rated_by.setdefault(user, set()).add(book - 1)
    whole = []
    for case in cases:
        shelf = rng.permutation(sorted(set(case.visible.tolist()) | set(case.hidden.tolist())
                                       | rated_by.get(case.user_id, set())))
        n_visible = max(1, int(np.floor(0.8 * len(shelf))))
        whole.append(ShelfCase(case.user_id, shelf[:n_visible], shelf[n_visible:]))
    return whole


def shelf_model_shelves(data: dict, params: TrainingParams) -> PairSet:
    """What the product's shelf model learns from (``recommender.selectors.training_data``): each training
    reader's want-to-read shelf, and their rated books as a shelf counting ``shelf_model_other_shelves_weight``."""
    want = shelf_pairs(data["train_users"], data["train_books"], data["n_books"])
    weight = params.shelf_model_other_shelves_weight
    if weight <= 0 or not len(data["rated_users"]):
        return want
    read = shelf_pairs(data["rated_users"], data["rated_books"], data["n_books"])
    return PairSet.build(np.concatenate([want.book_index, read.book_index]),
                         np.concatenate([want.link_index, read.link_index + want.n_links]),
                         n_books=data["n_books"], n_links=want.n_links + read.n_links,
                         weight=np.concatenate([np.ones(len(want)), np.full(len(read), weight)]))


def shelf_pairs(train_users: np.ndarray, train_books: np.ndarray, n_books: int, min_shelf: int = 2) -> PairSet:
    """(book, reader) pairs of training readers with at least ``min_shelf`` books, readers as link entities."""
    readers, reader_index, size = np.unique(train_users, return_inverse=True, return_counts=True)
    keep = size[reader_index] >= min_shelf
    _, reader_index = np.unique(reader_index[keep], return_inverse=True)
    return PairSet.build(train_books[keep], reader_index, n_books=n_books, n_links=int(reader_index.max()) + 1)


def item_knn_neighbours(train_users, train_books, n_books, k=NEIGHBOURS):
    """Top-k cosine neighbours of each book by shared training shelves (the item-kNN baseline)."""
    _, rows = np.unique(train_users, return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, train_books)), shape=(rows.max() + 1, n_books))
    matrix.data[:] = 1.0
    norms = np.sqrt(np.asarray(matrix.sum(axis=0)).ravel())
    co = (matrix.T @ matrix).toarray()
    sims = co / np.maximum(np.outer(norms, norms), 1e-12)
    np.fill_diagonal(sims, -np.inf)
    ids = np.argpartition(-sims, k, axis=1)[:, :k]
    top = np.take_along_axis(sims, ids, axis=1)
    order = np.argsort(-top, axis=1)
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(top, order, axis=1).astype(np.float32)


def trained_neighbours(book_vectors: np.ndarray, trained: np.ndarray):
    """Neighbour lists over the books that have vectors (books with training pairs), in global indices."""
    books = np.flatnonzero(trained)
    ids, sims = nearest_neighbours(book_vectors[books], NEIGHBOURS)
    full_ids = np.zeros((len(trained), ids.shape[1]), np.int64)
    full_sims = np.zeros((len(trained), ids.shape[1]), np.float32)
    full_ids[books], full_sims[books] = books[ids], sims
    return full_ids, full_sims


def tune_scoring(ids, sims, popularity, cases, grid) -> tuple[ShelfScoring, list[dict]]:
    """The scoring of the grid with the best Recall@20 + NDCG@20 on the tuning readers."""
    trials = []
    for power, prior in grid:
        scoring = ShelfScoring(similarity_power=power, popularity_power=prior)
        figures = shelf_recall_ndcg(neighbour_recommender(ids, sims, popularity=popularity, scoring=scoring), cases, K)
        trials.append({"similarity_power": power, "popularity_power": prior, **figures})
    best = max(trials, key=lambda t: t[f"recall@{K}"] + t[f"ndcg@{K}"])
    return ShelfScoring(similarity_power=best["similarity_power"], popularity_power=best["popularity_power"]), trials


def evaluate_vectors(name, book_vectors, trained, data, grid, log) -> dict:
    """Centroid baseline and tuned neighbour scoring of one set of vectors, on validation readers."""
    started = time.perf_counter()
    ids, sims = trained_neighbours(book_vectors, trained)
    vectors = np.where(trained[:, None], book_vectors, 0.0).astype(np.float32)
    centroid = shelf_recall_ndcg(centroid_recommender(vectors), data["validation"], K)
    scoring, trials = tune_scoring(ids, sims, data["popularity"], data["tuning"], grid)
    plain = shelf_recall_ndcg(neighbour_recommender(ids, sims, scoring=ShelfScoring(1.0, 0.0)), data["validation"], K)
    tuned = shelf_recall_ndcg(neighbour_recommender(ids, sims, popularity=data["popularity"], scoring=scoring),
                              data["validation"], K)
    log(f"  {name}: centroid {fmt(centroid)} | votes sim^1 {fmt(plain)} | votes tuned "
        f"(p={scoring.similarity_power}, prior={scoring.popularity_power}) {fmt(tuned)} "
        f"[{time.perf_counter() - started:.0f}s]")
    return {"mean_centroid": centroid, "neighbour_votes_sim1_no_prior": plain, "neighbour_votes_tuned": tuned,
            "tuned_scoring": {"similarity_power": scoring.similarity_power,
                              "popularity_power": scoring.popularity_power},
            "tuning_trials": trials}


def fmt(figures: dict) -> str:
    return f"R@20 {figures[f'recall@{K}']:.3f} NDCG@20 {figures[f'ndcg@{K}']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared/data/goodbooks")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "results/quality_goodbooks.json")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--validation-users", type=int, default=6800)
    parser.add_argument("--tuning-users", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=None, help="override every run's epochs")
    parser.add_argument("--runs", default="all", help="comma-separated run names (see RUNS) or 'all'")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    base = TrainingParams(seed=args.seed)
    log(f"loading {args.data}")
    data = load_goodbooks(args.data, base, n_validation=args.validation_users, n_tuning=args.tuning_users,
                          seed=args.seed)
    n_books = data["n_books"]
    content = data["content"]
    shelves = shelf_pairs(data["train_users"], data["train_books"], n_books)
    both = PairSet.combine(content, shelves)
    log(f"{len(content)} tag pairs ({data['n_tags_kept']} of {data['n_tags_total']} tags kept), "
        f"{len(shelves)} shelf pairs ({shelves.n_links} training readers), "
        f"{len(data['validation'])} validation / {len(data['tuning'])} tuning readers")

    grid = [(p, a) for p in (1.0, 2.0, 4.0, 8.0) for a in (0.0, 0.15, 0.3, 0.5, 0.7)]
    results: dict = {"baselines": {}, "runs": {}}
    if args.runs != "all" and args.out.exists():  # a partial run updates its runs, keeping the others' figures
        previous = json.loads(args.out.read_text())
        results["runs"] = previous.get("runs", {})
        if "protocol_readings" in previous:
            results["protocol_readings"] = previous["protocol_readings"]
    popularity = data["popularity"]
    results["baselines"]["most_popular"] = shelf_recall_ndcg(popularity_recommender(popularity), data["validation"], K)
    results["baselines"]["most_popular_whole_shelves"] = shelf_recall_ndcg(
        popularity_recommender(popularity + np.bincount(data["rated_books"], minlength=n_books)),
        data["whole_shelves"], K)
    log(f"most popular: {fmt(results['baselines']['most_popular'])}")
    knn_ids, knn_sims = item_knn_neighbours(data["train_users"], data["train_books"], n_books)
    results["baselines"]["item_knn_shelves_sum_cosine"] = shelf_recall_ndcg(
        neighbour_recommender(knn_ids, knn_sims, scoring=ShelfScoring(1.0, 0.0)), data["validation"], K)
    knn_scoring, _ = tune_scoring(knn_ids, knn_sims, popularity, data["tuning"], grid)
    results["baselines"]["item_knn_shelves_tuned_scoring"] = {
        **shelf_recall_ndcg(neighbour_recommender(knn_ids, knn_sims, popularity=popularity, scoring=knn_scoring),
                            data["validation"], K),
        "similarity_power": knn_scoring.similarity_power, "popularity_power": knn_scoring.popularity_power}
    write_results(args.out, results, args, data, content, shelves)
    log(f"item-kNN on shelves: sum of cosine {fmt(results['baselines']['item_knn_shelves_sum_cosine'])}, "
        f"tuned scoring {fmt(results['baselines']['item_knn_shelves_tuned_scoring'])}")
    is_tail = tail_books(popularity)
    results["baselines"]["item_knn_shelves_sum_cosine"]["head_and_tail_apart"] = head_and_tail_apart(
        knn_scores(knn_ids, knn_sims), data["validation"], is_tail, popularity)

    runs = {
        "tags+shelves_w1": (both, {"shelf_weight": 1.0}),
        "tags_only": (content, {"shelf_weight": 0.0}),
        "tags_only_regression": (content, {"shelf_weight": 0.0, "variant": "regression"}),
        "tags+shelves_w1_dim50": (both, {"shelf_weight": 1.0, "embedding_dim": 50}),
        "tags+shelves_w1_reject_true_pairs": (both, {"shelf_weight": 1.0, "reject_true_pairs": True}),
        "original_tags_15ep": (content, {"shelf_weight": 0.0}),  # trained by bench.support.original_reference
        "tags+shelves_w1_regression": (both, {"shelf_weight": 1.0, "variant": "regression"}),
        "tags+shelves_w0.25": (both, {"shelf_weight": 0.25}),
        "tags+shelves_w4": (both, {"shelf_weight": 4.0}),
        "shelves_only": (shelves_as_pairset(shelves), {}),
    }
    shelf_models = {
        "shelf_model": {},
        "shelf_model_plain_ease": {"shelf_model_dropout": 0.0, "shelf_model_regularisation": 500.0},
        "shelf_model_dropout0.1": {"shelf_model_dropout": 0.1},
        "shelf_model_dropout0.5": {"shelf_model_dropout": 0.5},
        "shelf_model_regularisation150": {"shelf_model_regularisation": 150.0},
        "shelf_model_regularisation600": {"shelf_model_regularisation": 600.0},
        "shelf_model_link_weight25": {"shelf_model_link_weight": 25.0},
        "shelf_model_link_weight100": {"shelf_model_link_weight": 100.0},
        "shelf_model_no_tags": {"shelf_model_link_weight": 0.0},
        "shelf_model_want_to_read_only": {"shelf_model_other_shelves_weight": 0.0},
        "shelf_model_read_shelves0.03": {"shelf_model_other_shelves_weight": 0.03},
        "shelf_model_read_shelves0.3": {"shelf_model_other_shelves_weight": 0.3},
        "shelf_model_read_shelves1": {"shelf_model_other_shelves_weight": 1.0},
        "shelf_model_min_shelves1": {"shelf_model_min_shelves": 1},
        "shelf_model_min_shelves5": {"shelf_model_min_shelves": 5},
        # The neighbourhood solver (every shelved book modelled, linear in the catalogue; BENCHMARKS.md §16).
        "shelf_model_neighbourhood": {"shelf_model_solver": "neighbourhood"},
        "shelf_model_neighbourhood100": {"shelf_model_solver": "neighbourhood", "shelf_model_neighbours": 100},
        "shelf_model_neighbourhood400": {"shelf_model_solver": "neighbourhood", "shelf_model_neighbours": 400},
        "shelf_model_neighbourhood_out200": {"shelf_model_solver": "neighbourhood", "shelf_model_out_neighbours": 200},
        # The tail blend and scale fixed, nothing held out (the default chooses them on held-out training
        # shelves, shelf_model_tail_selection_readers; BENCHMARKS.md §16, planted tastes).
        "shelf_model_neighbourhood_fixed_no_blend": {"shelf_model_solver": "neighbourhood",
                                                     "shelf_model_tail_selection_readers": 0},
        **{f"shelf_model_neighbourhood_tail_blend{blend:g}_scale{scale:g}": {
            "shelf_model_solver": "neighbourhood", "shelf_model_tail_selection_readers": 0,
            "shelf_model_tail_blend": blend, "shelf_model_tail_scale": scale}
           for blend, scale in ((1.0, 0.1), (1.0, 0.3), (0.1, 1.0), (0.03, 1.0), (0.0, 0.5), (0.5, 0.1))},
    }
    knn = neighbour_recommender(knn_ids, knn_sims, popularity=popularity, scoring=knn_scoring)
    chosen = list(shelf_models) + list(runs) if args.runs == "all" else args.runs.split(",")
    for name in [name for name in chosen if name in shelf_models]:
        params = TrainingParams.from_dict({**base.to_dict(), **shelf_models[name]})
        started = time.perf_counter()
        model = train_shelf_model(shelves=shelf_model_shelves(data, params), content=content, params=params,
                                  on_stage=log)
        seconds = time.perf_counter() - started
        figures = {part: shelf_recall_ndcg(shelf_model_recommender(model), data[part], K)
                   for part in ("tuning", "validation", "whole_shelves")}
        figures["validation_head_and_tail_apart"] = head_and_tail_apart(
            shelf_model_scores(model, n_books), data["validation"], is_tail, popularity)
        log(f"  {name}: {len(model)} books, fitted in {seconds:.0f}s: "
            f"validation {fmt(figures['validation'])} (tuning {fmt(figures['tuning'])}; "
            f"whole shelves {fmt(figures['whole_shelves'])})")
        results["runs"][name] = {
            "params": {k: v for k, v in params.to_dict().items() if k.startswith("shelf_model")},
            "fit_seconds": seconds, "books": len(model),
            "stored_weights": int(model.shelf_vectors.nnz if model.is_sparse else model.shelf_vectors.size),
            "tail_blend": model.tail_blend, "tail_scale": model.tail_scale,
            **figures, "measured": measured(),
        }
        if name == "shelf_model":
            results["protocol_readings"] = protocol_readings(
                data["validation"], {"most popular": popularity_recommender(popularity), "item-kNN (tuned)": knn,
                                     "shelf model": shelf_model_recommender(model)}, args.seed)
            log(f"  other readings of the protocol: {json.dumps(results['protocol_readings'])}")
        write_results(args.out, results, args, data, content, shelves)
    for name in [name for name in chosen if name in runs]:
        pairs, overrides = runs[name]
        if args.epochs is not None:
            overrides = {**overrides, "epochs": args.epochs}
        params = TrainingParams.from_dict({**base.to_dict(), **overrides})
        log(f"training {name}: {len(pairs.with_shelf_weight(params.shelf_weight))} pairs, {overrides}")
        has_pairs = np.bincount(pairs.with_shelf_weight(params.shelf_weight).book_index, minlength=n_books) > 0
        if name == "original_tags_15ep":
            reference = train_reference_on_pair_set(pairs, seed=args.seed)
            log(f"  the original's training: {reference.seconds:.1f}s ({reference.pairs_per_second:,.0f} pairs/s)")
            results["runs"][name] = {
                "trainer": "bench.support.original_reference (the notebook's generator + Keras fit, 50-d, 15 epochs)",
                "training_seconds": reference.seconds, "pairs_per_second": reference.pairs_per_second,
                "history": reference.history, "measured": measured(),
                **evaluate_vectors(name, reference.book_vectors, has_pairs, data, grid, log),
            }
            write_results(args.out, results, args, data, content, shelves)
            continue
        last = [0.0]

        def progress(epoch, epochs, step, steps, loss, _last=last):
            if time.perf_counter() - _last[0] > 20 or step == steps:
                _last[0] = time.perf_counter()
                log(f"    epoch {epoch}/{epochs} step {step}/{steps} loss {loss:.4f}")

        trained = train_embeddings(pairs, params, on_progress=progress)
        log(f"  trained in {trained.seconds:.1f}s ({trained.pairs_per_second:,.0f} true pairs/s), "
            f"held-out link AUC {trained.heldout_auc:.3f}")
        results["runs"][name] = {
            "params": {k: v for k, v in params.to_dict().items() if k not in ("removed_links", "removed_link_patterns")},
            "training_seconds": trained.seconds, "pairs_per_second": trained.pairs_per_second,
            "train_pairs": trained.n_train_pairs, "heldout_link_auc": trained.heldout_auc,
            "history": trained.history, "measured": measured(),
            **evaluate_vectors(name, trained.book_vectors, has_pairs, data, grid, log),
        }
        write_results(args.out, results, args, data, content, shelves)

    log(f"wrote {args.out}")


def head_and_tail_apart(scores_of, cases: list[ShelfCase], is_tail: np.ndarray, popularity: np.ndarray) -> dict:
    """Recall@20 of the head books and of the tail books (``shelf_model.tail_books`` of the training readers'
    shelf counts: all but the most shelved books holding half the entries), each ranked apart for each reader by
    ``scores_of(visible shelf)`` (ties, and books given no score, by popularity), as
    ``bench.speed.shelf_model_scale``'s planted tastes are: whether the tail's own order finds its books."""
    found = {"head": [], "tail": []}
    for case in cases:
        scores = scores_of(case.visible)
        on_shelf = np.zeros(len(is_tail), bool)
        on_shelf[case.visible] = True
        for part, mask in (("head", ~is_tail), ("tail", is_tail)):
            hidden = case.hidden[mask[case.hidden]]
            if len(hidden):
                candidate = np.flatnonzero(mask & ~on_shelf)
                top = candidate[np.lexsort((candidate, -popularity[candidate], -scores[candidate]))][:K]
                found[part].append(np.isin(top, hidden).sum() / min(len(hidden), K))
    return {part: {f"recall@{K}": round(float(np.mean(values)), 4), "readers_with_hidden": len(values)}
            for part, values in found.items()}


PROTOCOL_READINGS = {
    "80 % visible rounded down, readers with 2+ books (ours)": (lambda n: int(np.floor(0.8 * n)), 2),
    "80 % visible rounded down, readers with 5+ books": (lambda n: int(np.floor(0.8 * n)), 5),
    "80 % visible rounded to nearest, readers with 2+ books": (lambda n: int(np.floor(0.8 * n + 0.5)), 2),
    "80 % visible rounded up, readers with 2+ books": (lambda n: int(np.ceil(0.8 * n)), 2),
}
"""Readings of "keep 80 % as the visible shelf" that the bar's wording allows; readers left with nothing
hidden are skipped."""


def protocol_readings(cases: list, recommenders: dict, seed: int) -> dict:
    """Recall@20 / NDCG@20 of each recommender when the same validation readers' whole shelves are split
    by each reading in ``PROTOCOL_READINGS`` (re-shuffled, seeded): how much the figures depend on it."""
    from recommender.training.evaluation import ShelfCase

    readings = {}
    for reading, (visible_count, min_books) in PROTOCOL_READINGS.items():
        rng = np.random.default_rng([seed, 9])
        split = []
        for case in cases:
            shelf = rng.permutation(np.concatenate([case.visible, case.hidden]))
            visible = max(1, visible_count(len(shelf)))
            if len(shelf) >= min_books and visible < len(shelf):
                split.append(ShelfCase(case.user_id, shelf[:visible], shelf[visible:]))
        readings[reading] = {"readers": len(split), **{
            name: {key: round(value, 4) for key, value in shelf_recall_ndcg(recommend, split, K).items()
                   if key != "users"}
            for name, recommend in recommenders.items()}}
    return readings


def write_results(out: Path, results: dict, args, data, content: PairSet, shelves: PairSet) -> None:
    """Writes the figures so far with what produced them (called after every run, so a long bench keeps partial results)."""
    results["meta"] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "seed": args.seed, "validation_users": len(data["validation"]), "tuning_users": len(data["tuning"]),
        "neighbours_per_book": NEIGHBOURS, "k": K,
        "tag_pairs": len(content), "shelf_pairs": len(shelves), "training_readers": shelves.n_links,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


def measured() -> dict:
    """When and at which commit a run's figures were taken (a partial bench keeps older runs' figures)."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip()
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "git_commit": commit}


def shelves_as_pairset(shelves: PairSet) -> PairSet:
    """Shelf pairs alone, as content (so that shelf_weight does not apply)."""
    return PairSet.build(shelves.book_index, shelves.link_index, n_books=shelves.n_books, n_links=shelves.n_links)


if __name__ == "__main__":
    main()
