"""What collapsing series and spreading authors (``recommender.training.reranking``, the For you page's re-ranking)
costs in shelf recall on goodbooks-10k readers, with the protocol of ``bench/quality/goodbooks.py``.

The shelf model is fitted as ``goodbooks.py``'s ``shelf_model`` run (same seed, same training readers); each
validation reader's visible shelf gets the model's top 20 (as served without re-ranking), and the model's top
``3 × 20 + 20`` re-ranked with the goodbooks titles' series ("(The Hunger Games, #1)", ``books.series``) and first
authors, cut to 20 (as served with ``collapse``). Recall@20 / NDCG@20 are averaged over the same readers, on the
want-to-read protocol (the bar's) and on their whole shelves; the difference is given with a 95 % interval of the
paired per-reader differences, so that "beyond noise" is a figure; each of the re-ranking's two parts (series, authors)
is also measured alone, and the series part for the series the reader has started only. Also counted: how many lists hold two books of one
series, or a box set of a series the reader shelved, and the most books of one author in the first six.

Usage: python bench/quality/series_reranking.py --data ../shared/data/goodbooks
Writes bench/results/quality_series_reranking.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")  # books.series reads no database here

import django  # noqa: E402

django.setup()

from bench.quality.goodbooks import K, load_goodbooks, measured, shelf_model_shelves  # noqa: E402
from books.series import series_key, series_of_title  # noqa: E402
from books.text import fold  # noqa: E402
from recommender.selectors.recommendations import COLLAPSE_OVERFETCH  # noqa: E402
from recommender.training import TrainingParams  # noqa: E402
from recommender.training.reranking import BookFacts, rerank  # noqa: E402
from recommender.training.shelf_model import recommend_from_shelf_model, train_shelf_model  # noqa: E402

FIRST_ROW = 6


def book_facts(titles: list[str], authors: list[str]) -> dict[int, BookFacts]:
    """Every goodbooks book's series (from its title's suffix) and first author, by book index."""
    facts = {}
    for index, (title, author) in enumerate(zip(titles, authors)):
        mark = series_of_title(title)
        facts[index] = BookFacts(series_key(mark.name) if mark else None, mark.position if mark else None,
                                 mark.position_end if mark else None, fold(author))
    return facts


def started_only(facts: dict[int, BookFacts], ranked: list[int], shelf: list[int]) -> dict[int, BookFacts]:
    """``facts`` of the ranked and shelved books, with the series the shelf has not started left out (their books
    stay as ranked: only a shelved series collapses)."""
    started = {facts[book].series for book in shelf if facts[book].series is not None}
    return {book: facts[book] if facts[book].series in started else BookFacts(author=facts[book].author)
            for book in (*ranked, *shelf)}


def per_reader(lists: list[np.ndarray], cases) -> tuple[np.ndarray, np.ndarray]:
    """Recall@K and NDCG@K of each reader's list (readers with hidden books)."""
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    recalls, ndcgs = [], []
    for recommended, case in zip(lists, cases):
        hits = np.isin(np.asarray(recommended)[:K], case.hidden)
        ideal = min(len(case.hidden), K)
        recalls.append(hits.sum() / ideal)
        ndcgs.append((discounts[: len(hits)] * hits).sum() / discounts[:ideal].sum())
    return np.asarray(recalls), np.asarray(ndcgs)


def paired(before: np.ndarray, after: np.ndarray) -> dict:
    difference = after - before
    half_width = 1.96 * difference.std(ddof=1) / np.sqrt(len(difference))
    return {"without": float(before.mean()), "with": float(after.mean()), "difference": float(difference.mean()),
            "difference_95ci": [float(difference.mean() - half_width), float(difference.mean() + half_width)],
            "relative_change": float(difference.mean() / before.mean()) if before.mean() else None}


def repeats(lists: list[np.ndarray], cases, facts: dict[int, BookFacts]) -> dict:
    """How often a list repeats what the reader has: two books of a series, a box set of a series on the shelf, one
    author three or more times in the first row."""
    two_of_series = box_of_shelved = author_three = 0
    for recommended, case in zip(lists, cases):
        series = [facts[b].series for b in recommended[:K] if facts[b].series is not None]
        two_of_series += len(series) != len(set(series))
        shelved = {facts[b].series for b in case.visible if facts[b].series is not None}
        box_of_shelved += any(facts[b].position_end is not None and facts[b].series in shelved for b in recommended[:K])
        shelf_authors = {facts[b].author for b in case.visible}
        counts = Counter(facts[b].author for b in recommended[:FIRST_ROW])
        author_three += any(n >= 3 and not (shelf_authors == {a}) for a, n in counts.items())
    n = len(lists)
    return {"lists_with_two_books_of_one_series": two_of_series / n,
            "lists_with_a_box_set_of_a_shelved_series": box_of_shelved / n,
            "lists_with_three_of_one_author_in_the_first_row": author_three / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared/data/goodbooks")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "results/quality_series_reranking.json")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--validation-users", type=int, default=6800)
    parser.add_argument("--tuning-users", type=int, default=2000)
    args = parser.parse_args()

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    params = TrainingParams(seed=args.seed)
    log(f"loading {args.data}")
    data = load_goodbooks(args.data, params, n_validation=args.validation_users, n_tuning=args.tuning_users,
                          seed=args.seed)
    facts = book_facts(data["titles"], data["authors"])
    in_series = sum(fact.series is not None for fact in facts.values())
    log(f"{in_series} of {len(facts)} books in {len({f.series for f in facts.values()} - {None})} series")
    started = time.perf_counter()
    model = train_shelf_model(shelves=shelf_model_shelves(data, params), content=data["content"], params=params,
                              on_stage=log)
    log(f"shelf model: {len(model)} books, {time.perf_counter() - started:.0f}s")
    fetched = K * COLLAPSE_OVERFETCH + 20
    results = {"protocol": __doc__.split("\n\n")[1].replace("\n", " "), "k": K, "fetched_for_reranking": fetched,
               "books_in_series": in_series, "readers": {}, "measured": measured()}
    no_series = {index: BookFacts(author=fact.author) for index, fact in facts.items()}
    variants = {  # the whole re-ranking (as served), and each of its two parts alone
        "series_and_authors": lambda ranked, shelf: rerank(ranked, facts=facts, shelf=shelf),
        "series_only": lambda ranked, shelf: rerank(ranked, facts=facts, shelf=shelf, per_author=K),
        "authors_only": lambda ranked, shelf: rerank(ranked, facts=no_series, shelf=shelf),
        "shelved_series_only": lambda ranked, shelf: rerank(ranked, facts=started_only(facts, ranked, shelf),
                                                            shelf=shelf, per_author=K),
    }
    for part in ("validation", "whole_shelves"):
        cases = [case for case in data[part] if len(case.hidden)]
        ranked_lists = [recommend_from_shelf_model(model, case.visible, fetched).tolist() for case in cases]
        plain = [np.asarray(ranked[:K]) for ranked in ranked_lists]
        recall_before, ndcg_before = per_reader(plain, cases)
        results["readers"][part] = {"users": len(cases), "repeats_without": repeats(plain, cases, facts)}
        for name, reranked_by in variants.items():
            started = time.perf_counter()
            reranked = [np.asarray(reranked_by(ranked, case.visible.tolist())[:K])
                        for ranked, case in zip(ranked_lists, cases)]
            seconds = time.perf_counter() - started
            recall_after, ndcg_after = per_reader(reranked, cases)
            results["readers"][part][name] = {
                f"recall@{K}": paired(recall_before, recall_after), f"ndcg@{K}": paired(ndcg_before, ndcg_after),
                "lists_changed": float(np.mean([not np.array_equal(a, b) for a, b in zip(plain, reranked)])),
                "repeats_with": repeats(reranked, cases, facts), "rerank_ms_per_reader": 1000 * seconds / len(cases),
            }
        log(f"{part}: {json.dumps(results['readers'][part])}")
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
