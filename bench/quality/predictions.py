"""Predicting what the catalogue is missing from the book vectors, on the real data: the model vs three baselines.

For the Wikipedia books and for goodbooks-10k separately, read from the files as the importers read them (genres of
the vocabulary: ``books.importers.infobox.parse_infobox`` + ``books.genres.genres_of`` for an infobox,
``books.importers.goodbooks.genre_from_tags`` for goodbooks' tags; country and language as the importers normalise
them), each seed trains the book–link embeddings with the default parameters (Wikipedia: the articles' links;
goodbooks: the tags and the readers' shelves, to-read and rated, as a training run reads them) and measures the
prediction stage's model (``recommender.training.predictions``) by k-fold cross-validation: the labelled books of a
field in ``--folds`` seeded folds, each fold held out once and scored by the stage's model and, trained on the same
other folds, (a) the most frequent class, (b) a 10-nearest-neighbour vote on the same vectors and (c) logistic
regression on the books' TF-IDF links; also the mean of the model's and the vote's probabilities ("blend"). Every
labelled book is held out once, so the figures and their paired bootstrap 95 % intervals are over all of them (the
stage itself holds out one fifth). Per seed, and pooled over the seeds book by book (each book's outcome averaged
over the seeds, the bootstrap over the books).

Then, from the first seed's run of the stage itself (``predict_book_fields``, as a training run calls it): the share of books with a genre (given, or predicted at
``SHOWN_CONFIDENCE`` or more) before and after, and the map's "Other"/"Not given" shares before and after (the map's
legend: the 12 most common first genres; with predictions, a book without a given genre takes its best shown one).

Usage: python -m bench.quality.predictions --data ../shared/data [--seeds 1,2,3] [--folds 5]
       [--only wikipedia|goodbooks]
Writes bench/results/predictions.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench.support.common import RESULTS_DIR, write_result
from recommender.training import PairSet, TrainingParams, links_to_keep, normalise_link_name, train_embeddings
from recommender.training import predictions as stage
from recommender.training.predictions import SHOWN_CONFIDENCE, FieldLabels, headline, predict_book_fields

LEGEND_SIZE = 12  # recommender.exports.LEGEND_SIZE (the map's own colours)
METHODS = ("model", "majority", "knn", "logreg", "blend")
"""The stage's model, the three baselines and the mean of the model's and the vote's probabilities."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the folder with wikipedia/ and goodbooks/")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--only", choices=("wikipedia", "goodbooks"))
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds of the labelled books")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()  # goodbooks' genre-of-tag table lives in its importer; nothing here touches the database
    seeds = [int(seed) for seed in args.seeds.split(",")]
    path = RESULTS_DIR / "predictions.json"
    results = {}
    loaders = {"wikipedia": lambda: wikipedia_books(args.data / "wikipedia" / "p15_books.ndjson"),
               "goodbooks": lambda: goodbooks_books(args.data / "goodbooks")}
    for name, load in loaders.items():
        if args.only and name != args.only:
            continue
        log(f"{name}: reading")
        catalogue = load()
        results[name] = measure(name, catalogue, seeds, args.folds)
    # The other catalogue's figures are kept (read now: a run of the other one may have finished meanwhile).
    kept = json.loads(path.read_text()) if path.exists() else {}
    results = {**{name: kept[name] for name in ("wikipedia", "goodbooks") if name in kept}, **results}
    write_result("predictions", {"shown_confidence": SHOWN_CONFIDENCE, **results})
    log(f"wrote {path}")


def measure(name: str, catalogue: dict, seeds: list[int], folds: int) -> dict:
    per_seed, outcomes, first = [], {}, None
    for seed in seeds:
        params = TrainingParams(seed=seed)
        content = content_pairs(catalogue["links"], catalogue["link_counts"], params)
        pairs = content
        if catalogue.get("shelves") is not None:
            pairs = PairSet.combine(content, catalogue["shelves"])
        clock = time.perf_counter()
        trained = train_embeddings(pairs, params)
        trained_s = time.perf_counter() - clock
        fields = [FieldLabels.from_values("genre", catalogue["genres"], multi_label=True),
                  FieldLabels.from_values("country", [[c] for c in catalogue["countries"]], multi_label=False),
                  FieldLabels.from_values("language", [[v] for v in catalogue["languages"]], multi_label=False)]
        vectors = stage.normalised(np.asarray(trained.book_vectors, dtype=np.float32))
        tfidf = stage.tfidf_features(content, len(vectors))
        clock = time.perf_counter()
        metrics = {}
        for number, field in enumerate(fields):
            metrics[field.field], books = cross_validated(field, vectors, tfidf, folds,
                                                          seed=stage.field_seed_of(seed, number))
            for method, per_book in books.items():
                outcomes.setdefault(field.field, {}).setdefault(method, []).append(per_book)
        validated_s = time.perf_counter() - clock
        log(f"{name} seed {seed}: embeddings {trained_s:.0f} s, {folds}-fold predictions {validated_s:.0f} s: "
            + "; ".join(f"{field}: " + ", ".join(
                f"{method} {figures[method][headline(field)]:.3f}" for method in METHODS)
                for field, figures in metrics.items() if "model" in figures))
        per_seed.append({"seed": seed, "embedding_seconds": round(trained_s, 1),
                         "cross_validation_seconds": round(validated_s, 1), "metrics": metrics})
        if first is None:  # the stage itself, as a run makes its predictions: for the coverage figures
            clock = time.perf_counter()
            first = predict_book_fields(book_vectors=trained.book_vectors, fields=fields,
                                        sources=[name] * len(trained.book_vectors), content=content, seed=seed)
            per_seed[0]["stage_seconds"] = round(time.perf_counter() - clock, 1)
    return {
        "seeds": seeds,
        "folds": folds,
        "books": len(catalogue["genres"]),
        "books_with_links": int(np.sum(np.bincount(content.book_index, minlength=content.n_books) > 0)),
        "mean_over_seeds": mean_figures([run["metrics"] for run in per_seed]),
        "pooled_over_seeds": pooled_figures(fields, outcomes),
        "per_seed": per_seed,
        "coverage": coverage(catalogue, first),
    }


def cross_validated(field: FieldLabels, vectors: np.ndarray, tfidf, folds: int, *, seed: int) -> tuple[dict, dict]:
    """The field's figures with every labelled book held out once: the labelled books in ``folds`` seeded folds,
    each scored by the stage's model and the baselines trained on the other folds (``heldout_scores``), then the
    figures and paired bootstrap intervals over all of them. Also each method's per-book outcomes
    (``book_outcomes``), for the figures pooled over seeds."""
    labelled = stage.labelled_books(field)
    skipped = stage.skipped_because(field, labelled)
    if skipped:
        return {"skipped": skipped}, {}
    truth = stage.indicator(field)
    scores = {method: np.zeros((len(vectors), len(field.classes))) for method in METHODS}
    for fold, (train, test) in enumerate(folds_of(labelled, folds, seed=seed)):
        _, fold_scores = stage.heldout_scores(field, vectors, tfidf, train, test, seed=fold_seed(seed, fold))
        for method, score in fold_scores.items():
            scores[method][test] = score
    scores["blend"] = (scores["model"] + scores["knn"]) / 2
    scores = {method: score[labelled] for method, score in scores.items()}
    figures = stage.heldout_figures(field, truth[labelled], scores, np.zeros(len(labelled)), seed=seed)
    books = {method: stage.book_outcomes(field, truth[labelled], score) for method, score in scores.items()}
    figures["blend_minus_knn"] = stage.bootstrap_difference(field, books["blend"], books["knn"], seed=seed)
    return {"labelled_books": int(len(labelled)), "folds": folds, "classes": len(field.classes), **figures}, books


def folds_of(labelled: np.ndarray, folds: int, *, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (training, held-out) books of each of ``folds`` seeded folds of ``labelled``, each sorted."""
    shuffled = np.random.default_rng([seed, 23]).permutation(labelled)
    return [(np.setdiff1d(labelled, test), np.sort(test)) for test in np.array_split(shuffled, folds)]


def fold_seed(seed: int, fold: int) -> int:
    """The seed of a fold's model in a cross-validation of the field seed ``seed``."""
    return seed * 10 + fold


def pooled_figures(fields: list[FieldLabels], outcomes: dict) -> dict:
    """Each field's figures over every seed at once: each book's outcome averaged over the seeds, and the
    differences with a paired bootstrap 95 % interval over the books (the seeds' embeddings and models vary
    inside it; the books are the sample)."""
    pooled = {}
    for field in fields:
        if field.field not in outcomes:
            continue
        mean = {method: np.mean(runs, axis=0) for method, runs in outcomes[field.field].items()}
        pooled[field.field] = {
            "heldout_books": int(mean["model"].shape[1]),
            **{method: round(float(stage.outcomes_figure(field, per_book)), 4) for method, per_book in mean.items()},
            **{f"{first}_minus_{second}": stage.bootstrap_difference(field, mean[first], mean[second], seed=0)
               for first, second in (("model", "knn"), ("model", "logreg"), ("model", "majority"),
                                     ("blend", "knn"), ("blend", "model"))}}
    return pooled


def mean_figures(runs: list[dict]) -> dict:
    """Each field's figures averaged over the seeds (the model's differences to (b) and (c), and the blend's to
    (b), with each seed's interval)."""
    means = {}
    for field, figures in runs[0].items():
        if "model" not in figures:
            means[field] = figures
            continue
        means[field] = {method: {metric: round(float(np.mean([run[field][method][metric] for run in runs
                                                               if run[field][method].get(metric) is not None])), 4)
                                 for metric in figures[method]}
                        for method in METHODS}
        means[field]["heldout_books"] = figures["heldout_books"]
        for key in ("model_minus_knn", "model_minus_logreg", "blend_minus_knn"):
            means[field][key] = {
                "difference": round(float(np.mean([run[field][key]["difference"] for run in runs])), 4),
                "ci95_per_seed": [run[field][key]["ci95"] for run in runs]}
    return means


def coverage(catalogue: dict, result) -> dict:
    """Books with a genre and the map's Other/Not given shares, before and after the shown predictions."""
    given = [genres[0] if genres else "" for genres in catalogue["genres"]]
    best: dict[int, tuple[float, str]] = {}
    for prediction in result.predictions:
        if prediction.field == "genre" and prediction.confidence >= SHOWN_CONFIDENCE:
            if prediction.confidence > best.get(prediction.book_index, (0.0, ""))[0]:
                best[prediction.book_index] = (prediction.confidence, prediction.value)
    after = [value or best.get(i, (0.0, ""))[1] for i, value in enumerate(given)]
    legend = [name for name, _ in Counter(v for v in given if v).most_common(LEGEND_SIZE)]

    def shares(values: list[str]) -> dict:
        n = len(values)
        return {"with_genre": round(sum(1 for v in values if v) / n, 4),
                "map_other": round(sum(1 for v in values if v and v not in legend) / n, 4),
                "map_not_given": round(sum(1 for v in values if not v) / n, 4)}

    fields = {}
    for field in ("country", "language"):
        values = catalogue["countries" if field == "country" else "languages"]
        shown = {p.book_index for p in result.predictions if p.field == field and p.confidence >= SHOWN_CONFIDENCE}
        fields[field] = {"given": round(sum(1 for v in values if v) / len(values), 4),
                         "given_or_predicted": round(sum(1 for i, v in enumerate(values) if v or i in shown)
                                                     / len(values), 4)}
    return {"books": len(given), "genre_before": shares(given), "genre_after": shares(after),
            "genre_predicted_books": len(best), **fields}


def content_pairs(links: list[list[str]], counts: list[list[int]], params: TrainingParams) -> PairSet:
    """(book, link) pairs after the removal list and ``min_books_per_link``, as a training run keeps them."""
    book_index = np.repeat(np.arange(len(links)), [len(names) for names in links])
    vocabulary, link_index = np.unique([name for names in links for name in names], return_inverse=True)
    weight = np.array([count for book in counts for count in book], dtype=np.float64)
    pairs = PairSet.build(book_index, link_index, n_books=len(links), n_links=len(vocabulary), weight=weight)
    keep = links_to_keep(list(vocabulary), np.bincount(pairs.link_index, minlength=len(vocabulary)), params)
    new_index = np.cumsum(keep) - 1
    kept = keep[pairs.link_index]
    return PairSet.build(pairs.book_index[kept], new_index[pairs.link_index[kept]], n_books=len(links),
                         n_links=int(keep.sum()), weight=pairs.weight[kept])


def wikipedia_books(path: Path) -> dict:
    from books.genres import genres_of
    from books.importers.infobox import parse_infobox
    from books.importers.wikipedia import is_non_article

    links, link_counts, genres, countries, languages = [], [], [], [], []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            title, infobox, wikilinks, *_ = json.loads(line)
            if is_non_article(title):
                continue
            fields = parse_infobox({str(k): str(v) for k, v in infobox.items()})
            counted = Counter(normalise_link_name(link) for link in wikilinks)
            counted.pop("", None)
            links.append(list(counted))
            link_counts.append(list(counted.values()))
            genres.append(genres_of(fields.genre))
            countries.append(fields.country)
            languages.append(fields.language)
    return {"links": links, "link_counts": link_counts, "genres": genres, "countries": countries,
            "languages": languages, "shelves": None}


def goodbooks_books(folder: Path) -> dict:
    from books.genres import genres_of
    from books.importers.goodbooks import genre_from_tags
    from books.importers.normalise import normalise_language

    with open(folder / "books.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    index_of_goodreads = {int(row["goodreads_book_id"]): i for i, row in enumerate(rows)}
    index_of_book = {int(row["book_id"]): i for i, row in enumerate(rows)}
    with open(folder / "tags.csv", newline="", encoding="utf-8") as f:
        tag_names = {int(row["tag_id"]): normalise_link_name(row["tag_name"]) for row in csv.DictReader(f)}
    tags: list[dict[str, int]] = [{} for _ in rows]
    for goodreads, tag, count in np.loadtxt(folder / "book_tags.csv", delimiter=",", skiprows=1, dtype=np.int64):
        book = index_of_goodreads.get(int(goodreads))
        name = tag_names.get(int(tag), "")
        if book is not None and name and int(count) > 0:
            tags[book][name] = tags[book].get(name, 0) + int(count)
    readers, books = [], []
    for name in ("to_read.csv", "ratings.csv"):
        table = np.loadtxt(folder / name, delimiter=",", skiprows=1, dtype=np.int64, usecols=(0, 1))
        readers.append(table[:, 0])
        books.append(np.array([index_of_book.get(int(book), -1) for book in table[:, 1]]))
    readers, books = np.concatenate(readers), np.concatenate(books)
    readers, books = readers[books >= 0], books[books >= 0]
    reader_ids, reader_index = np.unique(readers, return_inverse=True)
    sizes = np.bincount(reader_index)
    two = sizes[reader_index] >= 2  # a reader with one book teaches nothing (as a training run reads shelves)
    shelves = PairSet.build(books[two], reader_index[two], n_books=len(rows), n_links=len(reader_ids))
    return {
        # A tag's pair counts 1, as a training run reads goodbooks pairs (its count is users, not repeats).
        "links": [list(book) for book in tags], "link_counts": [[1] * len(book) for book in tags],
        "genres": [genres_of(genre_from_tags({name: (name, "tag", count) for name, count in book.items()}))
                   for book in tags],
        "countries": [""] * len(rows),
        "languages": [normalise_language(row.get("language_code", "")) for row in rows],
        "shelves": shelves,
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


if __name__ == "__main__":
    main()
