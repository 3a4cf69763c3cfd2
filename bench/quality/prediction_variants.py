"""What was tried to make the one-value fields' model (country, language) beat the neighbour vote on the Wikipedia
books: variants of ``recommender.training.predictions``' network, on the same embeddings and the same cross-validation
folds as ``bench.quality.predictions`` (every labelled book held out once), each variant's accuracy beside the 10-NN
vote's, with a paired bootstrap 95 % interval of its difference to the vote, per seed and pooled over the seeds.

* ``stage``: the network the stage trains (256 ReLU units, dropout 0.5, learning rate 0.001);
* ``linear``: no hidden layer (softmax regression on the vector, learning rate 0.01);
* ``stacked``: the vector and its labelled neighbours' vote as the input (each training book's vote leaves the book
  itself out; 256 units, dropout 0.5);
* ``blend``: the mean of the stage's probabilities and the neighbour vote.

Each is stopped early on the same inner tenth of the training books as the stage's network.

Usage: python -m bench.quality.prediction_variants --data ../shared/data [--seeds 1,2,3] [--folds 5]
Writes bench/results/prediction_variants.json.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from bench.quality.predictions import content_pairs, fold_seed, folds_of, log, wikipedia_books
from bench.support.common import write_result
from recommender.training import TrainingParams, train_embeddings
from recommender.training import predictions as stage

VARIANTS = ("stage", "linear", "stacked", "blend")
FIELDS = ((1, "country", "countries"), (2, "language", "languages"))
"""The stage's field numbers (its seeds: the same folds as the cross-validation of ``bench.quality.predictions``)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the folder with wikipedia/")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()  # the importers' parsers; nothing here touches the database
    catalogue = wikipedia_books(args.data / "wikipedia" / "p15_books.ndjson")
    runs, right, fields = [], {}, {}
    for seed in [int(seed) for seed in args.seeds.split(",")]:
        params = TrainingParams(seed=seed)
        content = content_pairs(catalogue["links"], catalogue["link_counts"], params)
        vectors = stage.normalised(np.asarray(train_embeddings(content, params).book_vectors, dtype=np.float32))
        for number, name, key in FIELDS:
            field = fields[name] = stage.FieldLabels.from_values(name, [[value] for value in catalogue[key]],
                                                                 multi_label=False)
            run, books = measure(field, vectors, args.folds, stage.field_seed_of(seed, number))
            runs.append({"seed": seed, "field": name, **run})
            for variant, outcomes in books.items():
                right.setdefault(name, {}).setdefault(variant, []).append(outcomes)
            log(f"seed {seed} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in run["accuracy"].items()))
    pooled = {}
    for name, by_variant in right.items():
        field = fields[name]
        mean = {variant: np.mean(outcomes, axis=0) for variant, outcomes in by_variant.items()}
        pooled[name] = {"heldout_books": int(mean["knn"].shape[1]),
                        "accuracy": {variant: round(float(m.mean()), 4) for variant, m in mean.items()},
                        "minus_knn": {variant: stage.bootstrap_difference(field, mean[variant], mean["knn"], seed=0)
                                      for variant in VARIANTS}}
    write_result("prediction_variants", {"folds": args.folds, "pooled_over_seeds": pooled, "runs": runs})


def measure(field: stage.FieldLabels, vectors: np.ndarray, folds: int, seed: int) -> tuple[dict, dict]:
    labelled = stage.labelled_books(field)
    truth = stage.indicator(field)
    scores = {variant: np.zeros((len(vectors), len(field.classes))) for variant in ("knn", *VARIANTS)}
    seconds = dict.fromkeys(VARIANTS, 0.0)
    for fold, (train, test) in enumerate(folds_of(labelled, folds, seed=seed)):
        model_seed = fold_seed(seed, fold)
        knn = stage._knn_scores(vectors[test], vectors[train], truth[train])
        scores["knn"][test] = knn
        stacked = {"train": np.hstack([vectors[train], _vote_leaving_out_self(vectors[train], truth[train])]),
                   "test": np.hstack([vectors[test], knn])}
        for variant in ("stage", "linear", "stacked"):
            clock = time.perf_counter()
            if variant == "stage":
                model = stage._fit_model(vectors[train], truth[train], multi_label=False, seed=model_seed)
                scores[variant][test] = stage._scores(model, vectors[test])
            else:
                features = stacked if variant == "stacked" else {"train": vectors[train], "test": vectors[test]}
                units, rate = {"linear": (0, 0.01), "stacked": (256, 0.001)}[variant]
                model = _fit(features["train"].astype(np.float32), truth[train], seed=model_seed, units=units,
                             rate=rate)
                scores[variant][test] = stage._scores(model, features["test"].astype(np.float32))
            seconds[variant] += time.perf_counter() - clock
    scores["blend"] = (scores["stage"] + scores["knn"]) / 2
    books = {variant: stage.book_outcomes(field, truth[labelled], score[labelled]) for variant, score in scores.items()}
    return {"heldout_books": int(len(labelled)),
            "accuracy": {variant: round(float(outcomes.mean()), 4) for variant, outcomes in books.items()},
            "minus_knn": {variant: stage.bootstrap_difference(field, books[variant], books["knn"], seed=seed)
                          for variant in VARIANTS},
            "seconds": {variant: round(value, 1) for variant, value in seconds.items()}}, books


def _vote_leaving_out_self(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    k = stage.KNN_NEIGHBOURS
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    weight = np.clip(np.take_along_axis(similarity, nearest, axis=1), 1e-6, None)
    return np.einsum("bk,bkc->bc", weight, y[nearest]) / weight.sum(1, keepdims=True)


def _fit(x: np.ndarray, y: np.ndarray, *, seed: int, units: int, rate: float):
    """The stage's fitting (``_fit_model``: the same inner split, batches and early stopping) for another network."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    hidden = [tf.keras.layers.Dense(units, activation="relu"), tf.keras.layers.Dropout(stage.DROPOUT[False])] if units else []
    model = tf.keras.Sequential([tf.keras.Input(shape=(x.shape[1],)), *hidden,
                                 tf.keras.layers.Dense(y.shape[1], activation="softmax")])
    order = np.random.default_rng([seed, 21]).permutation(len(x))
    n_validation = max(1, len(x) // 10)
    validation, fit = order[:n_validation], order[n_validation:]
    batch_size = int(np.clip(len(fit) // 16, 8, 256))
    repeated = np.tile(fit, stage.PASSES_PER_CHECK)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=rate), loss="categorical_crossentropy",
                  steps_per_execution=int(np.ceil(len(repeated) / batch_size)))
    checks = 20 // stage.PASSES_PER_CHECK
    model.fit(x[repeated], y[repeated], validation_data=(x[validation], y[validation]),
              epochs=stage.EPOCHS // stage.PASSES_PER_CHECK, batch_size=batch_size, verbose=0, shuffle=True,
              callbacks=[tf.keras.callbacks.EarlyStopping(patience=checks, start_from_epoch=checks,
                                                          restore_best_weights=True)])
    return model


if __name__ == "__main__":
    main()
