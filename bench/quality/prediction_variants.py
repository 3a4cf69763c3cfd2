"""What was tried to make the one-value fields' model (country, language) beat the neighbour vote on the Wikipedia
books: variants of ``recommender.training.predictions``' network, on the same embeddings, splits and held-out books
as the stage's own measurement, each seed's accuracy beside the 10-NN vote's.

* ``stage``: the network the stage trains (256 ReLU units, dropout 0.5, learning rate 0.001);
* ``linear``: no hidden layer (softmax regression on the vector, learning rate 0.01);
* ``l2``: the stage's network with an L2 penalty of 1e-4 on its weights;
* ``stacked``: the vector and its labelled neighbours' vote as the input (each training book's vote leaves the book
  itself out; 256 units, dropout 0.5);
* ``blend``: the mean of the stage's probabilities and the neighbour vote.

Each is stopped early on the same inner tenth of the training books as the stage's network.

Usage: python -m bench.quality.prediction_variants --data ../shared/data [--seeds 1,2,3]
Writes bench/results/prediction_variants.json.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from bench.quality.predictions import content_pairs, log, wikipedia_books
from bench.support.common import write_result
from recommender.training import TrainingParams, train_embeddings
from recommender.training import predictions as stage

VARIANTS = ("stage", "linear", "l2", "stacked", "blend")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the folder with wikipedia/")
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()  # the importers' parsers; nothing here touches the database
    catalogue = wikipedia_books(args.data / "wikipedia" / "p15_books.ndjson")
    runs = []
    for seed in [int(seed) for seed in args.seeds.split(",")]:
        params = TrainingParams(seed=seed)
        content = content_pairs(catalogue["links"], catalogue["link_counts"], params)
        vectors = stage.normalised(np.asarray(train_embeddings(content, params).book_vectors, dtype=np.float32))
        for number, name, key in ((1, "country", "countries"), (2, "language", "languages")):  # the stage's field
            # numbers: the same splits and held-out books
            field = stage.FieldLabels.from_values(name, [[value] for value in catalogue[key]], multi_label=False)
            runs.append({"seed": seed, "field": name, **measure(field, vectors, seed * 100 + number)})
            log(f"seed {seed} {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1]["accuracy"].items()))
    summary = {name: {variant: round(float(np.mean([run["accuracy"][variant] for run in runs if run["field"] == name])),
                                     4) for variant in ("knn", *VARIANTS)} for name in ("country", "language")}
    write_result("prediction_variants", {"mean_accuracy": summary, "runs": runs})


def measure(field: stage.FieldLabels, vectors: np.ndarray, seed: int) -> dict:
    labelled = np.array([i for i, labels in enumerate(field.labels) if labels], dtype=np.int64)
    train, test = stage._split(labelled, seed)
    truth = stage.indicator(field)
    knn = stage._knn_scores(vectors[test], vectors[train], truth[train])
    inputs = {"train": vectors[train], "test": vectors[test]}
    stacked = {"train": np.hstack([vectors[train], _vote_leaving_out_self(vectors[train], truth[train])]),
               "test": np.hstack([vectors[test], knn])}
    scores, seconds = {"knn": knn}, {}
    for variant in VARIANTS:
        clock = time.perf_counter()
        if variant in ("stage", "blend"):
            model = stage._fit_model(vectors[train], truth[train], multi_label=False, seed=seed)
            score = stage._scores(model, vectors[test])
            scores[variant] = (score + knn) / 2 if variant == "blend" else score
        else:
            features = stacked if variant == "stacked" else inputs
            units, rate, l2 = {"linear": (0, 0.01, 0.0), "l2": (256, 0.001, 1e-4), "stacked": (256, 0.001, 0.0)}[variant]
            model = _fit(features["train"].astype(np.float32), truth[train], seed=seed, units=units, rate=rate, l2=l2)
            scores[variant] = stage._scores(model, features["test"].astype(np.float32))
        seconds[variant] = round(time.perf_counter() - clock, 1)
    accuracy = {name: round(float((truth[test][np.arange(len(test)), score.argmax(axis=1)] > 0).mean()), 4)
                for name, score in scores.items()}
    return {"heldout_books": int(len(test)), "accuracy": accuracy, "seconds": seconds}


def _vote_leaving_out_self(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    k = stage.KNN_NEIGHBOURS
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    weight = np.clip(np.take_along_axis(similarity, nearest, axis=1), 1e-6, None)
    return np.einsum("bk,bkc->bc", weight, y[nearest]) / weight.sum(1, keepdims=True)


def _fit(x: np.ndarray, y: np.ndarray, *, seed: int, units: int, rate: float, l2: float):
    """The stage's fitting (``_fit_model``: the same inner split, batches and early stopping) for another network."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    penalty = tf.keras.regularizers.l2(l2) if l2 else None
    hidden = [tf.keras.layers.Dense(units, activation="relu", kernel_regularizer=penalty),
              tf.keras.layers.Dropout(stage.DROPOUT[False])] if units else []
    model = tf.keras.Sequential([tf.keras.Input(shape=(x.shape[1],)), *hidden,
                                 tf.keras.layers.Dense(y.shape[1], activation="softmax", kernel_regularizer=penalty)])
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
