"""Similar-book quality on the 1,413 Wikipedia books: same-author precision@5, genre and country kNN.

A book's links are its article's wikilinks, normalised (lower-case, whitespace folded), minus the removal
list, kept when at least ``min_books_per_link`` books use them. Authors come from the infobox "author"
(wiki markup stripped); precision@5 counts, for books whose author wrote at least 2 of the books, how many
of their 5 nearest books share the author. TF-IDF on the same links (cosine) and the original notebook's
training (``bench.support.original_reference``) are measured in the same run.

Usage: python bench/quality/wikipedia.py --data ../shared/data/wikipedia/p15_books.ndjson
Writes bench/results/quality_wikipedia.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.support.original_reference import train_reference_on_pair_set  # noqa: E402
from recommender.training import (  # noqa: E402
    PairSet,
    TrainingParams,
    links_to_keep,
    normalise_link_name,
    train_embeddings,
)
from recommender.training.evaluation import label_knn_accuracy, nearest_neighbours, same_author_precision  # noqa: E402

EXAMPLES = ("The Son of Tarzan", "The League of the Scarlet Pimpernel", "Dragonsdawn", "King Conan",
            "Blonde (novel)", "Where's Wally? (book)")
"""Well-known books of the sample whose 5 nearest books (default run, first seed) the results list."""

ORIGINAL = {"min_books_per_link": 4}
"""The original method's data: links used by at least 4 books; it is trained by ``bench.support.original_reference``
(the notebook's generator and Keras model: 50-d, Adam, 15 epochs, 1,024 pairs + 2,048 negatives a step)."""


def clean_infobox_value(value: str | None) -> str:
    """'[[Science fiction|SF]] novel <!-- x -->' -> 'sf novel': markup and comments removed, lower-cased."""
    if not value:
        return ""
    value = re.sub(r"<\s*!--.*?(--\s*>|$)", " ", value, flags=re.S)
    value = re.sub(r"\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2", value)
    value = re.split(r"<br\s*/?>|\n|\{\{", value)[0]
    return normalise_link_name(re.sub(r"[\[\]']", "", value)).strip(" ,.;")


def load_books(path: Path) -> list[dict]:
    books = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            title, infobox, wikilinks, _extlinks, _timestamp, _length = json.loads(line)
            books.append({
                "title": title,
                "author": clean_infobox_value(infobox.get("author")),
                "genre": clean_infobox_value(infobox.get("genre")),
                "country": clean_infobox_value(infobox.get("country")),
                "links": [normalise_link_name(link) for link in wikilinks],
            })
    return books


def content_pairs(books: list[dict], params: TrainingParams) -> PairSet:
    """(book, wikilink) pairs after the removal list and ``min_books_per_link``."""
    book_index = np.repeat(np.arange(len(books)), [len(b["links"]) for b in books])
    vocabulary, link_index = np.unique([link for b in books for link in b["links"]], return_inverse=True)
    # As the importer stores them: one pair per (book, link) with how many times the article links it.
    unique_codes, counts = np.unique(book_index * len(vocabulary) + link_index, return_counts=True)
    pairs = PairSet.build(unique_codes // len(vocabulary), unique_codes % len(vocabulary), n_books=len(books),
                          n_links=len(vocabulary), weight=counts)
    keep = links_to_keep(list(vocabulary), np.bincount(pairs.link_index, minlength=len(vocabulary)), params)
    new_index = np.cumsum(keep) - 1
    kept = keep[pairs.link_index]
    return PairSet.build(pairs.book_index[kept], new_index[pairs.link_index[kept]], n_books=len(books),
                         n_links=int(keep.sum()), weight=pairs.weight[kept])


def tfidf_vectors(pairs: PairSet) -> np.ndarray:
    """L2-normalised TF-IDF rows of the book x link matrix (binary term frequency, smooth idf)."""
    matrix = sp.csr_matrix((np.ones(len(pairs)), (pairs.book_index, pairs.link_index)),
                           shape=(pairs.n_books, pairs.n_links))
    idf = np.log((1 + pairs.n_books) / (1 + np.bincount(pairs.link_index, minlength=pairs.n_links))) + 1
    dense = (matrix @ sp.diags(idf)).toarray()
    return (dense / np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def quality(vectors: np.ndarray, books: list[dict], has_links: np.ndarray) -> dict:
    """Same-author precision@5 and genre/country 10-NN accuracy among books that have links."""
    index = np.flatnonzero(has_links)
    ids, _ = nearest_neighbours(vectors[index], 10)
    pick = [books[i] for i in index]
    return {
        "same_author_precision@5": same_author_precision(ids, [b["author"] for b in pick], k=5),
        "genre_knn_accuracy@10": label_knn_accuracy(ids, [b["genre"] for b in pick], k=10),
        "country_knn_accuracy@10": label_knn_accuracy(ids, [b["country"] for b in pick], k=10),
        "books": len(index),
    }


def nearest_titles(vectors: np.ndarray, books: list[dict], has_links: np.ndarray, titles: tuple[str, ...],
                   k: int = 5) -> dict[str, list[str]]:
    """The titles of the ``k`` nearest books (cosine, among books with links) of each title in ``titles``."""
    index = np.flatnonzero(has_links)
    unit = vectors[index] / np.maximum(np.linalg.norm(vectors[index], axis=1, keepdims=True), 1e-12)
    at = {books[i]["title"]: row for row, i in enumerate(index)}
    examples = {}
    for title in (t for t in titles if t in at):
        similarity = unit @ unit[at[title]]
        similarity[at[title]] = -np.inf
        examples[title] = [books[index[row]]["title"] for row in np.argsort(-similarity, kind="stable")[:k]]
    return examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[3] / "shared/data/wikipedia/p15_books.ndjson")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "results/quality_wikipedia.json")
    parser.add_argument("--seeds", default="42,7,2024,1,2,3", help="comma-separated seeds; figures are averaged")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    books = load_books(args.data)
    log(f"{len(books)} books, {sum(len(b['links']) for b in books)} wikilinks")
    runs = {
        "original_method": ORIGINAL,
        "default": {},
        "default_15_epochs": {"min_steps": 0},
        "default_min_books_3": {"min_books_per_link": 3},
        "default_min_books_4": {"min_books_per_link": 4},
        "default_regression": {"variant": "regression"},
        "default_dim_50": {"embedding_dim": 50},
        "default_reject_true_pairs": {"reject_true_pairs": True},
    }
    results: dict = {"baselines": {}, "runs": {}}
    for min_books in (2, 4):
        pairs = content_pairs(books, TrainingParams(min_books_per_link=min_books))
        has_links = np.bincount(pairs.book_index, minlength=len(books)) > 0
        results["baselines"][f"tfidf_links_min_books_{min_books}"] = quality(tfidf_vectors(pairs), books, has_links)
        log(f"TF-IDF (min books {min_books}): {results['baselines'][f'tfidf_links_min_books_{min_books}']}")

    for name, overrides in runs.items():
        per_seed = []
        for seed in seeds:
            params = TrainingParams.from_dict({**TrainingParams().to_dict(), **overrides, "seed": seed})
            pairs = content_pairs(books, params)
            has_links = np.bincount(pairs.book_index, minlength=len(books)) > 0
            if name == "original_method":
                reference = train_reference_on_pair_set(pairs, seed=seed)
                per_seed.append({**quality(reference.book_vectors, books, has_links),
                                 "training_seconds": reference.seconds, "pairs": len(pairs)})
                continue
            trained = train_embeddings(pairs, params)
            per_seed.append({**quality(trained.book_vectors, books, has_links), "heldout_link_auc": trained.heldout_auc,
                             "training_seconds": trained.seconds, "pairs": len(pairs)})
            if name == "default" and seed == seeds[0]:
                results["examples"] = nearest_titles(trained.book_vectors, books, has_links, EXAMPLES)
        summary = {key: float(np.mean([r[key] for r in per_seed])) for key in per_seed[0]}
        results["runs"][name] = {"overrides": overrides, "mean_over_seeds": summary, "per_seed": per_seed,
                                 "params": {k: v for k, v in params.to_dict().items()
                                            if k not in ("removed_links", "removed_link_patterns", "seed")}}
        log(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()))

    results["meta"] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "seeds": seeds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
