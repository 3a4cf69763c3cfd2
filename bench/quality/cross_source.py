"""One catalogue on the map: do the embeddings bridge the two sources once books both describe are merged?

In one run, into scratch databases on the same server, the code before (``--before``, a commit of this repository
exported with ``git archive``; default ``main``) and this code each load a catalogue and train once with the default
parameters (``manage.py train_embeddings --sync``); then, for each, from the active version's vectors:

* for every book, the share of its 10 nearest books (cosine, exact, as "Books like this" ranks them) and of its 10
  nearest places on the 2-D map described by the *other* source: a book's home source is the one it was imported
  from first (``Book.source``); a neighbour crosses when the other source describes it (merged books count);
* the same for the bridged books (after: the books both sources describe; before: their Wikipedia articles), and
  whether *The History of The Hobbit* has *The Hobbit* among its 10 nearest;
* the run's own figures that author and genre links do not feed: the book vectors' shelf Recall@20 / NDCG@20 on
  held-out readers by neighbour voting (``votes_*``, goodbooks readers), country k-NN accuracy; and genre k-NN
  accuracy and held-out link AUC;
* same-author precision@5 on the Wikipedia books (since the catalogue's authors are training links, it measures in
  part what training was given): the training run's own figure (``wikipedia:same_author_precision@5``;
  ``same_author_precision@5`` where the catalogue is the Wikipedia books alone)
  and one computed here the same way for both code versions (first infobox author, case, spaces and dots folded;
  books whose author wrote 2+ of the Wikipedia books; neighbours among all books);
* genres: books with a genre of the vocabulary (after), books with any genre, and the map's "Other" and "Not given"
  shares (``recommender.exports.map_data`` of each code version);
* wikilinks joined to a reader tag (``books.vocabulary``, where the code version has it): how many, by rule, the
  40 with most books on both sides, every plural join and a seeded 60 spelling joins, to read by hand;
* wikilinks that name a book of the catalogue (``books.link_targets``, where the code version has it): how many,
  by how they were resolved, the books they name by source, every resolution by title and author and a seeded 20
  by identifier, to read by hand;
* islands: the connected components of the k-nearest-neighbour graph (k = 10 and 15, an edge where either book is
  among the other's k nearest) on the 2-D map and, to tell the layout from the vectors, on the embedding (cosine):
  how many, their sizes and which sources describe their books (Wikipedia only, goodbooks only, both), for the
  books one source alone describes the other source's share of such books in their component (against its share
  in the whole catalogue, what one island would give), and whether the component with most of the Wikipedia-only
  books is the one with most of the goodbooks-only books; on the map also each side's
  10 nearest places from the other source against the share a random mix would give, and the distance between
  the two sides' centres in units of the map's spread (its root-mean-square distance from the centre).

Two catalogues:

``--sample``: the bundled sample (``manage.py load_sample_data``; before: the commit's own ``data/``).
``--data FOLDER``: the real data: the 1,413 Wikipedia articles then the goodbooks folder, on both sides
(``--goodbooks-books N`` keeps only the goodbooks books the reference title mapping pairs with an imported article
plus N others drawn with a fixed seed, with their tags and shelf rows, where the whole folder is too slow).

Results go under ``sample`` or ``real`` (or ``--key``) in ``bench/results/cross_source.json`` (the other keys are
kept). ``--before-from FILE`` takes the before side from an earlier result of the same catalogue, commit and
parameters (training is deterministic for a seed: main measured twice gave the same figures to the last digit), and
``--databases`` names the scratch databases.

Usage: python -m bench.quality.cross_source --sample [--before COMMIT] [--params '{"seed": 7}'] [--key sample_seed_7]
       python -m bench.quality.cross_source --data ../shared/data [--goodbooks-books 2000] [--before COMMIT]
       [--before-from bench/results/cross_source.json] [--databases bookvec_bench_cross_mine]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench.support import scratch
from bench.support.common import PROJECT_DIR, RESULTS_DIR, export_commit, write_result

DATABASES = "bookvec_bench_cross"
"""The scratch databases' names start with this (``--databases``), then ``_before`` and ``_after``."""
NEIGHBOURS = 10
ISLAND_NEIGHBOURS = (10, 15)
"""The k of the k-nearest-neighbour graphs whose connected components are the islands: UMAP's own neighbourhood is
15 books (``recommender.training.layout``)."""
SIDES = ("wikipedia", "goodbooks", "goodbooks+wikipedia")
"""Which sources describe a book: Wikipedia only, goodbooks only, both (a merged book)."""
SEED = 2026
NOT_FED_IN = ("votes_recall@20", "votes_ndcg@20", "shelf_recall@20", "shelf_ndcg@20", "country_knn_accuracy@10",
              "genre_knn_accuracy@10", "heldout_auc")
"""The run's own figures kept beside same-author precision: the book vectors' shelf figures on held-out readers
(``votes_*``: neighbour voting on the vectors, which author and genre links do not feed) and the others."""
MAP_FIGURES = """
import json
from recommender.exports import map_data
from recommender.models import EmbeddingVersion
data = map_data(version=EmbeddingVersion.objects.get(is_active=True))
names = [data["genre_names"][index] for index in data["genre"]]
print(json.dumps({"placed_books": len(names), "legend": data["genre_names"],
                  "other": names.count("Other"), "not_given": names.count("Not given")}))
"""
LINK_FIGURES = """
import json, random
from django.db import connection
from books.models import Book, BookLink, Link
try:
    from books.link_targets import link_targets
except ImportError:
    link_targets = None
wikilinks = Link.objects.filter(kind=Link.Kind.WIKILINK)
figures = {"wikilinks": wikilinks.count(),
           "wikilink_pairs": BookLink.objects.filter(link__kind=Link.Kind.WIKILINK).count()}
if link_targets is not None:
    targets = link_targets()
    names = dict(wikilinks.filter(id__in=targets).values_list("id", "display_name"))
    books = {book.id: book for book in Book.objects.filter(id__in={t.book_id for t in targets.values()})}
    pairs = BookLink.objects.filter(link_id__in=targets).count()
    listed = [{"link": names[link_id], "book": books[t.book_id].title, "author": books[t.book_id].author,
               "source": books[t.book_id].source, "method": t.method, "reason": t.reason}
              for link_id, t in sorted(targets.items())]
    figures.update({"links_naming_a_book": len(targets), "pairs_linking_a_named_book": pairs,
                    "named_books": len(books),
                    "by_method": {m: sum(t.method == m for t in targets.values()) for m in ("identifier", "title-author")},
                    "named_books_by_source": {s: sum(b.source == s for b in books.values()) for s in ("wikipedia", "goodbooks")},
                    "title_author": [row for row in listed if row["method"] == "title-author"],
                    "identifier_sample": random.Random(2026).sample([row for row in listed if row["method"] == "identifier"],
                                                                    min(20, sum(row["method"] == "identifier" for row in listed)))})
print(json.dumps(figures))
"""

VOCABULARY_FIGURES = """
import json, random
from collections import Counter
from django.db.models import Count
from books.models import Link
try:
    from books.vocabulary import link_joins
except ImportError:
    link_joins = None
if link_joins is None:
    print(json.dumps({}))
else:
    joins = link_joins()
    links = {link.id: link for link in Link.objects.filter(id__in={*joins, *(j.tag_id for j in joins.values())})
             .annotate(n_books=Count("book_links__book", distinct=True))}
    listed = [{"wikilink": links[w].display_name, "tag": links[j.tag_id].display_name, "rule": j.rule,
               "wikilink_books": links[w].n_books, "tag_books": links[j.tag_id].n_books}
              for w, j in sorted(joins.items(), key=lambda item: item[1].term)]
    print(json.dumps({"joined_wikilinks": len(joins), "tags_joined": len({j.tag_id for j in joins.values()}),
                      "by_rule": dict(Counter(j.rule for j in joins.values())),
                      "wikilink_pairs_joined": sum(row["wikilink_books"] for row in listed),
                      "wikilinks_of_one_book_joined": sum(row["wikilink_books"] == 1 for row in listed),
                      "most_books": sorted(listed, key=lambda row: -row["wikilink_books"] * row["tag_books"])[:40],
                      "plural": [row for row in listed if row["rule"] == "plural"],
                      "spelling_sample": random.Random(2026).sample(
                          [row for row in listed if row["rule"] == "spelling"],
                          min(60, sum(row["rule"] == "spelling" for row in listed)))}))
"""
"""The wikilinks joined to a reader tag (``books.vocabulary``, where the code version has it), to read by hand."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--sample", action="store_true", help="the bundled sample (data/), before and after")
    which.add_argument("--data", type=Path, help="the folder with wikipedia/ and goodbooks/ (the real data)")
    parser.add_argument("--goodbooks-books", type=int, default=None,
                        help="real data: keep the goodbooks books with a reference article plus this many others")
    parser.add_argument("--before", default="main", help="the commit to compare against (default: main)")
    parser.add_argument("--params", default="{}", help="training parameters as JSON (default: the defaults)")
    parser.add_argument("--databases", default=DATABASES,
                        help=f"the scratch databases' names before _before/_after (default: {DATABASES})")
    parser.add_argument("--before-from", type=Path, default=None,
                        help="take the before side from this earlier result file (same catalogue, same --before "
                             "commit) instead of measuring it again")
    parser.add_argument("--key", default=None,
                        help="the result's key in cross_source.json (default: sample or real; e.g. sample_seed_7)")
    args = parser.parse_args(argv)
    key = args.key or ("sample" if args.sample else "real")
    earlier = json.loads(args.before_from.read_text())[key] if args.before_from else None
    figures = run(sample=args.sample, data=args.data.resolve() if args.data else None, before=args.before,
                  goodbooks_books=args.goodbooks_books, params=json.loads(args.params), databases=args.databases,
                  earlier=earlier)
    kept = RESULTS_DIR / "cross_source.json"
    document = json.loads(kept.read_text()) if kept.exists() else {}
    document = {name: value for name, value in document.items() if name.startswith(("sample", "real"))}
    document[key] = figures
    path = write_result("cross_source", document)
    print(json.dumps(figures["summary"], indent=2), f"\n  -> {path}")


def run(*, sample: bool, data: Path | None, before: str, goodbooks_books: int | None, params: dict,
        databases: str = DATABASES, earlier: dict | None = None) -> dict:
    """Both sides' figures; with ``earlier`` (a result of the same catalogue and before commit), its before side."""
    commit = subprocess.run(["git", "rev-parse", "--short", before], cwd=PROJECT_DIR, capture_output=True, text=True,
                            check=True).stdout.strip()
    if earlier is not None and (earlier["before_commit"] != commit or earlier.get("goodbooks_restricted_to")
                                != goodbooks_books or earlier["params"] != (params or "defaults")):
        raise SystemExit("--before-from: that result measured another commit, catalogue or parameters")
    figures: dict = {"before_commit": commit, "params": params or "defaults"}
    training = [f"--param={name}={json.dumps(value)}" for name, value in params.items()]
    with tempfile.TemporaryDirectory() as folder:
        old_tree = export_commit(before, Path(folder) / "tree")
        if sample:
            steps_before = [("load_sample_data",)]
            steps_after = [("load_sample_data",)]
        else:
            articles = data / "wikipedia" / "p15_books.ndjson"
            goodbooks = data / "goodbooks"
            if goodbooks_books is not None:
                goodbooks = _restricted_goodbooks(goodbooks, articles, goodbooks_books, Path(folder) / "goodbooks")
                figures["goodbooks_restricted_to"] = goodbooks_books
            steps_after = [("import_wikipedia_books", str(articles)), ("import_goodbooks", str(goodbooks))]
            steps_before = steps_after
        if earlier is None:
            figures["before"] = _measure(f"{databases}_before", old_tree, steps_before, training)
    figures["after"] = _measure(f"{databases}_after", PROJECT_DIR, steps_after, training)
    if earlier is None:
        _bridged_before(figures)
    else:
        figures["before"] = earlier["before"]
        figures["before_measured_earlier"] = earlier.get("measured_at")
        figures["after"].pop("_bridged_index")
    figures["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    figures["summary"] = _summary(figures)
    return figures


def _measure(database: str, tree: Path, steps: list[tuple[str, ...]], training: list[str]) -> dict:
    env = scratch.fresh_database(database=database, tree=tree)
    timings = {}
    for step in steps:
        started = time.perf_counter()
        scratch.manage(env, *step, tree=tree)
        timings[step[0]] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    scratch.manage(env, "train_embeddings", "--sync", "--verbosity", "0", *training, tree=tree)
    timings["train_embeddings --sync"] = round(time.perf_counter() - started, 1)
    figures = {"commands": [" ".join(("manage.py", *step)) for step in steps] + ["manage.py train_embeddings --sync"],
               "seconds": timings}
    figures.update(_neighbour_figures(env["DATABASE_URL"]))
    figures["map_genres"] = json.loads(
        scratch.manage(env, "shell", "-c", MAP_FIGURES, tree=tree).stdout.strip().splitlines()[-1])
    figures["links_naming_books"] = json.loads(
        scratch.manage(env, "shell", "-c", LINK_FIGURES, tree=tree).stdout.strip().splitlines()[-1])
    figures["vocabulary"] = json.loads(
        scratch.manage(env, "shell", "-c", VOCABULARY_FIGURES, tree=tree).stdout.strip().splitlines()[-1])
    placed = figures["map_genres"]["placed_books"]
    figures["map_genres"]["other_share"] = round(figures["map_genres"]["other"] / placed, 4)
    figures["map_genres"]["not_given_share"] = round(figures["map_genres"]["not_given"] / placed, 4)
    scratch.drop_database(database)
    return figures


def _neighbour_figures(database_url: str) -> dict:
    version, metrics = _query(database_url, "SELECT version.id, run.metrics FROM recommender_embeddingversion AS "
                                            "version JOIN recommender_trainingrun AS run ON run.id = "
                                            "version.training_run_id WHERE version.is_active")[0]
    rows = _query(database_url, "SELECT book.id, book.source, book.title, book.author, book.genre, vector.embedding, "
                                "vector.map_x, vector.map_y FROM recommender_bookvector AS vector JOIN books_book AS "
                                "book ON book.id = vector.book_id WHERE vector.version_id = %s ORDER BY book.id",
                  (version,))
    described = {row[0]: {row[1]} for row in rows}
    identifiers = _query(database_url, "SELECT to_regclass('books_bookidentifier') IS NOT NULL")[0][0]
    wikipedia_title = {row[0]: row[2] for row in rows if row[1] == "wikipedia"}
    if identifiers:
        for book_id, scheme, value in _query(database_url, "SELECT book_id, scheme, value FROM books_bookidentifier "
                                                           "WHERE scheme IN ('wikipedia', 'goodbooks')"):
            if book_id in described:
                described[book_id].add(scheme)
                if scheme == "wikipedia":
                    wikipedia_title[book_id] = value
    ids = [row[0] for row in rows]
    home = [row[1] for row in rows]
    other = ["goodbooks" if source == "wikipedia" else "wikipedia" for source in home]
    vectors = np.array([np.asarray(_vector(row[5]), dtype=np.float32) for row in rows])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    places = np.array([(row[6] or 0.0, row[7] or 0.0) for row in rows], dtype=np.float32)
    nearest = _nearest(vectors @ vectors.T, NEIGHBOURS)
    squared = (places ** 2).sum(axis=1)
    nearest_on_map = _nearest(-(squared[:, None] + squared[None, :] - 2 * places @ places.T), NEIGHBOURS)
    crosses = np.array([[other[i] in described[ids[j]] for j in nearest[i]] for i in range(len(ids))])
    crosses_on_map = np.array([[other[i] in described[ids[j]] for j in nearest_on_map[i]] for i in range(len(ids))])
    both = [i for i, book_id in enumerate(ids) if len(described[book_id]) == 2]
    label = ["+".join(sorted(described[book_id])) for book_id in ids]

    def shares(indices: list[int]) -> dict:
        if not indices:
            return {"books": 0}
        return {"books": len(indices),
                "neighbours_from_other_source": round(float(crosses[indices].mean()), 4),
                "books_with_a_neighbour_from_other_source": round(float(crosses[indices].any(axis=1).mean()), 4),
                "map_neighbours_from_other_source": round(float(crosses_on_map[indices].mean()), 4),
                "neighbours_described_by": {name: round(count / (len(indices) * NEIGHBOURS), 4) for name, count in
                                            sorted(Counter(label[j] for i in indices for j in nearest[i]).items())}}

    titles = [row[2] for row in rows]
    figures = {
        "books_with_vectors": len(ids),
        "described_by": dict(Counter("+".join(sorted(described[book_id])) for book_id in ids)),
        "all_books": shares(list(range(len(ids)))),
        "by_home_source": {source: shares([i for i in range(len(ids)) if home[i] == source])
                           for source in sorted(set(home))},
        "bridged_books": shares(both),
        "bridged_wikipedia_titles": sorted(wikipedia_title[ids[i]] for i in both),
        "run_metrics": {name: value for name, value in metrics.items()
                        if "same_author_precision" in name or name in NOT_FED_IN or name == "data"},
        "same_author_precision@5": _same_author_precision(rows, described, nearest),
        "genres": _genre_figures(database_url),
        "islands": _island_figures(places, vectors, label, nearest_on_map),
    }
    history = [i for i, title in enumerate(titles) if title == "The History of The Hobbit"]
    if history:
        listed = [titles[j] for j in nearest[history[0]]]
        ranked = np.argsort(-(vectors @ vectors[history[0]]))
        hobbit = [rank for rank, j in enumerate(ranked)
                  if titles[j] == "The Hobbit" or titles[j].startswith(("The Hobbit or", "The Hobbit ("))]
        figures["history_of_the_hobbit"] = {"nearest_10": listed, "hobbit_rank": hobbit[0] if hobbit else None,
                                            "has_the_hobbit": bool(hobbit) and hobbit[0] <= NEIGHBOURS}
    figures["_bridged_index"] = {"titles": [wikipedia_title.get(book_id) for book_id in ids],
                                 "crosses": crosses.tolist(), "crosses_on_map": crosses_on_map.tolist()}
    return figures


def _island_figures(places: np.ndarray, vectors: np.ndarray, label: list[str], on_map: np.ndarray) -> dict:
    """The islands of the map and of the embedding (see the module's docstring), by which sources describe books;
    ``on_map``: each book's ``NEIGHBOURS`` nearest places."""
    label = np.array(label)
    figures: dict = {}
    for space, points in (("map", places), ("embedding", vectors)):
        if space == "map":
            squared = (points ** 2).sum(axis=1)
            similarity = -(squared[:, None] + squared[None, :] - 2 * points @ points.T)
        else:
            similarity = points @ points.T
        order = _nearest(similarity, max(ISLAND_NEIGHBOURS))
        del similarity
        for k in ISLAND_NEIGHBOURS:
            figures[f"{space}_k{k}"] = _components(order[:, :k], label)
    mixing = {}
    for side, other in (("wikipedia", "goodbooks"), ("goodbooks", "wikipedia")):
        mine = np.flatnonzero(label == side)
        theirs = np.char.find(label.astype(str), other) >= 0
        if not len(mine):
            continue
        mixing[side] = {"books": len(mine),
                        "map_neighbours_described_by_other_source": round(float(theirs[on_map[mine]].mean()), 4),
                        "with_one_among_10": round(float(theirs[on_map[mine]].any(axis=1).mean()), 4),
                        "if_mixed_at_random": round(float(theirs.mean()), 4)}
    figures["map_mixing"] = mixing
    centres = {side: places[label == side].mean(axis=0) for side in ("wikipedia", "goodbooks") if (label == side).any()}
    if len(centres) == 2:
        spread = float(np.sqrt(((places - places.mean(axis=0)) ** 2).sum(axis=1).mean()))
        figures["map_centres_apart_in_spreads"] = round(
            float(np.linalg.norm(centres["wikipedia"] - centres["goodbooks"])) / spread, 3)
    return figures


def _components(neighbours: np.ndarray, label: np.ndarray) -> dict:
    """The connected components of the undirected graph joining each row to its ``neighbours``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(neighbours)
    graph = coo_matrix((np.ones(neighbours.size), (np.repeat(np.arange(n), neighbours.shape[1]), neighbours.ravel())),
                       shape=(n, n))
    count, component = connected_components(graph, directed=False)
    sizes = np.bincount(component, minlength=count)
    mix = [{side: int(((component == c) & (label == side)).sum()) for side in SIDES} for c in range(count)]
    largest = np.argsort(-sizes, kind="stable")
    figures = {"components": int(count), "sizes": sizes[largest].tolist()[:20],
               "largest_share": round(float(sizes.max()) / n, 4),
               "largest_described_by": [{"books": int(sizes[c]), **mix[c]} for c in largest[:6]]}
    single = {side: int((label == side).sum()) for side in ("wikipedia", "goodbooks")}
    for side, other in (("wikipedia", "goodbooks"), ("goodbooks", "wikipedia")):
        books = np.flatnonzero(label == side)
        if len(books):
            # Among the books one source alone describes in a book's component, the other source's share: 0 where
            # each source has islands of its own, the share in the whole catalogue where they share one island.
            shares = [mix[c][other] / (mix[c][other] + mix[c][side]) for c in component[books]]
            figures[f"{side}_component_share_of_the_other_source"] = round(float(np.mean(shares)), 4)
            figures[f"{side}_component_share_of_the_other_source_in_one_island"] = round(
                single[other] / (single[other] + single[side]), 4)
    if (label == "wikipedia").any() and (label == "goodbooks").any():
        figures["wikipedia_and_goodbooks_mostly_in_one_component"] = bool(
            np.argmax([m["wikipedia"] for m in mix]) == np.argmax([m["goodbooks"] for m in mix]))
    return figures


def _same_author_precision(rows, described, nearest) -> dict:
    def person(author: str) -> str:
        return author.split(",")[0].strip().lower().replace(" ", "").replace(".", "")

    wikipedia = [i for i, row in enumerate(rows) if "wikipedia" in described[row[0]] and person(row[3] or "")]
    written = Counter(person(rows[i][3]) for i in wikipedia)
    scored = [i for i in wikipedia if written[person(rows[i][3])] >= 2]
    hits = [sum(person(rows[j][3] or "") == person(rows[i][3]) for j in nearest[i][:5]) / 5 for i in scored]
    return {"books_scored": len(scored), "precision": round(float(np.mean(hits)), 4) if hits else None}


def _genre_figures(database_url: str) -> dict:
    books, with_genre = _query(database_url, "SELECT count(*), count(*) FILTER (WHERE genre <> '') FROM books_book")[0]
    figures = {"books": books, "share_with_any_genre": round(with_genre / books, 4)}
    if _query(database_url, "SELECT to_regclass('books_genre_books') IS NOT NULL")[0][0]:
        with_vocabulary = _query(database_url, "SELECT count(DISTINCT book_id) FROM books_genre_books")[0][0]
        figures["share_with_a_vocabulary_genre"] = round(with_vocabulary / books, 4)
        figures["vocabulary_genres_used"] = _query(database_url, "SELECT count(DISTINCT genre_id) "
                                                                 "FROM books_genre_books")[0][0]
    else:
        figures["distinct_genre_values"] = _query(database_url, "SELECT count(DISTINCT trim(name)) FROM books_book, "
                                                                "regexp_split_to_table(genre, ',') AS name "
                                                                "WHERE trim(name) <> ''")[0][0]
    return figures


def _bridged_before(figures: dict) -> None:
    """The before catalogue's figures for the Wikipedia articles of the books merged after (its bridged books)."""
    titles = set(figures["after"]["bridged_wikipedia_titles"])
    index = figures["before"].pop("_bridged_index")
    figures["after"].pop("_bridged_index")
    chosen = [i for i, title in enumerate(index["titles"]) if title in titles]
    if not chosen:
        figures["before"]["bridged_books"] = {"books": 0}
        return
    crosses, on_map = np.array(index["crosses"])[chosen], np.array(index["crosses_on_map"])[chosen]
    figures["before"]["bridged_books"] = {
        "books": len(chosen), "what": "the Wikipedia articles of the books merged after",
        "neighbours_from_other_source": round(float(crosses.mean()), 4),
        "books_with_a_neighbour_from_other_source": round(float(crosses.any(axis=1).mean()), 4),
        "map_neighbours_from_other_source": round(float(on_map.mean()), 4)}


def _summary(figures: dict) -> dict:
    def pair(*path):
        values = []
        for side in ("before", "after"):
            value = figures[side]
            for name in path:
                value = value.get(name) if isinstance(value, dict) else None
            values.append(value)
        return values

    return {
        "books_with_vectors": pair("books_with_vectors"),
        "bridged_books": pair("bridged_books", "books"),
        "all_books_neighbours_from_other_source": pair("all_books", "neighbours_from_other_source"),
        "all_books_map_neighbours_from_other_source": pair("all_books", "map_neighbours_from_other_source"),
        "bridged_neighbours_from_other_source": pair("bridged_books", "neighbours_from_other_source"),
        "bridged_with_a_neighbour_from_other_source": pair("bridged_books", "books_with_a_neighbour_from_other_source"),
        "bridged_map_neighbours_from_other_source": pair("bridged_books", "map_neighbours_from_other_source"),
        "history_of_the_hobbit_has_the_hobbit": pair("history_of_the_hobbit", "has_the_hobbit"),
        "history_of_the_hobbit_hobbit_rank": pair("history_of_the_hobbit", "hobbit_rank"),
        "wikipedia_home_neighbours_from_other_source": pair("by_home_source", "wikipedia", "neighbours_from_other_source"),
        "goodbooks_home_neighbours_from_other_source": pair("by_home_source", "goodbooks", "neighbours_from_other_source"),
        "links_naming_a_book": pair("links_naming_books", "links_naming_a_book"),
        "wikilinks_joined_to_a_tag": pair("vocabulary", "joined_wikilinks"),
        "named_book_pairs": [figures[side]["run_metrics"].get("data", {}).get("named_book_pairs")
                             for side in ("before", "after")],
        "run_same_author_precision@5": [
            metrics.get("wikipedia:same_author_precision@5", metrics.get("same_author_precision@5"))
            for metrics in (figures["before"]["run_metrics"], figures["after"]["run_metrics"])],
        "same_author_precision@5": pair("same_author_precision@5", "precision"),
        **{f"run_{name}": [figures[side]["run_metrics"].get(name) for side in ("before", "after")]
           for name in NOT_FED_IN},
        "books": pair("genres", "books"),
        "share_with_any_genre": pair("genres", "share_with_any_genre"),
        "share_with_a_vocabulary_genre": pair("genres", "share_with_a_vocabulary_genre"),
        "map_other_share": pair("map_genres", "other_share"),
        "map_not_given_share": pair("map_genres", "not_given_share"),
        **{f"islands_{space}_k{k}_{name}": pair("islands", f"{space}_k{k}", name)
           for space in ("map", "embedding") for k in ISLAND_NEIGHBOURS
           for name in ("components", "largest_share", "wikipedia_and_goodbooks_mostly_in_one_component")},
        "islands_map_wikipedia_neighbours_described_by_goodbooks": pair(
            "islands", "map_mixing", "wikipedia", "map_neighbours_described_by_other_source"),
        "islands_map_goodbooks_neighbours_described_by_wikipedia": pair(
            "islands", "map_mixing", "goodbooks", "map_neighbours_described_by_other_source"),
        "islands_map_centres_apart_in_spreads": pair("islands", "map_centres_apart_in_spreads"),
    }


def _nearest(similarity: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` most similar other rows, most similar first."""
    np.fill_diagonal(similarity, -np.inf)
    top = np.argpartition(-similarity, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def _vector(value) -> list[float]:
    return json.loads(value) if isinstance(value, str) else list(value)


def _restricted_goodbooks(source: Path, articles: Path, others: int, target: Path) -> Path:
    """A copy of the goodbooks folder with the books paired with an imported article plus ``others`` drawn."""
    with open(articles, encoding="utf-8") as handle:
        titles = {json.loads(line)[0] for line in handle if line.strip()}
    paired = {row["book_id"] for row in _rows(source / "goodbooks_to_wikipedia_title.csv")
              if row["wikipedia_title"] in titles}
    books = _rows(source / "books.csv")
    rest = sorted((row["book_id"] for row in books if row["book_id"] not in paired), key=int)
    kept = paired | set(random.Random(SEED).sample(rest, min(others, len(rest))))
    goodreads = {row["goodreads_book_id"] for row in books if row["book_id"] in kept}
    target.mkdir()
    for name, column, allowed in (("books.csv", "book_id", kept), ("book_tags.csv", "goodreads_book_id", goodreads),
                                  ("to_read.csv", "book_id", kept), ("ratings.csv", "book_id", kept),
                                  ("tags.csv", None, None)):
        with open(source / name, newline="", encoding="utf-8") as handle, \
                open(target / name, "w", newline="", encoding="utf-8") as out:
            reader = csv.DictReader(handle)
            writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
            writer.writeheader()
            writer.writerows(row for row in reader if column is None or row[column] in allowed)
    return target


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _query(database_url: str, sql: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(sql, params).fetchall()


if __name__ == "__main__":
    main()
