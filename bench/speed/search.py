"""Search at scale (issue 22): the search page on a catalogue of 200,000 generated books, its vocabulary in PostgreSQL.

A scratch database (``bookvec_bench_search``, migrated) gets ``--books`` generated books (seeded): titles drawn from
the words of the bundled sample's titles (as often as they are used there) mixed with made-up proper names (places,
characters: syllables of real names), 15 % of them in a series ("… (The Kelvarin Saga, #3)"), authors a first
name of the sample's authors and a surname of the sample's or a made-up one, popularity following a power law. They
are written with COPY in chunks, so the vocabulary's triggers (migration ``0014_search``) run as on a bulk import.

Then gunicorn serves the app (1 sync worker, DEBUG off, on the scratch database) and the benchmark requests, one
after another (latency is the service time of one request), ``--queries`` pages of each kind:

* plain: two consecutive words of a random book's title, or its author's surname and a title word (found as typed);
* misspelled: the same queries with one letter added, dropped, changed or two swapped in their longest word (not
  its first letter): how often the page corrects it back to the query meant, and how fast;
* prefix: a plain query with its longest word cut to 3–4 letters;
* reference: ``GET /api/v1/books/{id}/`` (one book's record by id, the cheapest database page of the API).

Memory: the gunicorn worker's resident memory after one page and after every search. The old approach
(``books/search.py`` at commit a2ff5b7: the vocabulary and its trigram index built in every web process) is
measured in this process on the same catalogue: build time, memory (resident), and its in-process
lookup time per misspelled query.

Usage: python -m bench.speed.search [--books 200000] [--queries 300]   (starts its own scratch servers)
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import re
import subprocess
import sys
import time
import types
import urllib.parse
import urllib.request
from collections import Counter
from html import unescape

import numpy as np

from bench.support.common import PROJECT_DIR, percentiles_ms, write_result

DATABASE = "bookvec_bench_search"
PORT = 8104
CHUNK = 50_000
OLD_COMMIT = "a2ff5b7"
SYLLABLES = ("al ar as bel bran cal car cor dar del dor dra el en er fal fen gal gar gor hal har is kel kor lan "
             "lin lor mal mar mel mir mor nal nor or ran rin ros sal sar sel tal tar tor ul val var ven vor wyn "
             "zan zor ith and en os ia").split()
SERIES_FORMS = ("The {} Saga", "The {} Chronicles", "{}", "The {} Cycle", "Tales of {}", "The {} Trilogy")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", default="search")
    parser.add_argument("--port", type=int, default=PORT, help="where gunicorn listens (loopback)")
    parser.add_argument("--skip-old", action="store_true", help="leave out the old in-process vocabulary (slow)")
    args = parser.parse_args(argv)
    from bench.support.scratch import fresh_database

    env = fresh_database(database=DATABASE)
    os.environ.update(env)
    from bench.support.scratch import django_setup

    django_setup()
    figures = run(books=args.books, queries=args.queries, seed=args.seed, old=not args.skip_old, port=args.port)
    path = write_result(args.name, figures)
    print(f"search: {json.dumps(figures['summary'])}\n  -> {path}")


def run(*, books: int, queries: int, seed: int, old: bool = True, port: int = PORT) -> dict:
    rng = np.random.default_rng(seed)
    catalogue = generate_catalogue(books, rng)
    loading = load_catalogue(catalogue)
    vocabulary = _vocabulary_size()
    triggers = _trigger_costs()
    asked = _queries(catalogue, queries, rng)
    served = _serve(asked, reference_ids=[int(i) for i in rng.choice(_book_ids(), size=queries)], port=port)
    old = _old_in_process(asked["misspelled"]) if old else {"rss_growth_mib": None, "build_seconds": None,
                                                             "skipped": "--skip-old"}
    kinds = ("plain", "misspelled", "prefix", "reference")
    return {
        "books": books, "queries_per_kind": queries, "seed": seed,
        "loading": loading, "vocabulary": vocabulary, "trigger_costs": triggers,
        "served": served, "old_in_process": old,
        "examples": {kind: asked[kind][:5] for kind in ("plain", "misspelled", "prefix")},
        "summary": {
            **{f"{kind}_p50_ms": served[kind]["latency"]["p50_ms"] for kind in kinds},
            **{f"{kind}_p95_ms": served[kind]["latency"]["p95_ms"] for kind in kinds},
            "misspelled_corrected_to_the_query_meant": served["misspelled"]["corrected_to_meant"],
            "misspelled_corrected_to_another_query": served["misspelled"]["corrected_to_other"],
            "misspelled_left_uncorrected": served["misspelled"]["uncorrected"],
            "worker_rss_mib_before_after": [served["worker_rss_mib_before"], served["worker_rss_mib_after"]],
            "old_vocabulary_rss_mib_per_process": old["rss_growth_mib"],
            "old_vocabulary_build_s": old["build_seconds"],
            "vocabulary_words": vocabulary["words"],
            "target": "search p50 <= 100 ms at 200,000 books without the vocabulary in every web process",
            "met": all(served[kind]["latency"]["p50_ms"] <= 100 for kind in ("plain", "misspelled", "prefix")),
        },
    }


# --- The catalogue ---------------------------------------------------------------------------------------------------

def generate_catalogue(count: int, rng) -> list[dict]:
    """``count`` books: title, author, popularity (a power law), seeded."""
    title_words, first_names, surnames = _sample_words()
    words, weights = zip(*title_words.most_common())
    weights = np.asarray(weights, dtype=float) / sum(weights)
    # Arrays, not lists: rng.choice copies a list into an array on every call.
    names = np.array(sorted({_made_up_name(rng) for _ in range(count // 3)}))
    made_up_surnames = np.array(sorted({_made_up_name(rng) for _ in range(count // 5)}))
    first_names, surnames = np.array(first_names), np.array(surnames)
    author_count = max(count // 4, 1)
    authors = [f"{rng.choice(first_names)} "
               f"{rng.choice(surnames) if rng.random() < 0.5 else rng.choice(made_up_surnames)}"
               for _ in range(author_count)]
    author_weights = 1 / np.arange(1, author_count + 1) ** 0.8
    author_weights /= author_weights.sum()
    drawn_words = iter(rng.choice(words, size=count * 5, p=weights))
    drawn_authors = iter(rng.choice(author_count, size=count, p=author_weights))
    books, series_left = [], []
    for _ in range(count):
        if series_left:
            series, number, author = series_left.pop()
            title = f"{_title(rng, drawn_words, names)} ({series}, #{number})"
        else:
            author = authors[next(drawn_authors)]
            title = _title(rng, drawn_words, names)
            if rng.random() < 0.04:  # a series of 2–7 books by one author, the rest to follow
                series = SERIES_FORMS[int(rng.integers(len(SERIES_FORMS)))].format(rng.choice(names))
                length = int(rng.integers(2, 8))
                title = f"{title} ({series}, #1)"
                series_left = [(series, n, author) for n in range(length, 1, -1)]
        books.append({"title": title, "author": author, "popularity": min(int(rng.pareto(1.0) * 200), 5_000_000)})
    return books


def _title(rng, drawn_words, names) -> str:
    length = int(rng.choice([1, 2, 3, 3, 4, 4, 5, 6]))
    title = [next(drawn_words) for _ in range(length)]
    if rng.random() < 0.4:
        title.insert(int(rng.integers(0, length + 1)), rng.choice(names))
    return " ".join(str(word) if word in ("of", "and", "the", "a", "in", "to") and i else str(word).capitalize()
                    for i, word in enumerate(title))


def _made_up_name(rng) -> str:
    return "".join(SYLLABLES[i] for i in rng.integers(len(SYLLABLES), size=int(rng.integers(2, 4)))).capitalize()


def _sample_words() -> tuple[Counter, list[str], list[str]]:
    """The bundled sample's title words (with how often each is used), authors' first names and surnames."""
    titles, authors = [], []
    with open(PROJECT_DIR / "data" / "goodbooks" / "books.csv", newline="") as books:
        for row in csv.DictReader(books):
            titles.append(re.sub(r"\s*\(.*\)\s*$", "", row["title"]))
            authors.extend(row["authors"].split(","))
    with open(PROJECT_DIR / "data" / "wikipedia" / "p15_books.ndjson") as articles:
        for line in articles:
            titles.append(re.sub(r"\s*\(.*\)\s*$", "", json.loads(line)[0]))
    title_words = Counter(word for title in titles for word in re.findall(r"[a-z']+", title.lower())
                          if len(word.strip("'")) > 1 or word == "a")
    names = [name.split() for name in authors if len(name.split()) >= 2]
    first_names = sorted({name[0] for name in names if name[0].isalpha() and len(name[0]) > 2})
    surnames = sorted({name[-1] for name in names if name[-1].isalpha()})
    return title_words, first_names, surnames


def load_catalogue(catalogue: list[dict]) -> dict:
    """Writes the books with COPY, ``CHUNK`` a statement (the vocabulary's triggers run once per chunk)."""
    from django.db import connection

    from books.text import book_search_text

    chunk_seconds = []
    with connection.cursor() as cursor:
        for start in range(0, len(catalogue), CHUNK):
            began = time.perf_counter()
            with cursor.copy("COPY books_book (external_id, source, title, author, genre, country, language, "
                             "publisher, pages_raw, isbn, cover_url, metadata, search_text, popularity, created_at, "
                             "updated_at) FROM STDIN") as copy:
                for n, book in enumerate(catalogue[start:start + CHUNK], start=start):
                    copy.write_row((f"goodbooks:bench-{n}", "goodbooks", book["title"], book["author"], "", "", "",
                                    "", "", "", "", "{}", book_search_text(book["title"], book["author"]),
                                    book["popularity"], "2026-12-07T00:00:00Z", "2026-12-07T00:00:00Z"))
            chunk_seconds.append(round(time.perf_counter() - began, 2))
        cursor.execute("ANALYZE books_book; ANALYZE books_searchword; ANALYZE books_searchtrigram")
    return {"chunk_rows": CHUNK, "chunk_seconds": chunk_seconds, "total_seconds": round(sum(chunk_seconds), 1)}


def _vocabulary_size() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM books_searchword), (SELECT count(*) FROM books_searchtrigram), "
                       "pg_total_relation_size('books_searchword'), pg_total_relation_size('books_searchtrigram')")
        words, trigrams, words_bytes, trigram_bytes = cursor.fetchone()
    return {"words": words, "trigram_rows": trigrams, "words_table_mib": round(words_bytes / 2**20, 1),
            "trigram_table_mib": round(trigram_bytes / 2**20, 1)}


def _trigger_costs() -> dict:
    """What the vocabulary's triggers cost a write: one book saved by the ORM, and every book's popularity updated
    in one statement (search_text unchanged) with and without them (each rolled back)."""
    from django.db import connection, transaction

    from books.models import Book

    single = []
    for n in range(20):
        with transaction.atomic():
            began = time.perf_counter()
            Book.objects.create(external_id=f"goodbooks:bench-single-{n}", source="goodbooks",
                                title=f"Kelvarindor Sunrise {n}", author="Ada Benchmark",
                                search_text=f"kelvarindor sunrise {n} ada benchmark")
            single.append(time.perf_counter() - began)
            transaction.set_rollback(True)
    bulk = {}
    for label, disable in (("with_triggers", False), ("without_triggers", True)):
        with transaction.atomic(), connection.cursor() as cursor:
            if disable:
                cursor.execute("ALTER TABLE books_book DISABLE TRIGGER books_searchword_update")
            began = time.perf_counter()
            cursor.execute("UPDATE books_book SET popularity = popularity + 1")
            bulk[label] = round(time.perf_counter() - began, 2)
            transaction.set_rollback(True)
    return {"one_book_insert": percentiles_ms(single), "update_every_books_popularity_seconds": bulk}


def _book_ids() -> list[int]:
    from books.models import Book

    return list(Book.objects.values_list("id", flat=True))


# --- Queries -----------------------------------------------------------------------------------------------------------

def _queries(catalogue: list[dict], count: int, rng) -> dict[str, list]:
    from books.search import query_words

    plain, misspelled, prefix = [], [], []
    while len(plain) < count:
        book = catalogue[int(rng.integers(len(catalogue)))]
        title = query_words(re.sub(r"\s*\(.*\)$", "", book["title"]))
        if rng.random() < 0.3:
            words = [query_words(book["author"])[-1], title[int(rng.integers(len(title)))]]
        elif len(title) >= 2:
            start = int(rng.integers(len(title) - 1))
            words = title[start:start + 2]
        else:
            continue
        longest = max(words, key=len)
        if len(longest) < 5:
            continue
        plain.append(" ".join(words))
        typo = _one_edit(longest, rng)
        misspelled.append({"query": " ".join(typo if word == longest else word for word in words),
                           "meant": " ".join(words)})
        cut = longest[: int(rng.integers(3, 5))]
        prefix.append(" ".join(cut if word == longest else word for word in words))
    return {"plain": plain, "misspelled": misspelled, "prefix": prefix}


def _one_edit(word: str, rng) -> str:
    """``word`` with one letter added, dropped, changed or two swapped, never the first letter."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    while True:
        at = int(rng.integers(1, len(word)))
        kind = rng.choice(["add", "drop", "change", "swap"])
        if kind == "add":
            edited = word[:at] + rng.choice(list(letters)) + word[at:]
        elif kind == "drop":
            edited = word[:at] + word[at + 1:]
        elif kind == "change":
            edited = word[:at] + rng.choice([c for c in letters if c != word[at]]) + word[at + 1:]
        else:
            edited = word[:at] + word[at + 1:at + 2] + word[at] + word[at + 2:] if at + 1 < len(word) else word
        if edited != word:
            return edited


# --- Serving -------------------------------------------------------------------------------------------------------

def _serve(asked: dict[str, list], *, reference_ids: list[int], port: int) -> dict:
    """Each kind of request, one after another, against gunicorn with one worker."""
    import psutil

    from bench.speed.http_load import start_gunicorn, stop_server, wait_until_up

    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, 1)
    try:
        wait_until_up(f"{base}/api/v1/books/{reference_ids[0]}/", server)
        worker = psutil.Process(server.pid).children()[0]
        rss_before = worker.memory_info().rss / 2**20
        served = {}
        for kind in ("reference", "plain", "prefix", "misspelled"):
            if kind == "reference":
                paths = [f"/api/v1/books/{book}/" for book in reference_ids]
            else:
                paths = ["/search/?" + urllib.parse.urlencode({"q": query["query"] if kind == "misspelled" else query})
                         for query in asked[kind]]
            seconds, pages = [], []
            for path in paths:
                began = time.perf_counter()
                with urllib.request.urlopen(base + path, timeout=60) as response:
                    body = response.read().decode()
                seconds.append(time.perf_counter() - began)
                pages.append(body)
            served[kind] = {"latency": {**percentiles_ms(seconds),
                                        "p95_ms": round(float(np.percentile(np.asarray(seconds) * 1000, 95)), 3)}}
            if kind != "reference":
                served[kind]["found_books"] = sum(not re.search(r'role="status">0 books', page) for page in pages)
            if kind == "misspelled":
                corrections = [_correction(page) for page in pages]
                meant = [query["meant"] for query in asked[kind]]
                served[kind]["corrected_to_meant"] = sum(c == m for c, m in zip(corrections, meant))
                served[kind]["corrected_to_other"] = sum(c is not None and c != m for c, m in zip(corrections, meant))
                served[kind]["uncorrected"] = sum(c is None for c in corrections)
                served[kind]["other_corrections"] = [
                    {"query": q["query"], "meant": m, "corrected": c}
                    for q, m, c in zip(asked[kind], meant, corrections) if c is not None and c != m][:10]
        rss_after = worker.memory_info().rss / 2**20
    finally:
        stop_server(server)
    return {**served, "worker_rss_mib_before": round(rss_before, 1), "worker_rss_mib_after": round(rss_after, 1)}


def _correction(page: str) -> str | None:
    found = re.search(r"showing results for <strong>“(.*?)”</strong>", page)
    return unescape(found.group(1)) if found else None


# --- The old approach ---------------------------------------------------------------------------------------------

def _old_in_process(misspelled: list[dict]) -> dict:
    """``books/search.py`` at ``OLD_COMMIT`` (the vocabulary in the process): build time and memory at this size,
    and its lookup per misspelled query (the in-process part only; its search query came on top)."""
    import psutil

    from books.search import query_words

    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:books/search.py"], cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=True).stdout
    old = types.ModuleType("old_search")
    exec(compile(source, "old_search.py", "exec"), old.__dict__)  # noqa: S102 - the project's own earlier code
    gc.collect()
    process = psutil.Process()
    rss_before = process.memory_info().rss
    began = time.perf_counter()
    vocabulary = old._search_vocabulary()
    build = time.perf_counter() - began
    rss_after = process.memory_info().rss
    seconds = []
    for query in misspelled:
        began = time.perf_counter()
        [vocabulary.spellings(word) for word in query_words(query["query"])]
        seconds.append(time.perf_counter() - began)
    return {"commit": OLD_COMMIT, "build_seconds": round(build, 2), "words": len(vocabulary.words),
            "rss_growth_mib": round((rss_after - rss_before) / 2**20, 1),
            "lookup_per_misspelled_query": percentiles_ms(seconds)}


if __name__ == "__main__":
    sys.exit(main())
