"""What else we tried for "books for your shelf": changes to the shelf model, measured on the readers of
``bench/quality_goodbooks.py`` (same seed, same tuning and validation readers, none of them trained on).

Each row is the shelf model (``recommender.training.shelf_model``, default parameters, learning from
want-to-read shelves only: ``shelf_model_other_shelves_weight`` 0, as it did when this study was made) with
one change:

* less training data (a share of the training readers), to see how far more readers would take it;
* other terms in its Gram matrix: readers weighted by shelf length, authors or series (read from goodbooks
  titles, "(The Hunger Games, #2)") as extra links;
* the full-rank EDLAE solution (no zero diagonal) instead of EASE's;
* blends of its scores with item-kNN cosine, with the book–link embeddings' neighbour votes (both still one
  vector per book, so servable as they are), or with user-kNN (not servable from book vectors);
* post-processing: a popularity term, pseudo-relevance feedback (the first suggestions added to the shelf).

Then the readers are re-split into 4 folds of 2,000 (each fold trained on the other 38,000 readers) to see
whether the shelf bar's gap is a matter of training readers or of which readers are measured.

Usage: python -m bench.shelf_model_study --data ../shared/data/goodbooks   (about 10 minutes on 2 cores)
Writes bench/results/shelf_model_study.json.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bench.common import write_result
from bench.quality_goodbooks import load_goodbooks, shelf_pairs
from recommender.training import PairSet, TrainingParams, train_embeddings
from recommender.training.evaluation import Recommender, ShelfCase, shelf_model_recommender, shelf_recall_ndcg
from recommender.training.shelf_model import ShelfModel, link_gram, shelf_book_matrix, solve_shelf_weights

K = 20


class Study:
    """The training readers' shelves and the books' tags over the modelled books, and recommenders built on them."""

    def __init__(self, data: dict, params: TrainingParams):
        self.data, self.params = data, params
        shelves = shelf_pairs(data["train_users"], data["train_books"], data["n_books"])
        self.books = np.flatnonzero(np.bincount(shelves.book_index, minlength=data["n_books"]) > 0)
        self.position = np.full(data["n_books"], -1, np.int64)
        self.position[self.books] = np.arange(len(self.books))
        self.readers = shelf_book_matrix(self.position, shelves, len(self.books))
        self.shelf_gram = (self.readers.T @ self.readers).toarray()
        self.tag_gram = link_gram(self.position, data["content"], len(self.books))
        self.shelves = shelves

    def weights(self, shelf_gram: np.ndarray | None = None, tag_gram: np.ndarray | None = None,
                **overrides) -> np.ndarray:
        """The shelf model's book × book weights B, from these Gram parts (the default ones if not given)."""
        params = TrainingParams.from_dict({**self.params.to_dict(), **overrides})
        gram = self.shelf_gram if shelf_gram is None else shelf_gram
        tags = self.tag_gram if tag_gram is None else tag_gram
        return solve_shelf_weights(gram + params.shelf_model_link_weight * tags, params)

    def linear(self, weights: np.ndarray) -> Recommender:
        """Scores = the sum of the shelf books' rows of ``weights``: served as the product serves its shelf model."""
        return shelf_model_recommender(ShelfModel(book_index=self.books, shelf_vectors=weights))

    def item_knn(self) -> np.ndarray:
        """Cosine similarity of every two modelled books by the training readers who shelved them."""
        norms = np.sqrt(np.diag(self.shelf_gram))
        cosine = self.shelf_gram / np.maximum(np.outer(norms, norms), 1e-12)
        np.fill_diagonal(cosine, 0.0)
        return cosine

    def scored(self, score: Callable[[np.ndarray], np.ndarray]) -> Recommender:
        """A recommender from ``score(positions of the shelf's modelled books) -> score of every modelled book``."""
        def recommend(shelf: np.ndarray, k: int) -> np.ndarray:
            rows = self.position[shelf]
            rows = rows[rows >= 0]
            if len(rows) == 0:
                return np.zeros(0, np.int64)
            scores = np.asarray(score(rows), np.float64).copy()
            scores[rows] = -np.inf
            top = np.argpartition(-scores, k)[:k]
            return self.books[top[np.argsort(-scores[top], kind="stable")]]
        return recommend

    def measure(self, recommend: Recommender) -> dict:
        return {part: _rounded(shelf_recall_ndcg(recommend, self.data[part], K)) for part in ("tuning", "validation")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/goodbooks")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--validation-users", type=int, default=6800)
    parser.add_argument("--tuning-users", type=int, default=2000)
    parser.add_argument("--fold-readers", type=int, default=2000, help="readers measured in each of the 4 folds")
    args = parser.parse_args(argv)
    params = TrainingParams(seed=args.seed, shelf_model_other_shelves_weight=0.0)
    started = time.perf_counter()
    data = load_goodbooks(args.data, params, n_validation=args.validation_users, n_tuning=args.tuning_users,
                          seed=args.seed)
    study = Study(data, params)
    rows: dict[str, dict] = {}

    def row(name: str, recommend: Recommender) -> None:
        rows[name] = study.measure(recommend)
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {rows[name]}", flush=True)

    default = study.weights()
    row("shelf model (default)", study.linear(default))
    _less_data(study, row, args.seed)
    _other_grams(study, row)
    row("full-rank EDLAE (dropout 0.5, no zero diagonal)", study.linear(_full_rank_edlae(study)))
    _blends(study, row, default, args.seed)
    _post_processing(study, row, default)
    figures = {
        "protocol": "bench/quality_goodbooks.py's readers: tuning picks nothing here, both parts are reported",
        "modelled_books": len(study.books), "training_readers": study.readers.shape[0],
        "rows": rows,
        "folds": _folds(args.data, params, args.fold_readers, args.seed),
        "seconds": round(time.perf_counter() - started, 1),
    }
    best = max((name for name in rows if name != "shelf model (default)"),
               key=lambda name: rows[name]["tuning"]["recall@20"] + rows[name]["tuning"]["ndcg@20"])
    figures["summary"] = {"default": rows["shelf model (default)"]["validation"],
                          "best_other_on_tuning_readers": best, "its_figures": rows[best]["validation"]}
    path = write_result("shelf_model_study", figures)
    print(f"shelf_model_study: {figures['summary']} -> {path}")


def _less_data(study: Study, row, seed: int) -> None:
    kept = np.random.default_rng([seed, 9]).random(study.readers.shape[0])
    for share in (0.5, 0.75):
        readers = study.readers[kept < share]
        row(f"{share:.0%} of the training readers", study.linear(study.weights((readers.T @ readers).toarray())))


def _other_grams(study: Study, row) -> None:
    sizes = np.asarray(study.readers.sum(axis=1)).ravel()
    for power in (0.25, 0.5):
        weighted = sp.diags(sizes ** -power) @ study.readers
        gram = (weighted.T @ weighted).toarray()
        gram *= np.trace(study.shelf_gram) / np.trace(gram)
        row(f"readers weighted by shelf length^-{power}", study.linear(study.weights(gram)))
    titles = np.array(study.data["titles"], dtype=object)[study.books]
    authors = [a.lower() for a in np.array(study.data["authors"], dtype=object)[study.books]]
    series = [(found.group(1).strip().lower() if (found := re.search(r"\(([^()#]+?),?\s*#\s*[\d.]+", title)) else "")
              for title in titles]
    for name, keys in (("authors", authors), ("series", series)):
        links = _one_hot(keys)
        for weight in (1.0, 5.0):
            row(f"{name} as extra links (weight {weight:g})",
                study.linear(study.weights(study.shelf_gram + weight * (links @ links.T).toarray())))


def _full_rank_edlae(study: Study) -> np.ndarray:
    """Steck's EDLAE without the zero-diagonal constraint: B = I - P diag(Λ)."""
    import scipy.linalg

    gram = study.shelf_gram + study.params.shelf_model_link_weight * study.tag_gram
    dropout = 0.5
    penalty = study.params.shelf_model_regularisation + dropout / (1 - dropout) * np.diag(gram)
    inverse = scipy.linalg.inv(gram + np.diag(penalty), check_finite=False)
    weights = np.eye(len(gram)) - inverse * penalty[None, :]
    np.fill_diagonal(weights, 0.0)  # a shelf book's own score never counts: it is excluded anyway
    return weights.astype(np.float32)


def _blends(study: Study, row, default: np.ndarray, seed: int) -> None:
    def scaled(matrix: np.ndarray) -> np.ndarray:
        return matrix / (np.abs(matrix).sum() / len(matrix))

    cosine = study.item_knn()
    row("item-kNN cosine alone", study.linear(cosine))
    for weight in (0.1, 0.25):
        row(f"shelf model + {weight} item-kNN", study.linear(scaled(default) + weight * scaled(cosine)))
    trained = train_embeddings(PairSet.combine(study.data["content"], study.shelves), study.params)
    vectors = trained.book_vectors[study.books]
    votes = np.maximum(vectors @ vectors.T, 0.0) ** 4
    np.fill_diagonal(votes, 0.0)
    row("neighbour votes on the book-link embeddings (similarity^4)", study.linear(votes))
    for weight in (0.05, 0.2):
        row(f"shelf model + {weight} embedding votes", study.linear(scaled(default) + weight * scaled(votes)))
    readers = sp.diags(1 / np.sqrt(np.asarray(study.readers.sum(axis=1)).ravel())) @ study.readers
    by_reader = readers.T.tocsr()

    def user_knn(rows: np.ndarray, neighbours: int = 200) -> np.ndarray:
        similarity = np.asarray(by_reader[rows].sum(axis=0)).ravel()
        top = np.argpartition(-similarity, neighbours)[:neighbours]
        return similarity[top] @ study.readers[top].toarray()

    row("user-kNN (200 readers)", study.scored(user_knn))
    for weight in (0.25, 0.5):
        def blend(rows: np.ndarray, weight=weight) -> np.ndarray:
            model, users = default[rows].sum(axis=0), user_knn(rows)
            return model / (np.abs(model).sum() + 1e-12) + weight * users / (np.abs(users).sum() + 1e-12)
        row(f"shelf model + {weight} user-kNN", study.scored(blend))


def _post_processing(study: Study, row, default: np.ndarray) -> None:
    log_popularity = np.log1p(np.diag(study.shelf_gram))
    for weight in (-0.1, 0.1):
        def popular(rows: np.ndarray, weight=weight) -> np.ndarray:
            scores = default[rows].sum(axis=0)
            return scores + weight * np.abs(scores).mean() * log_popularity
        row(f"shelf model + {weight} x log popularity", study.scored(popular))
    for first, weight in ((5, 0.1), (10, 0.3)):
        def feedback(rows: np.ndarray, first=first, weight=weight) -> np.ndarray:
            scores = default[rows].sum(axis=0)
            scores[rows] = -np.inf
            top = np.argpartition(-scores, first)[:first]
            return default[rows].sum(axis=0) + weight * default[top].sum(axis=0)
        row(f"pseudo-relevance feedback (first {first} at {weight})", study.scored(feedback))


def _folds(data_dir: Path, params: TrainingParams, per_fold: int, seed: int) -> dict:
    """4 folds of ``per_fold`` readers (2+ books), each measured with everyone else trained on; by shelf size."""
    shelves = np.loadtxt(data_dir / "to_read.csv", delimiter=",", skiprows=1, dtype=np.int64)
    users, books = shelves[:, 0], shelves[:, 1] - 1
    data = load_goodbooks(data_dir, params, n_validation=0, n_tuning=0, seed=seed)
    readers, reader_of_row, shelf_size = np.unique(users, return_inverse=True, return_counts=True)
    order = np.random.default_rng([seed, 11]).permutation(np.flatnonzero(shelf_size >= 2))
    by_reader = np.argsort(reader_of_row, kind="stable")
    starts = np.searchsorted(reader_of_row[by_reader], np.arange(len(readers)))
    results: dict[str, list] = {}
    for fold in range(4):
        measured = order[fold * per_fold:(fold + 1) * per_fold]
        held = np.isin(reader_of_row, measured)
        shuffle = np.random.default_rng([seed, 12, fold])
        cases = []
        for reader in measured:
            shelf = shuffle.permutation(books[by_reader[starts[reader]:starts[reader] + shelf_size[reader]]])
            visible = max(1, int(np.floor(0.8 * len(shelf))))
            cases.append(ShelfCase(int(readers[reader]), shelf[:visible], shelf[visible:]))
        fold_data = {**data, "train_users": users[~held], "train_books": books[~held]}
        study = Study(fold_data, params)
        popularity = np.diag(study.shelf_gram)
        for name, recommend in (("shelf model", study.linear(study.weights())),
                                ("item-kNN", study.linear(study.item_knn())),
                                ("most popular", study.scored(lambda rows: popularity))):
            for smallest in (2, 5):
                chosen = [case for case in cases if len(case.visible) + len(case.hidden) >= smallest]
                figures = shelf_recall_ndcg(recommend, chosen, K)
                results.setdefault(f"{name}, readers with {smallest}+ books", []).append(
                    (figures["users"], figures["recall@20"], figures["ndcg@20"]))
        print(f"[{time.strftime('%H:%M:%S')}] fold {fold + 1}/4: {study.readers.shape[0]} training readers", flush=True)
    summary = {}
    for name, per_fold_figures in results.items():
        readers = np.array([n for n, _, _ in per_fold_figures])
        summary[name] = {"readers": int(readers.sum()), **{
            metric: round(float(np.average([f[i] for f in per_fold_figures], weights=readers)), 4)
            for i, metric in ((1, "recall@20"), (2, "ndcg@20"))}}
    return {"readers_per_fold": per_fold, "training_readers_per_fold": int(study.readers.shape[0]), **summary}


def _one_hot(keys: list[str]) -> sp.csr_matrix:
    keys_array = np.array(keys, dtype=object)
    present = np.flatnonzero(keys_array != "")
    _, column = np.unique(keys_array[present].astype(str), return_inverse=True)
    return sp.csr_matrix((np.ones(len(present)), (present, column)), shape=(len(keys), column.max() + 1))


def _rounded(figures: dict) -> dict:
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in figures.items()}


if __name__ == "__main__":
    main()
