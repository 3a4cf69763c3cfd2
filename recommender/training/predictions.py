"""The embeddings as input to a supervised model: predicting what the catalogue is missing from the book vectors.

For each field the sources give often enough (genres of the vocabulary, multi-label; country and language, one
value each), a small Keras model on the book vectors learns from the books whose value the sources give and
predicts it for the books that lack it. A seeded share of the labelled books is held out; on it the model and, in
the same run, three baselines are measured:

* ``majority``: the most frequent class (genres: each genre at its share of the training books);
* ``knn``: a vote of the ``KNN_NEIGHBOURS`` nearest labelled training books on the same vectors (cosine);
* ``logreg``: logistic regression on the books' TF-IDF links (no embeddings; one-vs-rest for genres).

Figures, for all held-out books and for each source's separately (``by_source``): genres micro and macro F1 (a
genre is predicted at a score of ``DECIDE_AT`` or more, the best-scored one always) and top-1 accuracy (the
best-scored genre is one of the book's); country and language accuracy. ``model_minus_knn`` and
``model_minus_logreg`` are the headline figure's differences to the kNN vote and to the logistic regression, each
with a paired bootstrap 95 % interval over the held-out books: the noise the comparisons are judged against.

The stored predictions are those of the model measured here (trained on the labelled books less the held-out
share), for the books without the field: genres scoring ``STORED_FLOOR`` or more (``MAX_GENRES`` at most, the best
always), one country and one language. Readers see only those of ``SHOWN_CONFIDENCE`` or more.
"""
from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.training.dataset import PairSet
from recommender.training.evaluation import block_rows

SHOWN_CONFIDENCE = 0.5
"""Predictions below this confidence (the model's probability of the value) are stored but shown to no reader. On the
real data's held-out books, the genres shown at this level are right 88 % (Wikipedia, every labelled book held out once)
and 88 % (goodbooks) of the time, countries 90 %, languages 97 % (Wikipedia; BENCHMARKS.md §14); staff see every
stored prediction in the admin."""
HOLDOUT_FRACTION = 0.2
MIN_LABELLED_BOOKS = 45
"""A field is predicted only where at least this many books have a value of a kept class (fewer leave under ten
held-out books to measure it on)."""
MIN_BOOKS_PER_CLASS = 5
"""A value fewer books have is neither learned nor predicted (its books are left out of training and evaluation)."""
MAX_MAJORITY_SHARE = 0.95
"""A one-value field whose most frequent value is this share or more of its labelled books is not predicted: it is
nearly constant, and the most frequent class is right about as often as any model can be (goodbooks' language: 98 %
English, where no method beat it; the Wikipedia books' language, 93 % English, is predicted: BENCHMARKS.md §14)."""
KNN_NEIGHBOURS = 10
DECIDE_AT = 0.5
"""A genre scoring this or more counts as predicted in the F1 figures (the best-scored genre always does)."""
STORED_FLOOR = 0.2
MAX_GENRES = 3
HIDDEN_UNITS = {True: 64, False: 256}
"""The hidden layer's width for genres (multi-label) and for a one-value field; with ``DROPOUT`` and
``LEARNING_RATE``, the better of the settings tried on the Wikipedia books (BENCHMARKS.md §14)."""
DROPOUT = {True: 0.3, False: 0.5}
LEARNING_RATE = {True: 3e-3, False: 1e-3}
EPOCHS = 200
PASSES_PER_CHECK = 5
"""Passes over the training books between two looks at the validation loss (early stopping: after 20 passes, it
stops once 20 have not improved it, keeping the best weights). Each look is one Keras epoch: its fixed cost, not the
arithmetic, is what a network this small spends most of its time on, so it is paid every fifth pass only."""
BOOTSTRAP_SAMPLES = 500


@dataclass(frozen=True)
class FieldLabels:
    """One field's values for every book index: ``labels[i]`` the indices in ``classes`` of book i's values (empty
    when it has none of a kept class); ``given[i]`` whether the sources give book i the field at all."""

    field: str
    classes: tuple[str, ...]
    labels: tuple[tuple[int, ...], ...]
    given: np.ndarray
    multi_label: bool

    @classmethod
    def from_values(cls, field: str, values: Sequence[Sequence[str]], *, multi_label: bool) -> FieldLabels:
        """The labels of ``values`` (each book's values, in the order the source gives them; one value is kept
        for a single-label field), keeping the classes of ``MIN_BOOKS_PER_CLASS`` books or more."""
        firsts = [list(dict.fromkeys(v for v in book if v)) for book in values]
        if not multi_label:
            firsts = [book[:1] for book in firsts]
        counts = Counter(value for book in firsts for value in book)
        classes = tuple(sorted(value for value, count in counts.items() if count >= MIN_BOOKS_PER_CLASS))
        index = {value: i for i, value in enumerate(classes)}
        labels = tuple(tuple(index[value] for value in book if value in index) for book in firsts)
        return cls(field=field, classes=classes, labels=labels, given=np.array([bool(book) for book in firsts]),
                   multi_label=multi_label)


@dataclass(frozen=True)
class Prediction:
    """A value the model gives a book that lacks the field, with the model's probability of it."""

    book_index: int
    field: str
    value: str
    confidence: float


@dataclass(frozen=True)
class PredictionResult:
    predictions: list[Prediction]
    metrics: dict
    """By field: the held-out figures of the model and the baselines (see the module), or ``skipped`` and why."""


def predict_book_fields(*, book_vectors: np.ndarray, fields: Sequence[FieldLabels], sources: Sequence[str],
                        content: PairSet, seed: int) -> PredictionResult:
    """Trains one model per field on ``book_vectors`` (row i: book index i), measures it and the baselines on the
    held-out labelled books, and predicts the field for the books the sources give none.

    ``content`` holds the books' links (the TF-IDF baseline's features); ``sources`` each book's source. A field
    with too few labelled books or meaningful classes, or nearly constant, is skipped (``skipped_because``; the reason is in
    the metrics). Given the same inputs and seed, the result is the same.
    """
    vectors = normalised(np.asarray(book_vectors, dtype=np.float32))
    tfidf = tfidf_features(content, len(vectors))
    sources = np.asarray(sources, dtype=object)
    predictions: list[Prediction] = []
    metrics: dict = {"shown_confidence": SHOWN_CONFIDENCE, "holdout_fraction": HOLDOUT_FRACTION}
    for number, field in enumerate(fields):
        labelled = labelled_books(field)
        skipped = skipped_because(field, labelled)
        if skipped:
            metrics[field.field] = {"skipped": skipped}
            continue
        field_seed = field_seed_of(seed, number)
        train, test = _split(labelled, field_seed)
        truth = indicator(field)
        model, scores = heldout_scores(field, vectors, tfidf, train, test, seed=field_seed)
        metrics[field.field] = {
            "labelled_books": int(len(labelled)), "train_books": int(len(train)), "heldout_books": int(len(test)),
            "classes": len(field.classes),
            **heldout_figures(field, truth[test], scores, sources[test], seed=field_seed),
        }
        missing = np.flatnonzero(~field.given)
        if len(missing):
            predictions += _predictions(field, missing, _scores(model, vectors[missing]))
        metrics[field.field]["predicted_books"] = int(len(missing))
        metrics[field.field]["shown_books"] = len({p.book_index for p in predictions
                                                   if p.field == field.field and p.confidence >= SHOWN_CONFIDENCE})
    return PredictionResult(predictions=predictions, metrics=metrics)


def field_seed_of(seed: int, number: int) -> int:
    """The seed of the ``number``-th field's split and model in a run of ``seed``."""
    return seed * 100 + number


def labelled_books(field: FieldLabels) -> np.ndarray:
    """The indices of the books with a value of a kept class, in order."""
    return np.array([i for i, labels in enumerate(field.labels) if labels], dtype=np.int64)


def heldout_scores(field: FieldLabels, vectors: np.ndarray, tfidf: sp.csr_matrix, train: np.ndarray,
                   test: np.ndarray, *, seed: int) -> tuple[object, dict[str, np.ndarray]]:
    """The model trained on the ``train`` books (rows of the normalised ``vectors``) and every method's scores of
    the ``test`` books' classes: the model's and the three baselines' (``tfidf``: the books' links, for ``logreg``)."""
    truth = indicator(field)
    model = _fit_model(vectors[train], truth[train], multi_label=field.multi_label, seed=seed)
    return model, {
        "model": _scores(model, vectors[test]),
        "majority": np.tile(truth[train].mean(axis=0), (len(test), 1)),
        "knn": _knn_scores(vectors[test], vectors[train], truth[train]),
        "logreg": _logreg_scores(tfidf[train], truth[train], tfidf[test], multi_label=field.multi_label),
    }


def skipped_because(field: FieldLabels, labelled: np.ndarray) -> str:
    """Why ``field`` is not predicted, or "" when it is: at least ``MIN_LABELLED_BOOKS`` labelled books and two
    classes of ``MIN_BOOKS_PER_CLASS`` books or more, the most frequent (of a one-value field) under
    ``MAX_MAJORITY_SHARE`` of them."""
    if len(labelled) < MIN_LABELLED_BOOKS or len(field.classes) < 2:
        return (f"{len(labelled)} labelled books of {len(field.classes)} classes "
                f"(needs {MIN_LABELLED_BOOKS} of 2 or more)")
    if not field.multi_label:
        top, count = Counter(field.labels[i][0] for i in labelled.tolist()).most_common(1)[0]
        if count / len(labelled) >= MAX_MAJORITY_SHARE:
            return (f"nearly constant: {count / len(labelled):.1%} of {len(labelled)} labelled books are "
                    f"{field.classes[top]} (predicted under {MAX_MAJORITY_SHARE:.0%})")
    return ""


def headline(field: FieldLabels | str) -> str:
    """The figure a field is judged by: genres' micro F1, the others' accuracy."""
    name = field if isinstance(field, str) else field.field
    return "micro_f1" if name == "genre" else "accuracy"


def _split(labelled: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    shuffled = np.random.default_rng([seed, 20]).permutation(labelled)
    n_test = max(1, int(round(HOLDOUT_FRACTION * len(shuffled))))
    return np.sort(shuffled[n_test:]), np.sort(shuffled[:n_test])


def indicator(field: FieldLabels) -> np.ndarray:
    """Books × classes: 1 where the book has the class."""
    matrix = np.zeros((len(field.labels), len(field.classes)), np.float32)
    for row, labels in enumerate(field.labels):
        matrix[row, list(labels)] = 1.0
    return matrix


def _fit_model(x: np.ndarray, y: np.ndarray, *, multi_label: bool, seed: int):
    """A one-hidden-layer network, sigmoid outputs (genres) or a softmax (one value), stopped early on a tenth of
    its training books."""
    import tensorflow as tf  # the worker's and the benchmark's: web processes never train

    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(x.shape[1],)),
        tf.keras.layers.Dense(HIDDEN_UNITS[multi_label], activation="relu"),
        tf.keras.layers.Dropout(DROPOUT[multi_label]),
        tf.keras.layers.Dense(y.shape[1], activation="sigmoid" if multi_label else "softmax"),
    ])
    order = np.random.default_rng([seed, 21]).permutation(len(x))
    n_validation = max(1, len(x) // 10)
    validation, fit = order[:n_validation], order[n_validation:]
    # Batches of a sixteenth of the books (8 to 256): a small catalogue still takes several steps a pass.
    batch_size = int(np.clip(len(fit) // 16, 8, 256))
    repeated = np.tile(fit, PASSES_PER_CHECK)  # shuffled by fit() each Keras epoch
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=LEARNING_RATE[multi_label]),
                  loss="binary_crossentropy" if multi_label else "categorical_crossentropy",
                  steps_per_execution=int(np.ceil(len(repeated) / batch_size)))  # an epoch's steps in one call
    checks = 20 // PASSES_PER_CHECK
    model.fit(x[repeated], y[repeated], validation_data=(x[validation], y[validation]),
              epochs=EPOCHS // PASSES_PER_CHECK, batch_size=batch_size, verbose=0, shuffle=True,
              callbacks=[tf.keras.callbacks.EarlyStopping(patience=checks, start_from_epoch=checks,
                                                          restore_best_weights=True)])
    return model


def _scores(model, x: np.ndarray) -> np.ndarray:
    # Called directly, not through predict(): no tf.function is traced per call.
    return np.concatenate([np.asarray(model(x[start:start + 4096], training=False), dtype=np.float64)
                           for start in range(0, len(x), 4096)]) if len(x) else np.zeros((0, model.output_shape[-1]))


def _knn_scores(x: np.ndarray, train_x: np.ndarray, train_y: np.ndarray) -> np.ndarray:
    """Each class's similarity-weighted share among a book's nearest labelled training books."""
    k = min(KNN_NEIGHBOURS, len(train_x))
    scores = np.zeros((len(x), train_y.shape[1]))
    block = block_rows(len(train_x))  # memory bounded whatever the catalogue's size
    for start in range(0, len(x), block):
        similarity = x[start:start + block] @ train_x.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weight = np.clip(np.take_along_axis(similarity, nearest, axis=1), 1e-6, None)
        scores[start:start + block] = np.einsum("bk,bkc->bc", weight, train_y[nearest]) / weight.sum(1, keepdims=True)
    return scores


def _logreg_scores(train_x, train_y: np.ndarray, test_x, *, multi_label: bool) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a genre absent from the training books: its column scores 0
        if multi_label:
            present = train_y.sum(axis=0) > 0
            classifier = OneVsRestClassifier(LogisticRegression(max_iter=1000, solver="liblinear"))
            classifier.fit(train_x, train_y[:, present].astype(int))
            scores = np.zeros((test_x.shape[0], train_y.shape[1]))
            scores[:, present] = classifier.predict_proba(test_x)
            return scores
        target = train_y.argmax(axis=1)
        classifier = LogisticRegression(max_iter=1000)
        classifier.fit(train_x, target)
        scores = np.zeros((test_x.shape[0], train_y.shape[1]))
        scores[:, classifier.classes_] = classifier.predict_proba(test_x)
        return scores


def heldout_figures(field: FieldLabels, truth: np.ndarray, scores: dict[str, np.ndarray], sources: np.ndarray, *,
                    seed: int) -> dict:
    """Each method's figures on the held-out books (``truth``: their classes; ``scores``: by method, ``model`` and
    ``knn`` and ``logreg`` among them), the model's differences to the vote and the logistic regression with their
    intervals, for all the books and (more than one source) each source's."""
    groups = {"all": np.ones(len(truth), bool)}
    groups |= {source: sources == source for source in sorted(set(sources.tolist())) if len(set(sources)) > 1}
    by_group = {}
    for group, rows in groups.items():
        if not rows.any():
            continue
        figures = {name: _method_figures(field, truth[rows], score[rows]) for name, score in scores.items()}
        figures["model"] |= _shown_figures(field, truth[rows], scores["model"][rows])
        figures["heldout_books"] = int(rows.sum())
        for baseline in ("knn", "logreg"):
            figures[f"model_minus_{baseline}"] = _bootstrap_difference(field, truth[rows], scores["model"][rows],
                                                                       scores[baseline][rows], seed=seed)
        by_group[group] = figures
    result = by_group.pop("all")
    if by_group:
        result["by_source"] = by_group
    return result


def _method_figures(field: FieldLabels, truth: np.ndarray, score: np.ndarray) -> dict:
    top = score.argmax(axis=1)
    top_right = truth[np.arange(len(truth)), top] > 0
    if not field.multi_label:
        return {"accuracy": round(float(top_right.mean()), 4)}
    chosen = _chosen(score)
    tp, fp, fn = _counts(truth, chosen)
    present = truth.sum(axis=0) > 0
    per_class_tp, per_class_fp, per_class_fn = (
        (truth * chosen).sum(0), ((1 - truth) * chosen).sum(0), (truth * (1 - chosen)).sum(0))
    denominator = 2 * per_class_tp + per_class_fp + per_class_fn
    per_class_f1 = np.divide(2 * per_class_tp, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return {
        "micro_f1": round(_f1(tp.sum(), fp.sum(), fn.sum()), 4),
        "macro_f1": round(float(per_class_f1[present].mean()) if present.any() else 0.0, 4),
        "top1_accuracy": round(float(top_right.mean()), 4),
    }


def _shown_figures(field: FieldLabels, truth: np.ndarray, score: np.ndarray) -> dict:
    """Of the predictions the model would store for the held-out books, those shown (``SHOWN_CONFIDENCE``): the
    share that is right, and the share of books given at least one."""
    stored = _predictions(field, np.arange(len(score)), score)
    shown = [p for p in stored if p.confidence >= SHOWN_CONFIDENCE]
    column = {value: i for i, value in enumerate(field.classes)}
    right = [truth[p.book_index, column[p.value]] > 0 for p in shown]
    return {"shown_precision": round(float(np.mean(right)), 4) if right else None,
            "shown_coverage": round(len({p.book_index for p in shown}) / len(score), 4) if len(score) else None}


def _chosen(score: np.ndarray) -> np.ndarray:
    chosen = (score >= DECIDE_AT).astype(np.float32)
    chosen[np.arange(len(score)), score.argmax(axis=1)] = 1.0
    return chosen


def _counts(truth: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per book: true positives, false positives, false negatives."""
    return (truth * chosen).sum(1), ((1 - truth) * chosen).sum(1), (truth * (1 - chosen)).sum(1)


def _f1(tp: float, fp: float, fn: float) -> float:
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0


def _bootstrap_difference(field: FieldLabels, truth: np.ndarray, model: np.ndarray, baseline: np.ndarray, *,
                          seed: int) -> dict:
    """The headline figure of the model less a baseline's, with a paired bootstrap 95 % interval."""
    return bootstrap_difference(field, book_outcomes(field, truth, model), book_outcomes(field, truth, baseline),
                                seed=seed)


def book_outcomes(field: FieldLabels, truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per book, what the headline figure is made of: for a one-value field whether the best-scored class is the
    book's (1 × books); for genres the true positives, false positives and false negatives (3 × books). Their mean
    over several runs still makes the runs' pooled figure (``outcomes_figure``)."""
    if field.multi_label:
        return np.stack(_counts(truth, _chosen(score)))
    return truth[np.arange(len(truth)), score.argmax(axis=1)][None, :].astype(np.float64)


def outcomes_figure(field: FieldLabels, outcomes: np.ndarray, rows=slice(None)) -> np.ndarray:
    """The headline figure of the books ``rows`` (an index array, or a samples × books array of them) from
    ``book_outcomes``: micro F1 for genres, accuracy for a one-value field."""
    if field.multi_label:
        tp, fp, fn = outcomes[:, rows].sum(axis=-1)
        return 2 * tp / np.maximum(2 * tp + fp + fn, 1e-12)
    return outcomes[0][rows].mean(axis=-1)


def bootstrap_difference(field: FieldLabels, first: np.ndarray, second: np.ndarray, *, seed: int) -> dict:
    """The headline figure of the ``first`` outcomes less the ``second``'s (``book_outcomes`` of the same books),
    with a paired bootstrap 95 % interval over the books."""
    n_books = first.shape[1]
    samples = np.random.default_rng([seed, 22]).integers(0, n_books, size=(BOOTSTRAP_SAMPLES, n_books))
    whole = outcomes_figure(field, first) - outcomes_figure(field, second)
    resampled = outcomes_figure(field, first, samples) - outcomes_figure(field, second, samples)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return {"difference": round(float(whole), 4), "ci95": [round(float(low), 4), round(float(high), 4)]}


def _predictions(field: FieldLabels, books: np.ndarray, scores: np.ndarray) -> list[Prediction]:
    found = []
    for book, row in zip(books.tolist(), scores):
        order = np.argsort(-row)
        keep = order[:MAX_GENRES] if field.multi_label else order[:1]
        for rank, column in enumerate(keep):
            if rank and row[column] < STORED_FLOOR:
                break
            found.append(Prediction(book_index=book, field=field.field, value=field.classes[column],
                                    confidence=round(float(row[column]), 4)))
    return found


def normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def tfidf_features(content: PairSet, n_books: int) -> sp.csr_matrix:
    """Each book's links as TF-IDF (sublinear counts, smoothed IDF), rows L2-normalised."""
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = sp.csr_matrix((content.weight.astype(np.float64), (content.book_index, content.link_index)),
                           shape=(n_books, max(content.n_links, 1)))
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()
