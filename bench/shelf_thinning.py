"""How much the shelf figures depend on how complete the readers' shelves are.

Our ``to_read.csv`` is a partial rebuild of goodbooks-10k's: of the original file's first 100 rows (kept in
``samples/``), the rows of readers our file has are only partly there, and some readers are missing whole.
This measures what losing books does to the figures, on ``bench/quality_goodbooks.py``'s validation readers
(same seed, none of them trained on):

* their shelves as they are, against the same shelves with a random fifth of their books dropped first
  (then both split 80 / 20 the same way, re-shuffled per seed);
* the training readers' shelves as they are, against the same with each row dropped with probability
  ``--drop``;

for the shelf model (want-to-read shelves, default parameters), item-kNN and the most popular books.
The ratios say how the figures move between more and less complete shelves; the figures on complete
shelves are then *estimated* by applying the same ratios once more: an extrapolation, not a measurement.

Usage: python -m bench.shelf_thinning --data ../shared/data/goodbooks   (about 5 minutes on 2 cores)
Writes bench/results/shelf_thinning.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bench.common import write_result
from bench.quality_goodbooks import load_goodbooks
from bench.shelf_model_study import Study
from recommender.training import TrainingParams
from recommender.training.evaluation import ShelfCase, shelf_recall_ndcg

K = 20
METRICS = ("recall@20", "ndcg@20")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/goodbooks")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--drop", type=float, default=0.2, help="share of a shelf's books dropped when thinning")
    parser.add_argument("--splits", type=int, default=3, help="re-shuffled 80 / 20 splits averaged")
    parser.add_argument("--validation-users", type=int, default=6800)
    parser.add_argument("--tuning-users", type=int, default=2000, help="held out too (as quality_goodbooks does)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    params = TrainingParams(seed=args.seed, shelf_model_other_shelves_weight=0.0)
    data = load_goodbooks(args.data, params, n_validation=args.validation_users,
                          n_tuning=args.tuning_users, seed=args.seed)

    training = {"as they are": data}
    kept = np.random.default_rng([args.seed, 21]).random(len(data["train_users"])) >= args.drop
    training["thinned"] = {**data, "train_users": data["train_users"][kept], "train_books": data["train_books"][kept]}
    figures: dict[str, dict] = {}
    for training_name, training_data in training.items():
        study = Study(training_data, params)
        popularity = np.diag(study.shelf_gram)
        recommenders = {"shelf model": study.linear(study.weights()), "item-kNN": study.linear(study.item_knn()),
                        "most popular": study.scored(lambda rows: popularity)}
        for test_name, drop in (("as they are", 0.0), ("thinned", args.drop)):
            condition = f"training shelves {training_name}, measured shelves {test_name}"
            splits = [_split(data["validation"], drop, [args.seed, 22, split]) for split in range(args.splits)]
            figures[condition] = {
                name: _mean([shelf_recall_ndcg(recommend, cases, K) for cases in splits])
                for name, recommend in recommenders.items()}
            print(f"[{time.strftime('%H:%M:%S')}] {condition}: {figures[condition]}", flush=True)

    as_is = figures["training shelves as they are, measured shelves as they are"]
    ratios = {
        "measured shelves (as they are / thinned)": _ratios(
            as_is, figures["training shelves as they are, measured shelves thinned"]),
        "training shelves (as they are / thinned)": _ratios(
            as_is, figures["training shelves thinned, measured shelves as they are"]),
    }
    estimate = {name: {metric: round(float(as_is[name][metric] * np.prod([ratio[name][metric]
                                                                          for ratio in ratios.values()])), 4)
                       for metric in METRICS} for name in as_is}
    write_result("shelf_thinning", {
        "protocol": f"quality_goodbooks.py's {args.validation_users:,} validation readers, {args.splits} seeded 80 / 20 splits "
                    f"(visible = floor(0.8 n)); thinning drops {args.drop:.0%} of a shelf's books at random",
        "sample_evidence": _sample_evidence(args.data),
        "figures": figures, "ratios": ratios,
        "estimated_on_shelves_one_thinning_more_complete": estimate,
        "seconds": round(time.perf_counter() - started, 1),
    })
    print(f"shelf_thinning: ratios {ratios}\nestimated on more complete shelves: {estimate}")


def _split(cases: list[ShelfCase], drop: float, seed: list[int]) -> list[ShelfCase]:
    """Each reader's whole shelf, re-shuffled, thinned to ``1 - drop`` of its books, split 80 / 20."""
    rng = np.random.default_rng(seed)
    split = []
    for case in cases:
        shelf = rng.permutation(np.concatenate([case.visible, case.hidden]))
        shelf = shelf[:int(round((1 - drop) * len(shelf)))]
        visible = int(np.floor(0.8 * len(shelf)))
        if 1 <= visible < len(shelf):
            split.append(ShelfCase(case.user_id, shelf[:visible], shelf[visible:]))
    return split


def _mean(per_split: list[dict]) -> dict:
    return {"readers": per_split[0]["users"],
            **{metric: round(float(np.mean([f[metric] for f in per_split])), 4) for metric in METRICS}}


def _ratios(numerator: dict, denominator: dict) -> dict:
    return {name: {metric: round(numerator[name][metric] / denominator[name][metric], 3) for metric in METRICS}
            for name in numerator}


def _sample_evidence(data: Path) -> dict | None:
    """How much of the original file's first 100 rows (``samples/to_read.csv``) our ``to_read.csv`` has."""
    if not (data / "samples" / "to_read.csv").exists():
        return None
    sample = np.loadtxt(data / "samples" / "to_read.csv", delimiter=",", skiprows=1, dtype=np.int64)
    ours = np.loadtxt(data / "to_read.csv", delimiter=",", skiprows=1, dtype=np.int64)
    ours_rows = set(map(tuple, ours.tolist()))
    present = np.isin(sample[:, 0], ours[:, 0])
    found = np.array([tuple(row) in ours_rows for row in sample.tolist()])
    matrix = sp.coo_matrix((np.ones(len(ours)), (ours[:, 0], ours[:, 1])))
    return {
        "sample_rows": len(sample), "sample_readers": len(np.unique(sample[:, 0])),
        "readers_missing_whole": len(np.unique(sample[~present, 0])), "rows_of_missing_readers": int((~present).sum()),
        "rows_of_present_readers": int(present.sum()), "of_those_in_our_file": int(found[present].sum()),
        "our_rows": len(ours), "our_readers": int(len(np.unique(ours[:, 0]))),
        "our_longest_shelf": int(np.asarray(matrix.tocsr().sum(axis=1)).max()),
    }


if __name__ == "__main__":
    main()
