"""Shelf recommendations from the shelf model (recommender/training/shelf_model.py) on goodbooks-10k.

Same loader, split and protocol as bench/quality_goodbooks.py (imported, so the figures are comparable):
validation readers (6,800) and tuning readers (2,000) never trained on, 80 % of each shelf visible,
Recall@20 and NDCG@20 of 20 books not on the visible shelf. In the same run:

* most popular, and item-kNN on shared shelves (cosine, scoring tuned on the tuning readers);
* EASE (Steck 2019, closed form, lambda chosen on the tuning readers): the ceiling of a linear
  item-to-item model on these shelves; not servable as embeddings;
* shelf model runs (the served model): exact scores ``[u, 1] . serving_vector``, i.e. what
  ``recommend_from_shelf_vectors`` and the pgvector query return;
* "fewer readers": the best run and item-kNN trained on 75 % of the training readers, to show how the
  figures move with the number of readers in the database.

Usage: python bench/quality_shelf_model.py [--data ../shared/data/goodbooks] [--quick] [--runs a,b]
Writes bench/results/quality_shelf_model.json (``--quick``: quality_shelf_model_quick.json).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from bench.quality_goodbooks import item_knn_neighbours, load_goodbooks, tune_scoring  # noqa: E402
from recommender.evaluation import neighbour_recommender, popularity_recommender, shelf_recall_ndcg  # noqa: E402
from recommender.training import TrainingParams  # noqa: E402
from bench.shelf_model import (  # noqa: E402
    ShelfModelParams,
    reader_vector,
    recommend_from_shelf_vectors,
    train_shelf_model,
)

K = 20
SCORING_GRID = [(p, a) for p in (1.0, 2.0, 4.0) for a in (0.0, 0.3, 0.5)]

RUNS: dict[str, dict] = {
    # The default (ShelfModelParams()): tied, 256-d, loss on the dropped books only, cosine-decayed Adam, L2 0.01.
    "tied_256": {},
    "tied_128": {"embedding_dim": 128},
    "untied_128": {"embedding_dim": 128, "tied": False},
    "tied_256_no_l2": {"l2": 0.0},
    # Liang et al.'s objective (every shelf book a target, the kept ones too), for comparison.
    "tied_128_all_targets": {"embedding_dim": 128, "kept_target_weight": 1.0},
    # Tags as content: about 4x slower to train; measured +0.002 Recall@20 on 128-d (see the note).
    "tied_128_tags": {"embedding_dim": 128, "link_weight": 1.0},
}
DEFAULT_RUNS = "tied_256,tied_256_no_l2,tied_128,untied_128"


def shelf_matrix(cases, n_books: int) -> sp.csr_matrix:
    """Visible shelves of the cases as a reader x book 0/1 matrix."""
    rows = np.concatenate([np.full(len(c.visible), i) for i, c in enumerate(cases)])
    cols = np.concatenate([c.visible for c in cases])
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(cases), n_books))


def matrix_recall_ndcg(score_block, cases, n_books: int, *, chunk: int = 1000) -> dict:
    """Recall@20/NDCG@20 of ``score_block(visible shelves csr) -> dense scores``; shelf books are excluded here."""
    top_lists = []
    for start in range(0, len(cases), chunk):
        block = shelf_matrix(cases[start:start + chunk], n_books)
        scores = np.asarray(score_block(block), np.float64)
        scores[block.nonzero()] = -np.inf
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        order = np.lexsort((top, -np.take_along_axis(scores, top, axis=1)), axis=1)
        top_lists.extend(np.take_along_axis(top, order, axis=1))
    by_shelf = {id(c.visible): t for c, t in zip(cases, top_lists)}
    return shelf_recall_ndcg(lambda shelf, k: by_shelf[id(shelf)], cases, K)


def shelf_model_scorer(vectors):
    """Batched form of ``recommend_from_shelf_vectors``: [u, 1] . serving_vector for every book."""
    serving = vectors.serving_vectors.astype(np.float64)
    inputs = vectors.input_vectors.astype(np.float64)
    untrained = ~vectors.trained

    def score(block: sp.csr_matrix) -> np.ndarray:
        known = block.multiply(vectors.trained[None, :].astype(np.float32)).tocsr()
        n = np.maximum(np.asarray(known.sum(axis=1)).ravel(), 1.0)
        u = (known @ inputs) / np.sqrt(n)[:, None]
        scores = u @ serving[:, :-1].T + serving[:, -1]
        scores[:, untrained] = -np.inf
        return scores

    return score


def ease_weights(train: sp.csr_matrix, lam: float) -> np.ndarray:
    """EASE's item-item weights B = I - P / diag(P), P = (X'X + lam I)^-1, diagonal zero."""
    gram = (train.T @ train).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    factor = scipy.linalg.cho_factor(gram, overwrite_a=True, check_finite=False)
    precision = scipy.linalg.cho_solve(factor, np.eye(len(gram)), overwrite_b=True, check_finite=False)
    weights = precision / -np.diag(precision)
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def training_matrix(users: np.ndarray, books: np.ndarray, n_books: int) -> sp.csr_matrix:
    _, rows = np.unique(users, return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, books)), shape=(rows.max() + 1, n_books))
    matrix.data[:] = 1.0
    return matrix


def hnsw_recall(vectors, cases, *, readers: int = 500, ef_search_values=(40, 100, 200), seed: int = 0) -> dict:
    """Recall@20 of the serving query on an HNSW ``vector_ip_ops`` index against exact scores, in PostgreSQL.

    Starts a private embedded PostgreSQL + pgvector (under var/bench/), stores ``serving_vectors``,
    builds the index, and runs the product's query (shelf books excluded, iterative scan) for
    ``readers`` validation readers at each ``hnsw.ef_search``; the server is stopped at the end.
    """
    import psycopg
    from pgvector.psycopg import register_vector

    from bench.common import WORK_DIR
    from config.embedded import _terminate, embedded_postgres_url

    pgdata = WORK_DIR / "shelf_model_pg"
    url = embedded_postgres_url(pgdata, database="shelf_model")
    serving = vectors.serving_vectors
    dim = serving.shape[1]
    books = np.flatnonzero(vectors.trained)
    chosen = [cases[i] for i in np.random.default_rng(seed).permutation(len(cases))[:readers]]
    result: dict = {"readers": len(chosen), "dimensions": dim, "books": int(len(books))}
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            register_vector(connection)
            connection.execute("DROP TABLE IF EXISTS shelf_vector")
            connection.execute(f"CREATE TABLE shelf_vector (book_id bigint PRIMARY KEY, embedding vector({dim}))")
            with connection.cursor().copy("COPY shelf_vector (book_id, embedding) FROM STDIN") as copy:
                for book in books:
                    copy.write_row((int(book), "[" + ",".join(f"{x:.7g}" for x in serving[book]) + "]"))
            started = time.perf_counter()
            connection.execute("CREATE INDEX ON shelf_vector USING hnsw (embedding vector_ip_ops)"
                               " WITH (m = 16, ef_construction = 64)")
            result["index_seconds"] = time.perf_counter() - started
            connection.execute("ANALYZE shelf_vector")
            sql = ("SELECT book_id FROM shelf_vector WHERE book_id <> ALL(%s) "
                   f"ORDER BY embedding <#> %s::vector({dim}) LIMIT {K}")
            exact = []
            for case in chosen:
                top = recommend_from_shelf_vectors(case.visible, vectors, k=K)
                exact.append({r.book_index for r in top})
            for ef in ef_search_values:
                found, seconds = 0, []
                for case, truth in zip(chosen, exact):
                    query = np.append(reader_vector(case.visible, vectors.input_vectors), 1.0).astype(np.float32)
                    with connection.transaction():
                        connection.execute("SELECT set_config('hnsw.ef_search', %s, true),"
                                           " set_config('hnsw.iterative_scan', 'relaxed_order', true)", [str(ef)])
                        started = time.perf_counter()
                        rows = connection.execute(sql, [case.visible.tolist(), query]).fetchall()
                        seconds.append(time.perf_counter() - started)
                    found += len({row[0] for row in rows} & truth)
                result[f"ef_search_{ef}"] = {"recall@20_vs_exact": found / (K * len(chosen)),
                                             "median_ms": 1000 * float(np.median(seconds))}
    finally:
        _terminate(pgdata / "postmaster.pid", signal.SIGINT)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/goodbooks")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="one third of the training readers, fewer epochs")
    parser.add_argument("--runs", default=DEFAULT_RUNS, help=f"comma-separated among {', '.join(RUNS)}, or 'all'")
    parser.add_argument("--ease-lambdas", default="50,100",
                        help="EASE lambdas tried on the tuning readers (20 to 300 measured: 50 and 100 best)")
    parser.add_argument("--skip-fewer-readers", action="store_true")
    parser.add_argument("--hnsw-readers", type=int, default=500,
                        help="validation readers for the HNSW-vs-exact check of the first run (0 skips it)")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    data = load_goodbooks(args.data, TrainingParams(seed=args.seed), n_validation=6800, n_tuning=2000, seed=args.seed)
    n_books, content = data["n_books"], data["content"]
    users, books = data["train_users"], data["train_books"]
    if args.quick:
        keep = np.isin(users, np.unique(users)[::3])
        users, books = users[keep], books[keep]
    popularity = np.bincount(books, minlength=n_books).astype(np.float64)
    tuning, validation = data["tuning"], data["validation"]
    log(f"{len(np.unique(users))} training readers ({len(users)} shelf rows), "
        f"{len(tuning)} tuning / {len(validation)} validation readers")

    figures: dict = {"baselines": {}, "runs": {}, "k": K, "seed": args.seed, "quick": args.quick,
                     "training_readers": int(len(np.unique(users))), "training_shelf_rows": int(len(users))}

    def both(recommend) -> dict:
        return {"tuning": shelf_recall_ndcg(recommend, tuning, K),
                "validation": shelf_recall_ndcg(recommend, validation, K)}

    def both_matrix(score) -> dict:
        return {"tuning": matrix_recall_ndcg(score, tuning, n_books),
                "validation": matrix_recall_ndcg(score, validation, n_books)}

    def save() -> None:
        write_result("quality_shelf_model_quick" if args.quick else "quality_shelf_model", figures)

    figures["baselines"]["most_popular"] = both(popularity_recommender(popularity))
    knn_ids, knn_sims = item_knn_neighbours(users, books, n_books)
    knn_scoring, _ = tune_scoring(knn_ids, knn_sims, popularity, tuning, SCORING_GRID)
    figures["baselines"]["item_knn_shelves_tuned"] = {
        **both(neighbour_recommender(knn_ids, knn_sims, popularity=popularity, scoring=knn_scoring)),
        "similarity_power": knn_scoring.similarity_power, "popularity_power": knn_scoring.popularity_power}
    log(f"baselines: {figures['baselines']}")
    save()

    train = training_matrix(users, books, n_books)
    ease = {}
    for lam in (float(x) for x in args.ease_lambdas.split(",") if x):
        started = time.perf_counter()
        weights = ease_weights(train, lam)
        tuned = matrix_recall_ndcg(lambda block, w=weights: block @ w, tuning, n_books)
        ease[lam] = (tuned, weights, time.perf_counter() - started)
        log(f"EASE lambda={lam}: tuning {tuned} ({ease[lam][2]:.0f}s)")
    if ease:
        best = max(ease, key=lambda lam: ease[lam][0][f"recall@{K}"] + ease[lam][0][f"ndcg@{K}"])
        weights = ease[best][1]
        figures["baselines"]["ease"] = {
            "lambda": best, "seconds": ease[best][2],
            "tuning_by_lambda": {str(lam): value[0] for lam, value in ease.items()},
            "tuning": ease[best][0],
            "validation": matrix_recall_ndcg(lambda block: block @ weights, validation, n_books)}
        log(f"EASE (lambda {best}): {figures['baselines']['ease']['validation']}")
        del ease, weights
        save()

    chosen = list(RUNS) if args.runs == "all" else args.runs.split(",")
    for name in chosen:
        overrides = dict(RUNS[name], seed=args.seed)
        if args.quick:
            overrides["epochs"] = 10
        params = ShelfModelParams(**overrides)
        link_weight = params.link_weight > 0
        log(f"training {name}: {params}")
        vectors = train_shelf_model(users, books, n_books, params,
                                    link_book_index=content.book_index if link_weight else None,
                                    link_index=content.link_index if link_weight else None,
                                    n_links=content.n_links if link_weight else 0)
        score = shelf_model_scorer(vectors)
        result = {"params": params.to_dict(), "training_seconds": vectors.seconds, "history": vectors.history,
                  "books_with_vectors": int(vectors.trained.sum()), **both_matrix(score)}
        # The batched scorer must agree with the reference that the SQL mirrors.
        for case in validation[:20]:
            reference = [r.book_index for r in recommend_from_shelf_vectors(case.visible, vectors, k=K)]
            batched = matrix_recall_ndcg(score, [case], n_books)
            expected = shelf_recall_ndcg(lambda shelf, k, r=reference: np.array(r), [case], K)
            assert abs(batched[f"recall@{K}"] - expected[f"recall@{K}"]) < 1e-9, name
        figures["runs"][name] = result
        log(f"  {name}: {vectors.seconds:.0f}s, tuning {result['tuning']}, validation {result['validation']}")
        if name == chosen[0] and args.hnsw_readers:
            result["hnsw_vector_ip_ops"] = hnsw_recall(vectors, validation, readers=args.hnsw_readers)
            log(f"  HNSW (vector_ip_ops) vs exact: {result['hnsw_vector_ip_ops']}")
        save()

    if not args.skip_fewer_readers and figures["runs"]:
        best_name = max(figures["runs"], key=lambda n: sum(figures["runs"][n]["tuning"][m]
                                                            for m in (f"recall@{K}", f"ndcg@{K}")))
        rng = np.random.default_rng([args.seed, 9])
        readers = np.unique(users)
        subset = np.isin(users, rng.choice(readers, int(0.75 * len(readers)), replace=False))
        sub_users, sub_books = users[subset], books[subset]
        sub_popularity = np.bincount(sub_books, minlength=n_books).astype(np.float64)
        ids, sims = item_knn_neighbours(sub_users, sub_books, n_books)
        vectors = train_shelf_model(sub_users, sub_books, n_books,
                                    ShelfModelParams.from_dict(figures["runs"][best_name]["params"]),
                                    link_book_index=content.book_index, link_index=content.link_index,
                                    n_links=content.n_links)
        figures["fewer_readers"] = {
            "share_of_training_readers": 0.75, "run": best_name,
            "item_knn_shelves_tuned": shelf_recall_ndcg(
                neighbour_recommender(ids, sims, popularity=sub_popularity, scoring=knn_scoring), validation, K),
            "shelf_model": matrix_recall_ndcg(shelf_model_scorer(vectors), validation, n_books)}
        log(f"75% of the readers: {figures['fewer_readers']}")
        save()
    log("done")


if __name__ == "__main__":
    main()
