"""A large generated catalogue with readers, in goodbooks-10k's folder format, with its planted truth.

One parameter, ``--books N``, sets the size; the other figures follow the ratios of the target catalogue of
issue 22 (200,000 books, 1,000,000 readers, 20,000,000 shelf entries, ~5,000,000 book–tag pairs):
readers = 5·N, shelf entries ≈ 100·N, book–tag pairs ≈ 25·N, tags ≈ N/2 (at least 400). The folder is what
``manage.py import_goodbooks`` reads: ``books.csv``, ``tags.csv``, ``book_tags.csv``, ``to_read.csv`` (a
quarter of the entries: want-to-read) and ``ratings.csv`` (the rest: read, rated 1–5).

Planted structure, so quality can be checked against a known truth (``truth.npz``, summary in ``truth.json``):

* every book has one latent genre (``GENRES``, skewed sizes), written as a genre tag the importer reads
  back into ``Book.genre`` (``books.importers.goodbooks.GENRE_OF_TAG``);
* book popularity follows a power law (weight ∝ (rank + 10)^-``POPULARITY_EXPONENT``, ranks shuffled),
  as shelves do: the head takes most entries, the long tail a few each;
* authors write a geometric number of books (mean 3) in one genre; an author's books share an author tag;
  a third of authors write a series (titles "Title (Series, #k)") whose books share a series tag;
* a reader has 1–3 favourite genres (Dirichlet weights) and draws ``TASTE_SHARE`` of their books from them,
  the rest from the whole catalogue, each by popularity; shelf sizes are log-normal (mean 20);
* tags other than genre/author/series have Zipf popularity and a home genre; a book takes ``TAG_HOME_SHARE``
  of its topical tags from its genre's tags.

Vectorised NumPy, CSV written in chunks (memory: ~40 bytes an entry while generating, ~1 GB at 20M entries).
Deterministic for a seed.

Usage: python -m bench.scale.generate --books N --out DIR [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

READERS_PER_BOOK = 5
ENTRIES_PER_BOOK = 100
PAIRS_PER_BOOK = 25
TAGS_PER_BOOK = 0.5
MIN_TAGS = 400
TO_READ_SHARE = 0.25
POPULARITY_EXPONENT = 1.0
TASTE_SHARE = 0.85
TAG_HOME_SHARE = 0.8
MEAN_BOOKS_PER_AUTHOR = 3.0
SERIES_SHARE = 1 / 3
CHUNK = 1_000_000
GENRES = (  # (tag the importer reads as a genre, relative size)
    ("fantasy", 12), ("science-fiction", 9), ("romance", 10), ("mystery", 7), ("thriller", 7),
    ("historical-fiction", 7), ("young-adult", 6), ("non-fiction", 6), ("horror", 4), ("classics", 4),
    ("biography", 3), ("memoir", 3), ("crime", 3), ("poetry", 2), ("graphic-novels", 2), ("childrens", 3),
    ("humor", 2), ("history", 3), ("philosophy", 1.5), ("religion", 1.5), ("psychology", 1.5), ("science", 2),
    ("self-help", 2), ("business", 1.5), ("short-stories", 1), ("plays", 1), ("travel", 1), ("politics", 1),
    ("dystopian", 2), ("paranormal", 2),
)
SYLLABLES = ("ka", "lo", "mir", "ven", "tal", "or", "bri", "sen", "dun", "ael", "cor", "fen", "gar", "hil", "ist",
             "jor", "kel", "lun", "mor", "nar", "oth", "pel", "quin", "ros", "sul", "tor", "ul", "vas", "wen", "yr")
NOUNS = ("Garden", "Winter", "River", "Crown", "Letters", "Shadow", "Harbour", "Machine", "Daughter", "Empire",
         "Journey", "Orchard", "Storm", "Library", "Silence", "Engine", "Bridge", "Lantern", "Tide", "Forest")


@dataclass(frozen=True)
class Figures:
    """What a generated folder holds."""

    books: int
    readers: int
    shelf_entries: int
    to_read_entries: int
    rated_entries: int
    tags: int
    book_tag_pairs: int
    authors: int
    series: int
    genres: int
    seconds: float


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, required=True, help="books (readers, entries and tags follow)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args(argv)
    figures = generate(args.books, args.out, seed=args.seed)
    print(json.dumps(asdict(figures)))


def generate(n_books: int, out: Path, *, seed: int = 22) -> Figures:
    """Writes the folder for ``n_books`` books and returns its figures."""
    if n_books < 50:
        raise ValueError("generate at least 50 books")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_genres = len(GENRES)
    genre_share = np.array([size for _, size in GENRES], float)
    genre_share /= genre_share.sum()

    # Authors (one genre each), their books, series.
    books_of_author = np.minimum(rng.geometric(1 / MEAN_BOOKS_PER_AUTHOR, n_books), 40)
    books_of_author = books_of_author[: np.searchsorted(np.cumsum(books_of_author), n_books) + 1]
    book_author = np.repeat(np.arange(len(books_of_author)), books_of_author)[:n_books]
    order = rng.permutation(n_books)  # authors' books are not consecutive ids
    book_author = book_author[order]
    n_authors = int(book_author.max()) + 1
    author_genre = rng.choice(n_genres, n_authors, p=genre_share)
    book_genre = author_genre[book_author]
    author_has_series = rng.random(n_authors) < SERIES_SHARE
    author_books_count = np.bincount(book_author, minlength=n_authors)
    series_author = np.flatnonzero(author_has_series & (author_books_count >= 2))
    series_of_author = np.full(n_authors, -1)
    series_of_author[series_author] = np.arange(len(series_author))
    book_series = series_of_author[book_author]
    # A book's number in its series: its rank among its author's books.
    by_author = np.lexsort((np.arange(n_books), book_author))
    first = np.searchsorted(book_author[by_author], book_author[by_author])
    rank_in_author = np.empty(n_books, np.int64)
    rank_in_author[by_author] = np.arange(n_books) - first
    book_number = np.where(book_series >= 0, rank_in_author + 1, 0)

    # Popularity: a power law over shuffled ranks.
    popularity = (rng.permutation(n_books) + 10.0) ** -POPULARITY_EXPONENT
    popularity /= popularity.sum()

    n_readers = READERS_PER_BOOK * n_books
    _write_books(out, rng, n_books, book_author, book_series, book_number, popularity)
    n_tags, n_pairs = _write_tags(out, rng, n_books, book_genre, book_author, book_series)
    reader_genres, reader_weights, entries = _write_shelves(out, rng, n_readers, n_books, book_genre, popularity,
                                                            genre_share)
    np.savez_compressed(out / "truth.npz", book_genre=book_genre.astype(np.int16), book_author=book_author.astype(np.int32),
                        book_series=book_series.astype(np.int32), popularity=popularity.astype(np.float32),
                        reader_genres=reader_genres.astype(np.int16), reader_weights=reader_weights.astype(np.float32))
    figures = Figures(books=n_books, readers=n_readers, shelf_entries=entries[0] + entries[1], to_read_entries=entries[0],
                      rated_entries=entries[1], tags=n_tags, book_tag_pairs=n_pairs, authors=n_authors,
                      series=len(series_author), genres=n_genres, seconds=round(time.perf_counter() - started, 1))
    (out / "truth.json").write_text(json.dumps({
        **asdict(figures), "seed": seed, "genres_by_index": [name for name, _ in GENRES],
        "book_index": "goodbooks book_id - 1", "reader_index": "goodbooks user_id - 1",
        "arrays": {"book_genre": "latent genre of each book", "book_author": "author of each book",
                   "book_series": "series of each book (-1: none)", "popularity": "planted popularity weight",
                   "reader_genres": "a reader's 3 taste genres (-1: unused)",
                   "reader_weights": "their weights (sum 1)"},
    }, indent=2) + "\n")
    return figures


def _write_books(out: Path, rng, n_books: int, book_author, book_series, book_number, popularity) -> None:
    syllables = np.array(SYLLABLES)
    nouns = np.array(NOUNS)
    first = rng.integers(0, len(SYLLABLES), (n_books, 2))
    words = rng.integers(0, len(NOUNS), n_books)
    years = rng.integers(1850, 2024, n_books)
    ratings_count = np.maximum(1, (popularity * 5e8).astype(np.int64))
    with (out / "books.csv").open("w", encoding="utf-8") as file:
        file.write("book_id,goodreads_book_id,authors,original_publication_year,original_title,title,"
                   "language_code,ratings_count,image_url\n")
        for start in range(0, n_books, CHUNK):
            stop = min(n_books, start + CHUNK)
            lines = []
            for i in range(start, stop):
                author = book_author[i]
                name = f"{SYLLABLES[author % 30].title()}{SYLLABLES[(author // 30) % 30]} " \
                       f"{SYLLABLES[(author // 900) % 30].title()}{SYLLABLES[(author // 27000) % 30]}{author}"
                title = f"The {nouns[words[i]]} of {syllables[first[i, 0]].title()}{syllables[first[i, 1]]} {i + 1}"
                full = title
                if book_series[i] >= 0:
                    full = f"{title} ({NOUNS[book_series[i] % 20]} Saga {book_series[i]}, #{book_number[i]})"
                lines.append(f'{i + 1},{i + 1},{name},{years[i]}.0,{title},"{full}",eng,{ratings_count[i]},\n')
            file.write("".join(lines))


def _write_tags(out: Path, rng, n_books: int, book_genre, book_author, book_series) -> tuple[int, int]:
    """Genre, author and series tags, plus topical tags with a home genre; returns (tags, pairs)."""
    n_genres = len(GENRES)
    n_topical = max(MIN_TAGS, int(TAGS_PER_BOOK * n_books))
    tag_genre = rng.integers(0, n_genres, n_topical)
    tag_weight = (rng.permutation(n_topical) + 1.0) ** -0.8
    # Topical pairs: per book, a count around PAIRS_PER_BOOK less its genre/author/series tags.
    per_book = np.clip(rng.poisson(1.15 * (PAIRS_PER_BOOK - 3), n_books), 3, None)  # ~13 % repeat
    pair_book = np.repeat(np.arange(n_books), per_book)
    home = rng.random(len(pair_book)) < TAG_HOME_SHARE
    pair_tag = np.empty(len(pair_book), np.int64)
    pair_tag[~home] = _draw(rng, tag_weight, int((~home).sum()))
    home_genre = book_genre[pair_book[home]]
    home_tags = np.empty(int(home.sum()), np.int64)
    for genre in range(n_genres):
        mask = home_genre == genre
        members = np.flatnonzero(tag_genre == genre)
        if len(members) == 0:
            members = np.arange(n_topical)
        home_tags[mask] = members[_draw(rng, tag_weight[members], int(mask.sum()))]
    pair_tag[home] = home_tags
    # Tag ids: genres 0.., authors, series, topical; author/series tags only where they join 2+ books.
    author_sizes = np.bincount(book_author)
    shared_author = np.flatnonzero(author_sizes >= 2)
    author_tag_of = np.full(len(author_sizes), -1)
    author_tag_of[shared_author] = n_genres + np.arange(len(shared_author))
    n_series = int(book_series.max()) + 1 if (book_series >= 0).any() else 0
    series_base = n_genres + len(shared_author)
    topical_base = series_base + n_series
    books_ = [np.arange(n_books), pair_book]
    tags_ = [book_genre.astype(np.int64), pair_tag + topical_base]
    has_author_tag = author_tag_of[book_author] >= 0
    books_.append(np.flatnonzero(has_author_tag))
    tags_.append(author_tag_of[book_author[has_author_tag]])
    in_series = book_series >= 0
    books_.append(np.flatnonzero(in_series))
    tags_.append(series_base + book_series[in_series])
    book = np.concatenate(books_)
    tag = np.concatenate(tags_)
    key = np.unique(book * (topical_base + n_topical) + tag)
    book, tag = key // (topical_base + n_topical), key % (topical_base + n_topical)
    count = 1 + rng.geometric(0.05, len(book))
    count[tag < n_genres] += 500  # a book's genre is its most used tag, as on Goodreads
    with (out / "tags.csv").open("w", encoding="utf-8") as file:
        file.write("tag_id,tag_name\n")
        names = [name for name, _ in GENRES]
        names += [f"author-{a}" for a in shared_author]
        names += [f"series-{s}" for s in range(n_series)]
        names += [f"topic-{SYLLABLES[t % 30]}{SYLLABLES[(t // 30) % 30]}-{t}" for t in range(n_topical)]
        file.write("".join(f"{i},{name}\n" for i, name in enumerate(names)))
    _write_columns(out / "book_tags.csv", "goodreads_book_id,tag_id,count", book + 1, tag, count)
    return topical_base + n_topical, len(book)


def _write_shelves(out: Path, rng, n_readers: int, n_books: int, book_genre, popularity, genre_share):
    """Readers' tastes and shelves; returns (taste genres, their weights, (to-read entries, rated entries))."""
    n_genres = len(GENRES)
    # 1-3 taste genres a reader (drawn by genre size), Dirichlet weights.
    tastes = rng.choice([1, 2, 3], n_readers, p=[0.3, 0.45, 0.25])
    reader_genres = np.stack([rng.choice(n_genres, n_readers, p=genre_share) for _ in range(3)], axis=1)
    reader_genres[np.arange(3)[None, :] >= tastes[:, None]] = -1
    reader_weights = rng.dirichlet(np.ones(3), n_readers)
    reader_weights[reader_genres < 0] = 0.0
    reader_weights /= reader_weights.sum(axis=1, keepdims=True)
    # Shelf sizes: log-normal, at least 2.
    mean = 1.35 * ENTRIES_PER_BOOK / READERS_PER_BOOK  # drawn over, as repeats of a book are dropped
    sigma = 0.9
    sizes = np.maximum(2, rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, n_readers).astype(np.int64))
    entry_reader = np.repeat(np.arange(n_readers), sizes)
    n = len(entry_reader)
    entry_book = np.empty(n, np.int64)
    from_taste = rng.random(n) < TASTE_SHARE
    # Which of the reader's taste genres: by their weights.
    cumulative = np.cumsum(reader_weights, axis=1)
    which = (rng.random(n)[:, None] > cumulative[entry_reader]).sum(axis=1).clip(0, 2)
    entry_genre = np.where(from_taste, reader_genres[entry_reader, which], -1)
    del which, cumulative
    anywhere = entry_genre < 0
    entry_book[anywhere] = _draw(rng, popularity, int(anywhere.sum()))
    for genre in range(n_genres):
        mask = entry_genre == genre
        members = np.flatnonzero(book_genre == genre)
        if len(members) == 0:  # a small catalogue may have no book of a genre readers like
            members = np.arange(n_books)
        entry_book[mask] = members[_draw(rng, popularity[members], int(mask.sum()))]
    del entry_genre, from_taste, anywhere
    key = np.unique(entry_reader * n_books + entry_book)  # a reader shelves a book once
    del entry_reader, entry_book
    target = ENTRIES_PER_BOOK * n_books
    if len(key) > target:  # down to the target, readers' shelves thinned evenly
        key = np.sort(rng.choice(key, target, replace=False))
    reader, book = key // n_books, key % n_books
    del key
    to_read = rng.random(len(reader)) < TO_READ_SHARE
    _write_columns(out / "to_read.csv", "user_id,book_id", reader[to_read] + 1, book[to_read] + 1)
    rating = np.clip(np.round(rng.normal(3.9, 0.9, int((~to_read).sum()))), 1, 5).astype(np.int64)
    _write_columns(out / "ratings.csv", "user_id,book_id,rating", reader[~to_read] + 1, book[~to_read] + 1, rating)
    return reader_genres, reader_weights, (int(to_read.sum()), int((~to_read).sum()))


def _draw(rng, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn with probability proportional to ``weights`` (inverse CDF, vectorised)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(weights) - 1)


def _write_columns(path: Path, header: str, *columns: np.ndarray) -> None:
    """Integer columns as CSV, a million rows at a time."""
    template = ",".join(["%d"] * len(columns)) + "\n"
    with path.open("w", encoding="utf-8") as file:
        file.write(header + "\n")
        n = len(columns[0])
        for start in range(0, n, CHUNK):
            chunk = np.stack([column[start:start + CHUNK] for column in columns], axis=1).tolist()
            file.write("".join(template % tuple(row) for row in chunk))


if __name__ == "__main__":
    sys.exit(main())
