"""Study: what raises same-author precision@5 of "similar books" on the 1,413 Wikipedia books?

Each experiment trains the product's book-link embedding model (``train_embeddings``) on the wikilink
pairs of ``bench/quality_wikipedia.py`` with some change, averaged over seeds, and measures
same-author precision@5 (books whose author has >= 2 books), genre/country 10-NN accuracy and held-out
link AUC. Changes studied:

* the positives' sampling weight: uniform, the number of times the article links the page ("count"),
  the link's IDF, powers and products of them (hand-made ``PairSet.weight`` with the trainer's own
  weighting off), and the trainer's defaults (``link_count_power``, ``link_idf_power``) given the counts
  as the product's training data does ("trainer_defaults_*");
* optimisation: batch size, epochs, learning rate, dimension;
* post-hoc book vectors: ``normalise(book + alpha * IDF-weighted mean of its links' vectors)`` for several
  alpha, computed from the same trained vectors (what the trainer would store in pgvector).

Usage: nice -n 10 python bench/quality_wikipedia_study.py [--only NAME,NAME] [--seeds 42,7,2024]
Writes (merges into) bench/results/quality_wikipedia_study.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_wikipedia import load_books, quality, tfidf_vectors  # noqa: E402

from recommender.training import PairSet, TrainingParams, links_to_keep, train_embeddings  # noqa: E402

ALPHAS = (0.0, 0.5, 1.0, 2.0)

# name -> (TrainingParams overrides, positive weighting)
EXPERIMENTS: dict[str, tuple[dict, str]] = {
    # The trainer's defaults on the pairs the product feeds it (weight = how many times the article links the page).
    "trainer_defaults_with_counts": ({}, "counts"),
    "trainer_defaults_without_counts": ({}, "counts_absent"),
    "trainer_defaults_with_counts_dim128": ({"embedding_dim": 128}, "counts"),
    "trainer_defaults_with_counts_count_power1": ({"link_count_power": 1.0}, "counts"),
    # Hand-made weightings, the trainer's own weighting off.
    "default": ({}, "uniform"),
    "weight_count": ({}, "count"),
    "weight_idf": ({}, "idf"),
    "weight_idf_count": ({}, "idf_count"),
    "batch_1024": ({"batch_size": 1024}, "uniform"),
    "batch_1024_ep30": ({"batch_size": 1024, "epochs": 30}, "uniform"),
    "batch_512_ep30_lr003": ({"batch_size": 512, "epochs": 30, "learning_rate": 0.003}, "uniform"),
    "batch_1024_ep30_dim128": ({"batch_size": 1024, "epochs": 30, "embedding_dim": 128}, "uniform"),
    "batch_1024_ep30_idf": ({"batch_size": 1024, "epochs": 30}, "idf"),
    "batch_1024_ep30_idf_dim128": ({"batch_size": 1024, "epochs": 30, "embedding_dim": 128}, "idf"),
    "batch_1024_ep30_neg8": ({"batch_size": 1024, "epochs": 30, "negatives_per_positive": 8}, "uniform"),
    "batch_1024_ep30_negpow0": ({"batch_size": 1024, "epochs": 30, "negative_power": 0.0}, "uniform"),
    "regression_batch_1024_ep30": ({"batch_size": 1024, "epochs": 30, "variant": "regression"}, "uniform"),
    "weight_idf2_count": ({}, "idf2_count"),
    "weight_idf_sqrtcount": ({}, "idf_sqrtcount"),
    "weight_idf_count_cat2": ({}, "idf_count_cat2"),
    "weight_idf_count_ep30": ({"epochs": 30}, "idf_count"),
    "weight_idf_count_dim128": ({"embedding_dim": 128}, "idf_count"),
    "weight_idf_count_b1024_ep30": ({"batch_size": 1024, "epochs": 30}, "idf_count"),
    "weight_idf_count_b1024_ep30_lr003": ({"batch_size": 1024, "epochs": 30, "learning_rate": 0.003}, "idf_count"),
    "weight_idf_count_negpow0": ({"negative_power": 0.0}, "idf_count"),
    "weight_idf_count_neg8": ({"negatives_per_positive": 8}, "idf_count"),
    "weight_idf_dim128": ({"embedding_dim": 128}, "idf"),
    "weight_idf2_dim128": ({"embedding_dim": 128}, "idf2"),
    "weight_idf2_count_dim128": ({"embedding_dim": 128}, "idf2_count"),
    "weight_idf_count_cat05_dim128": ({"embedding_dim": 128}, "idf_count_cat05"),
    "weight_idf_count_dim128_b1024_ep30": ({"embedding_dim": 128, "batch_size": 1024, "epochs": 30}, "idf_count"),
    "weight_idf_count_dim256": ({"embedding_dim": 256}, "idf_count"),
    "weight_idf_count2_dim128": ({"embedding_dim": 128}, "idf_count2"),
    "weight_idf2_count2_dim128": ({"embedding_dim": 128}, "idf2_count2"),
    "weight_smoothidf_count_dim128": ({"embedding_dim": 128}, "smoothidf_count"),
    "weight_idf2_count_dim128_negpow1": ({"embedding_dim": 128, "negative_power": 1.0}, "idf2_count"),
    "weight_idf2_count_dim128_lr003_ep30": ({"embedding_dim": 128, "learning_rate": 0.003, "epochs": 30}, "idf2_count"),
    "weight_idf_count2": ({}, "idf_count2"),
    "weight_idf_count3_dim128": ({"embedding_dim": 128}, "idf_count3"),
    "weight_count2_dim128": ({"embedding_dim": 128}, "count2"),
    "weight_idf_count2_dim128_negpow1": ({"embedding_dim": 128, "negative_power": 1.0}, "idf_count2"),
}


def wikilink_pairs(books: list[dict], params: TrainingParams, weighting: str) -> PairSet:
    """(book, wikilink) pairs after link hygiene, weighted as ``weighting`` says."""
    counts = [Counter(b["links"]) for b in books]
    vocabulary = sorted({link for c in counts for link in c})
    position = {name: i for i, name in enumerate(vocabulary)}
    book_index = np.array([i for i, c in enumerate(counts) for _ in c], np.int64)
    link_index = np.array([position[name] for c in counts for name in c], np.int64)
    count = np.array([n for c in counts for n in c.values()], np.float64)
    df = np.bincount(link_index, minlength=len(vocabulary))
    keep = links_to_keep(vocabulary, df, params)
    kept = keep[link_index]
    new_index = np.cumsum(keep) - 1
    idf = np.log(len(books) / df)
    is_category = np.array([name.startswith("category:") for name in vocabulary])
    weight = {
        "uniform": np.ones(len(count)),
        "counts": count,
        "counts_absent": np.ones(len(count)),
        "count": count,
        "idf": idf[link_index],
        "idf_count": idf[link_index] * count,
        "idf2": idf[link_index] ** 2,
        "idf_count2": idf[link_index] * count ** 2,
        "idf_count3": idf[link_index] * count ** 3,
        "count2": count ** 2,
        "idf2_count2": idf[link_index] ** 2 * count ** 2,
        "smoothidf_count": (np.log((1 + len(books)) / (1 + df)) + 1)[link_index] * count,
        "idf2_count": idf[link_index] ** 2 * count,
        "idf_count_cat05": idf[link_index] * count * np.where(is_category[link_index], 0.5, 1.0),
        "idf_sqrtcount": idf[link_index] * np.sqrt(count),
        "idf_count_cat2": idf[link_index] * count * np.where(is_category[link_index], 2.0, 1.0),
    }[weighting]
    return PairSet.build(book_index[kept], new_index[link_index[kept]], n_books=len(books),
                         n_links=int(keep.sum()), weight=weight[kept])


def link_idf(pairs: PairSet) -> np.ndarray:
    df = np.bincount(pairs.link_index, minlength=pairs.n_links)
    return np.log(pairs.n_books / np.maximum(df, 1))


def with_link_mean(book_vectors: np.ndarray, link_vectors: np.ndarray, pairs: PairSet, alpha: float) -> np.ndarray:
    """normalise(book + alpha * IDF-weighted mean of the book's links' vectors)."""
    if alpha == 0:
        return book_vectors
    idf = link_idf(pairs)[pairs.link_index]
    total = np.zeros_like(book_vectors, dtype=np.float64)
    np.add.at(total, pairs.book_index, link_vectors[pairs.link_index] * idf[:, None])
    norm = np.bincount(pairs.book_index, idf, pairs.n_books)[:, None]
    mean = total / np.maximum(norm, 1e-12)
    mixed = book_vectors + alpha * mean
    return (mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def goodbooks_check(data_dir: Path, out: Path, seed: int, log) -> None:
    """Does the trainer's IDF weighting of content pairs (tags; counts are 1) hurt goodbooks shelf quality?

    Tags + shelves at the trainer's defaults with ``link_idf_power`` 1 and 0, one seed, 2,000 validation
    readers, neighbour votes with the scoring tuned in bench/quality_goodbooks.py (sim^4, prior 0.5).
    """
    from quality_goodbooks import load_goodbooks, shelf_pairs, trained_neighbours

    from recommender.training.evaluation import centroid_recommender, neighbour_recommender, shelf_recall_ndcg
    from recommender.training.scoring import ShelfScoring

    base = TrainingParams(seed=seed)
    data = load_goodbooks(data_dir, base, n_validation=2000, n_tuning=0, seed=seed)
    pairs = PairSet.combine(data["content"], shelf_pairs(data["train_users"], data["train_books"], data["n_books"]))
    results = json.loads(out.read_text()) if out.exists() else {}
    checks = results.setdefault("goodbooks_check", {})
    for idf_power in (1.0, 0.0):
        params = TrainingParams.from_dict({**base.to_dict(), "link_idf_power": idf_power})
        trained = train_embeddings(pairs, params)
        has_pairs = np.bincount(pairs.book_index, minlength=data["n_books"]) > 0
        ids, sims = trained_neighbours(trained.book_vectors, has_pairs)
        vectors = np.where(has_pairs[:, None], trained.book_vectors, 0.0).astype(np.float32)
        row = {
            "centroid": shelf_recall_ndcg(centroid_recommender(vectors), data["validation"], 20),
            "neighbour_votes_sim4_prior05": shelf_recall_ndcg(
                neighbour_recommender(ids, sims, popularity=data["popularity"], scoring=ShelfScoring(4.0, 0.5)),
                data["validation"], 20),
            "heldout_link_auc": trained.heldout_auc, "training_seconds": trained.seconds,
        }
        checks[f"link_idf_power={idf_power}"] = row
        log(f"goodbooks idf power {idf_power}: {row}")
        out.write_text(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared/data/wikipedia/p15_books.ndjson")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results/quality_wikipedia_study.json")
    parser.add_argument("--seeds", default="42,7,2024")
    parser.add_argument("--only", default="", help="comma-separated experiment names (default: all)")
    parser.add_argument("--goodbooks", type=Path, default=None,
                        help="goodbooks folder: run only the goodbooks check of the IDF weighting")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [n for n in args.only.split(",") if n] or list(EXPERIMENTS)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    if args.goodbooks is not None:
        goodbooks_check(args.goodbooks, args.out, seeds[0], log)
        return
    books = load_books(args.data)
    results = json.loads(args.out.read_text()) if args.out.exists() else {"baselines": {}, "runs": {}}
    base_pairs = wikilink_pairs(books, TrainingParams(), "uniform")
    has_links = np.bincount(base_pairs.book_index, minlength=len(books)) > 0
    results["baselines"]["tfidf_links"] = quality(tfidf_vectors(base_pairs), books, has_links)
    log(f"tfidf: {results['baselines']['tfidf_links']['same_author_precision@5']:.3f}")

    for name in names:
        overrides, weighting = EXPERIMENTS[name]
        per_seed = []
        for seed in seeds:
            # Hand-made weightings replace the trainer's own (count**p * idf**q); "counts" hands it the raw counts.
            own = {} if weighting.startswith("counts") else {"link_count_power": 0.0, "link_idf_power": 0.0}
            params = TrainingParams.from_dict({**TrainingParams().to_dict(), **own, **overrides, "seed": seed})
            pairs = wikilink_pairs(books, params, weighting)
            trained = train_embeddings(pairs, params)
            has_links = np.bincount(pairs.book_index, minlength=len(books)) > 0
            row = {"heldout_link_auc": trained.heldout_auc, "training_seconds": trained.seconds}
            for alpha in ALPHAS:
                vectors = with_link_mean(trained.book_vectors, trained.link_vectors, pairs, alpha)
                for key, value in quality(vectors, books, has_links).items():
                    if key != "books":
                        row[f"{key} alpha={alpha}"] = value
            per_seed.append(row)
        summary = {key: float(np.mean([r[key] for r in per_seed])) for key in per_seed[0]}
        results["runs"][name] = {"overrides": overrides, "weighting": weighting, "mean_over_seeds": summary,
                                 "per_seed": per_seed, "seeds": seeds}
        log(f"{name}: " + ", ".join(f"a={a} {summary[f'same_author_precision@5 alpha={a}']:.3f}" for a in ALPHAS)
            + f" auc {summary['heldout_link_auc']:.3f} {summary['training_seconds']:.1f}s")

    results["meta"] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
