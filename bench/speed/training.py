"""Training: Bookvec's trainer against the original notebook's, on the same pairs, for speed and quality.

Both trainers see the same (book, link) pairs, built by the original's own preparation
(``bench.support.original_reference.prepare``: lowercased links, its removal list, links used by >= 4 books),
and the same held-out pairs: Bookvec's trainer holds out ``TrainingParams().holdout_fraction`` of the
pairs with ``split_holdout`` and its seed; the reference trains on exactly the remaining pairs.

* Bookvec: ``recommender.training.train_embeddings`` with its default ``TrainingParams`` (each true pair
  scored against the other pairs of its group of ``group_size`` and ``drawn_negatives`` drawn links and books),
  and again with the other ``variant`` (regression / classification), since the two rank differently here
  and on the real data, and with ``reject_true_pairs``.
* Reference: ``bench.support.original_reference.train_reference`` (Python generator + Keras ``fit``, 1,024
  positives + 2,048 negatives a batch, 50-d, regression), 15 epochs unless told otherwise.

Each trainer runs in its own process (so each has its own TensorFlow and its own peak memory) and saves
its vectors; this process then measures, for both, the held-out link AUC (``recommender.training.evaluation.link_auc``,
same held-out pairs, same negatives) and the share of each book's 10 nearest books that share its
planted genre (infobox ``genre``), plus same-author precision@5.

Throughput is true pairs a second: epochs × steps × positives per step / wall time of the training loop
(data preparation and model building excluded for both; Bookvec's XLA compilation and Keras' tracing are
inside it). Examples a second count each true pair with the negatives it is scored against: 2 for the
reference, ``group_size - 1 + 2 * drawn_negatives`` for Bookvec.

The throughput ratio is measured in ``--pairs`` paired runs, each reference run bracketed by a run of Bookvec's
default just before and just after it (Bookvec, reference, Bookvec, reference, ..., Bookvec: a Bookvec run
between two reference runs serves both), so that a load that changes during the reference's ~10 minutes is met
by one Bookvec run or the other: a pair's ratio is the lower of the reference against either, every pair's ratio
is reported and the target is met only when the lowest is. CPU seconds of each training loop (every thread of its
process) are reported too: CPU a true pair does not depend on the load, so it says what the trainer itself
costs. The other variant and ``reject_true_pairs`` run once, after the pairs, and are compared with the median
of the reference runs. Quality is that of the first Bookvec run (Bookvec is deterministic; every reference
run's AUC is kept too).

Usage: python -m bench.speed.training --data var/bench/seed.ndjson [--pairs 3] [--reference-epochs 15]
[--bookvec-epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.support.common import PYTHON, WORK_DIR, own_peak_rss_mib, write_result
from bench.support.original_reference import EPOCHS, prepare, read_books, train_reference

PAIRED_RUNS = 3
TARGET = 10.0
BRACKET = ("bookvec_before", "reference", "bookvec_after")
REGRESSION_RATE = {"learning_rate": 0.05, "learning_rate_end": 1.0}
"""The rate regression wants (``TrainingParams.variant``), for the other variant's run."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="ndjson file (bench.support.generate_seed_data)")
    parser.add_argument("--reference-epochs", type=int, default=EPOCHS)
    parser.add_argument("--reference-variant", choices=["regression", "classification"], default="regression")
    parser.add_argument("--bookvec-epochs", type=int, help="override Bookvec's default epochs (smoke tests)")
    parser.add_argument("--pairs", type=int, default=PAIRED_RUNS,
                        help="paired runs (reference and Bookvec's default, order alternating) for the throughput ratio")
    parser.add_argument("--name", default="training", help="results file name")
    parser.add_argument("--worker", choices=["bookvec", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--bookvec-variant", choices=["regression", "classification"], help=argparse.SUPPRESS)
    parser.add_argument("--bookvec-reject-true-pairs", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _train_in_this_process(args)
        return
    figures = run(args.data, reference_epochs=args.reference_epochs, reference_variant=args.reference_variant,
                  bookvec_epochs=args.bookvec_epochs, pairs=args.pairs)
    path = write_result(args.name, figures)
    print(f"training: {json.dumps(figures['summary'])}\n  -> {path}")


def run(data: Path, *, reference_epochs: int = EPOCHS, reference_variant: str = "regression",
        bookvec_epochs: int | None = None, pairs: int = PAIRED_RUNS) -> dict:
    """Trains both, each in a child process, ``pairs`` times, then the other variants once; returns the figures
    (see the module docstring)."""
    from recommender.training import TrainingParams
    from recommender.training.evaluation import link_auc, nearest_neighbours, same_author_precision

    if pairs < 1:
        raise ValueError("pairs must be at least 1")
    prepared = prepare(read_books(data))
    pair_set, heldout = _pairs_and_heldout(prepared)
    auc_seed = TrainingParams().seed  # the same negatives for both
    bookvec_extra = ["--bookvec-epochs", str(bookvec_epochs)] if bookvec_epochs else []
    reference_extra = ["--reference-epochs", str(reference_epochs), "--reference-variant", reference_variant]
    other_variant = "regression" if TrainingParams().variant == "classification" else "classification"

    def train(trainer: str, worker: str, extra: list[str]) -> dict:
        out = WORK_DIR / f"training-{trainer}.npz"
        out.parent.mkdir(parents=True, exist_ok=True)
        load = [round(x, 2) for x in os.getloadavg()]
        started = time.perf_counter()
        subprocess.run([PYTHON, "-m", "bench.speed.training", "--worker", worker, "--out", str(out), "--data", str(data),
                        *extra], check=True, cwd=Path(__file__).resolve().parents[2])
        with np.load(out) as saved:
            stats = json.loads(str(saved["stats"]))
            book_vectors, link_vectors = saved["book_vectors"], saved["link_vectors"]
        stats["process_seconds"] = round(time.perf_counter() - started, 1)
        stats["load_average_at_start"] = load
        neighbours, _ = nearest_neighbours(book_vectors, 10)
        stats["heldout_link_auc"] = round(link_auc(book_vectors, link_vectors, heldout, known_pairs=pair_set,
                                                   seed=auc_seed), 4)
        stats["same_genre_precision_at_10"] = round(
            same_author_precision(neighbours, _labels(prepared.infoboxes, "genre"), k=10), 4)
        stats["same_author_precision_at_5"] = round(
            same_author_precision(neighbours, _labels(prepared.infoboxes, "author"), k=5), 4)
        return stats

    # B R B R B ... B: every reference run is bracketed by a Bookvec run just before and just after it.
    bookvec_runs = [train("bookvec", "bookvec", bookvec_extra)]
    paired = []
    for number in range(1, pairs + 1):
        reference = train("reference", "reference", reference_extra)
        bookvec_runs.append(train("bookvec", "bookvec", bookvec_extra))
        before, after = bookvec_runs[-2], bookvec_runs[-1]
        ratios = [run["pairs_per_second"] / reference["pairs_per_second"] for run in (before, after)]
        paired.append({"pair": number, "bookvec_before": before, "reference": reference, "bookvec_after": after,
                       "throughput_ratio": round(min(ratios), 2),
                       "throughput_ratios_before_after": [round(ratio, 2) for ratio in ratios],
                       "cpu_ratio": round(reference["cpu_microseconds_per_pair"]
                                          / max(before["cpu_microseconds_per_pair"],
                                                after["cpu_microseconds_per_pair"]), 2)})
        print(f"pair {number} (bookvec, reference, bookvec): {min(ratios):.2f}x", flush=True)
    other = train(f"bookvec_{other_variant}", "bookvec", [*bookvec_extra, "--bookvec-variant", other_variant])
    rejecting = train("bookvec_reject_true_pairs", "bookvec", [*bookvec_extra, "--bookvec-reject-true-pairs"])

    bookvec, reference = bookvec_runs[0], paired[0]["reference"]
    ratios = [p["throughput_ratio"] for p in paired]
    reference_median = statistics.median(p["reference"]["pairs_per_second"] for p in paired)

    def quality_met(run: dict) -> bool:
        return (run["heldout_link_auc"] >= reference["heldout_link_auc"]
                and run["same_genre_precision_at_10"] >= reference["same_genre_precision_at_10"])

    return {
        "data": {"file": str(data), "books": len(prepared.titles), "links": len(prepared.links),
                 "pairs": len(pair_set), "pairs_with_repeats": len(prepared.pairs), "heldout_pairs": len(heldout)},
        "bookvec": bookvec,
        "bookvec_other_variant": other,
        "bookvec_reject_true_pairs": rejecting,
        "reference": reference,
        "paired_runs": [{"pair": p["pair"], "order": list(BRACKET), "throughput_ratio": p["throughput_ratio"],
                         "throughput_ratios_before_after": p["throughput_ratios_before_after"],
                         "cpu_ratio": p["cpu_ratio"],
                         **{f"{name}_{figure}": p[name][figure] for name in BRACKET
                            for figure in ("pairs_per_second", "train_seconds", "cpu_seconds",
                                           "cpu_microseconds_per_pair")},
                         "bookvec_heldout_link_auc": p["bookvec_before"]["heldout_link_auc"],
                         "reference_heldout_link_auc": p["reference"]["heldout_link_auc"],
                         "reference_same_genre_precision_at_10": p["reference"]["same_genre_precision_at_10"],
                         "load_average_at_start": {name: p[name]["load_average_at_start"] for name in BRACKET}}
                        for p in paired],
        "summary": {
            "throughput_ratio": min(ratios),
            "throughput_ratios": ratios,
            "throughput_target": TARGET,
            "throughput_met": min(ratios) >= TARGET,
            "cpu_ratio": min(p["cpu_ratio"] for p in paired),
            "cpu_microseconds_per_pair_bookvec": max(run["cpu_microseconds_per_pair"] for run in bookvec_runs),
            "cpu_microseconds_per_pair_reference": min(p["reference"]["cpu_microseconds_per_pair"] for p in paired),
            "wall_time_ratio": round(reference["train_seconds"] / bookvec["train_seconds"], 2),
            "auc_bookvec": bookvec["heldout_link_auc"],
            "auc_reference": reference["heldout_link_auc"],
            "genre_p10_bookvec": bookvec["same_genre_precision_at_10"],
            "genre_p10_reference": reference["same_genre_precision_at_10"],
            "quality_met": quality_met(bookvec),
            "other_variant": other_variant,
            "other_variant_throughput_ratio": round(other["pairs_per_second"] / reference_median, 2),
            "other_variant_auc": other["heldout_link_auc"],
            "other_variant_genre_p10": other["same_genre_precision_at_10"],
            "other_variant_quality_met": quality_met(other),
            "reject_true_pairs_throughput_ratio": round(rejecting["pairs_per_second"] / reference_median, 2),
            "reject_true_pairs_auc": rejecting["heldout_link_auc"],
            "reject_true_pairs_genre_p10": rejecting["same_genre_precision_at_10"],
        },
    }


def _pairs_and_heldout(prepared):
    """The distinct pairs as a PairSet and the pairs Bookvec's default params hold out (same for both)."""
    from recommender.training import PairSet, TrainingParams, split_holdout

    array = np.asarray(prepared.pairs, dtype=np.int64).reshape(-1, 2)
    pairs = PairSet.build(array[:, 0], array[:, 1], n_books=len(prepared.titles), n_links=len(prepared.links))
    params = TrainingParams()
    _, heldout = split_holdout(pairs.with_shelf_weight(params.shelf_weight), params.holdout_fraction, params.seed)
    return pairs, heldout


def _train_in_this_process(args) -> None:
    from recommender.training import TrainingParams, train_embeddings

    prepared = prepare(read_books(args.data))
    pairs, heldout = _pairs_and_heldout(prepared)
    if args.worker == "bookvec":
        params = TrainingParams(**({"epochs": args.bookvec_epochs} if args.bookvec_epochs else {}),
                                **({"variant": args.bookvec_variant} if args.bookvec_variant else {}),
                                **(REGRESSION_RATE if args.bookvec_variant == "regression" else {}),
                                reject_true_pairs=args.bookvec_reject_true_pairs)
        result = train_embeddings(pairs, params)
        negatives = params.group_size - 1 + 2 * params.drawn_negatives
        stats = {
            "trainer": "bookvec", "params": params.to_dict(), "epochs": result.epochs,
            "train_seconds": round(result.seconds, 2), "pairs_per_second": round(result.pairs_per_second),
            "cpu_seconds": round(result.cpu_seconds, 2),
            "cpu_microseconds_per_pair": round(result.cpu_seconds / (result.pairs_per_second * result.seconds) * 1e6, 3),
            "negatives_per_true_pair": negatives,
            "examples_per_second": round(result.pairs_per_second * (1 + negatives)),
            "epoch_seconds_mean": round(result.seconds / result.epochs, 2),
            "loss_history": [round(x, 5) for x in result.history],
            "trainer_reported_auc": result.heldout_auc,
        }
        book_vectors, link_vectors = result.book_vectors, result.link_vectors
    else:
        heldout_codes = set(heldout.codes().tolist())
        n_links = len(prepared.links)
        training_pairs = [pair for pair in prepared.pairs if pair[0] * n_links + pair[1] not in heldout_codes]
        classification = args.reference_variant == "classification"
        cpu_started = time.process_time()
        result = train_reference(training_pairs, len(prepared.titles), n_links, epochs=args.reference_epochs,
                                 classification=classification)
        cpu_seconds = time.process_time() - cpu_started  # model building and fit: the loop's CPU, give or take
        stats = {
            "trainer": "reference", "variant": args.reference_variant, "seed": 100, "epochs": args.reference_epochs,
            "embedding_size": 50, "positives_per_step": 1024, "negatives_per_step": 2048, "negatives_per_true_pair": 2,
            "train_seconds": round(result.seconds, 2), "pairs_per_second": round(result.pairs_per_second),
            "cpu_seconds": round(cpu_seconds, 2),
            "cpu_microseconds_per_pair": round(cpu_seconds / (result.pairs_per_second * result.seconds) * 1e6, 3),
            "examples_per_second": round(result.pairs_per_second * 3),
            "epoch_seconds": [round(s, 2) for s in result.epoch_seconds],
            "epoch_seconds_mean": round(result.seconds / args.reference_epochs, 2),
            "loss_history": [round(x, 5) for x in result.history],
        }
        book_vectors, link_vectors = result.book_vectors, result.link_vectors
    stats["peak_rss_mib"] = round(_peak_rss_mib(), 1)
    stats["peak_rss_source"] = "VmHWM"
    np.savez(args.out, book_vectors=book_vectors, link_vectors=link_vectors, stats=json.dumps(stats))


def _peak_rss_mib() -> float:
    """This process's own peak resident memory: ``VmHWM``, which starts afresh at ``exec``. (``ru_maxrss`` keeps
    the parent's peak at the fork, so every trainer after the first reported this process's evaluation peak.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return own_peak_rss_mib()


def _labels(infoboxes: list[dict], field: str) -> list[str]:
    """A cleaned infobox field per book ("[[Science fiction]]" -> "science fiction"); "" when absent."""
    labels = []
    for infobox in infoboxes:
        value = infobox.get(field, "") if isinstance(infobox, dict) else ""
        value = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", str(value))
        labels.append(" ".join(value.split()).lower())
    return labels


if __name__ == "__main__":
    sys.exit(main())
