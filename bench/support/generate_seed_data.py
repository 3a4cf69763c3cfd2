"""Seed data at the original notebook's scale, in its ndjson format, with planted structure.

Each line is ``[title, infobox, wikilinks, external links, last-edit timestamp, article length]``, the
format of the original ``found_books_filtered.ndjson``. At full scale (the default) the file has the
original's figures: 37,020 books; 41,758 links used by at least 4 books, making 772,798 (book, link)
pairs; plus 255,866 rare links used by fewer than 4 books (297,624 distinct lowercased links in all, as
in the original) which the original's filter drops; plus the format links ``Hardcover``/``Paperback``
which its removal list drops.

Planted structure, so quality can be measured against a known truth:

* every book belongs to one of ``GENRES`` (skewed sizes), written into the infobox ``genre``;
* authors write several books (geometric, mean 2.5), all in the author's genre; an author with at
  least 4 books has a wikilink (their page) shared by all their books;
* the other kept links have Zipf-like popularity (degree 4 + A·rank^-0.7) and a home genre: all but the
  most popular 1 % take 80 % of their books from their home genre, the rest from all books.

Deterministic for a seed. ``--books N`` scales every figure by N / 37,020 (smoke tests use ~300).
``--from PATH`` converts a real data set instead: a Wikipedia ndjson file is copied line by line, a
goodbooks-10k folder becomes one line per tagged book with its tags as the wikilinks (tag counts as
repetitions are not kept) and its authors in the infobox.

Usage: python -m bench.support.generate_seed_data --out var/bench/seed.ndjson [--books N] [--seed S] [--from PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ORIGINAL_BOOKS = 37_020
ORIGINAL_KEPT_LINKS = 41_758
ORIGINAL_PAIRS = 772_798
ORIGINAL_RARE_LINKS = 297_624 - 41_758
MIN_BOOKS_PER_LINK = 4

GENRES = (
    ("Science fiction", 14), ("Fantasy", 11), ("Historical novel", 8), ("Crime novel", 7), ("Non-fiction", 7),
    ("Children's literature", 6), ("Thriller", 5), ("Romance novel", 5), ("Horror", 4), ("Biography", 4),
    ("Young adult fiction", 4), ("Mystery", 3), ("Poetry", 3), ("Memoir", 3), ("Philosophy", 2.5),
    ("Role-playing game", 2.5), ("Satire", 2), ("War novel", 2), ("Gothic fiction", 2), ("Travel literature", 1.5),
    ("Picture book", 1.5), ("Western", 1), ("Dystopian fiction", 1), ("Epistolary novel", 1),
)
COUNTRIES = (("United States", 45), ("United Kingdom", 25), ("Canada", 5), ("Australia", 4), ("France", 4),
             ("Germany", 3), ("Russia", 3), ("India", 3), ("Japan", 2), ("Ireland", 2), ("Italy", 2), ("Spain", 2))
FORMAT_LINKS = ("Hardcover", "Paperback")
SYLLABLES = ("ka", "lo", "mir", "ven", "tal", "or", "bri", "sen", "dun", "ael", "cor", "fen", "gar", "hil", "ist",
             "jor", "kel", "lun", "mor", "nar", "oth", "pel", "quin", "ros", "sul", "tor", "ul", "vas", "wen", "yr",
             "zan", "bel", "dra", "eth", "fal", "gor")
TITLE_NOUNS = ("Garden", "Winter", "River", "Crown", "Letters", "Shadow", "Harbour", "Machine", "Daughter", "Empire",
               "Journey", "Orchard", "Storm", "Library", "Silence", "Engine", "Bridge", "Lantern", "Tide", "Forest")


@dataclass(frozen=True)
class SeedFigures:
    """What a generated file contains (figures of the kept links are after the original's filter)."""

    books: int
    kept_links: int
    pairs: int
    rare_links: int
    authors: int
    author_links: int
    genres: int


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="ndjson file to write")
    parser.add_argument("--books", type=int, default=ORIGINAL_BOOKS, help="books to generate (scales every figure)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--from", dest="source", type=Path, help="a Wikipedia ndjson file or a goodbooks-10k folder")
    args = parser.parse_args(argv)
    if args.source:
        lines = convert_real_data(args.source, args.out)
        print(f"wrote {lines:,} books from {args.source} to {args.out}")
    else:
        figures = generate_seed_file(args.out, books=args.books, seed=args.seed)
        print(f"wrote {args.out}: {figures}")


def generate_seed_file(out: Path, *, books: int = ORIGINAL_BOOKS, seed: int = 2017) -> SeedFigures:
    """Writes the seeded file; the same ``books`` and ``seed`` always give the same bytes."""
    if books < 50:
        raise ValueError("generate at least 50 books")
    rng = np.random.default_rng(seed)
    scale = books / ORIGINAL_BOOKS
    n_kept = round(ORIGINAL_KEPT_LINKS * scale)
    n_pairs = round(ORIGINAL_PAIRS * scale)
    n_rare = round(ORIGINAL_RARE_LINKS * scale)

    genre_weights = np.array([w for _, w in GENRES], float)
    author_of_book, author_genre = _authors(books, genre_weights, rng)
    book_genre = author_genre[author_of_book]
    n_authors = len(author_genre)
    activity = rng.lognormal(0.0, 0.5, books)  # some articles are longer and link more

    # Author pages: a link shared by every book of an author with >= 4 books.
    books_per_author = np.bincount(author_of_book, minlength=n_authors)
    linked_authors = np.flatnonzero(books_per_author >= MIN_BOOKS_PER_LINK)
    author_link_of_author = np.full(n_authors, -1)
    author_link_of_author[linked_authors] = np.arange(len(linked_authors))
    author_pair_books = np.flatnonzero(author_link_of_author[author_of_book] >= 0)
    author_pair_links = author_link_of_author[author_of_book[author_pair_books]]

    # Topic links: Zipf-like degrees summing exactly to the pairs left after the author pages.
    n_topics = n_kept - len(linked_authors)
    degrees = _zipf_degrees(n_topics, n_pairs - len(author_pair_books), books)
    home_genre = rng.choice(len(GENRES), n_topics, p=genre_weights / genre_weights.sum())
    affinity = np.where(np.arange(n_topics) < max(1, n_topics // 100), 0.1, 0.8)
    topic_books, topic_links = _link_books(degrees, home_genre, affinity, book_genre, activity, rng)

    # Rare links: 1-3 books each (dropped by the original's min-4 filter).
    rare_degree = rng.choice([1, 2, 3], n_rare, p=[0.85, 0.12, 0.03])
    rare_links = np.repeat(np.arange(n_rare), rare_degree)
    rare_books = _draw(np.cumsum(activity), len(rare_links), rng)
    rare_keep = np.unique(rare_links * books + rare_books, return_index=True)[1]
    rare_links, rare_books = rare_links[rare_keep], rare_books[rare_keep]

    # Names: kept topics, author pages and rare links draw from disjoint ranges of one word space.
    topic_names = [_topic_name(i) for i in range(n_topics)]
    author_names = [_person_name(n_topics + i) for i in range(n_authors)]
    rare_names = [_topic_name(n_topics + n_authors + i, rare=True) for i in range(n_rare)]
    author_link_names = [author_names[a] for a in linked_authors]

    link_names = np.array(topic_names + author_link_names + rare_names, dtype=object)
    all_books = np.concatenate([topic_books, author_pair_books, rare_books])
    all_links = np.concatenate([topic_links, n_topics + author_pair_links, n_kept + rare_links])
    order = np.lexsort((rng.random(len(all_books)), all_books))  # per book, links in a random order
    all_books, all_links = all_books[order], all_links[order]
    bounds = np.searchsorted(all_books, np.arange(books + 1))

    countries = np.array([c for c, _ in COUNTRIES], dtype=object)
    country_weights = np.array([w for _, w in COUNTRIES], float)
    book_country = rng.choice(len(countries), books, p=country_weights / country_weights.sum())
    has_format_link = rng.random((books, 2)) < 0.4
    pages = rng.integers(90, 900, books)
    years = rng.integers(1850, 2018, books)
    edited = datetime.datetime(2017, 1, 1, tzinfo=datetime.UTC).timestamp() + rng.integers(0, 3 * 10**7, books)

    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for book in range(books):
            title = _title(book)
            author = author_names[author_of_book[book]]
            genre = GENRES[book_genre[book]][0]
            infobox = {
                "name": title,
                "author": f"[[{author}]]",
                "country": countries[book_country[book]],
                "language": "English",
                "genre": f"[[{genre}]]",
                "publisher": f"{_word(book % 97 + 3).capitalize()} Press",
                "release_date": str(years[book]),
                "media_type": "Print (Hardback & Paperback)",
                "pages": str(pages[book]),
            }
            wikilinks = [link_names[j] for j in all_links[bounds[book]:bounds[book + 1]]]
            wikilinks += [name for name, on in zip(FORMAT_LINKS, has_format_link[book], strict=True) if on]
            slug = title.replace(" ", "_")
            row = [title, infobox, wikilinks, [f"https://example.org/books/{slug}"],
                   datetime.datetime.fromtimestamp(int(edited[book]), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   int(400 + 180 * len(wikilinks) + activity[book] * 300)]
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return SeedFigures(books=books, kept_links=n_kept, pairs=len(topic_books) + len(author_pair_books),
                       rare_links=n_rare, authors=n_authors, author_links=len(linked_authors), genres=len(GENRES))


def convert_real_data(source: Path, out: Path) -> int:
    """Writes ``source`` (Wikipedia ndjson file or goodbooks-10k folder) to ``out`` in the ndjson format."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        if source.resolve() != out.resolve():
            shutil.copyfile(source, out)
        with open(out, encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
    if not (source / "book_tags.csv").exists():
        raise SystemExit(f"{source} is neither an ndjson file nor a goodbooks-10k folder (no book_tags.csv)")
    with open(source / "tags.csv", newline="", encoding="utf-8") as handle:
        tag_names = {row["tag_id"]: row["tag_name"] for row in csv.DictReader(handle)}
    tags_of: dict[str, list[str]] = {}
    with open(source / "book_tags.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = tag_names.get(row["tag_id"], "").strip()
            if name:
                tags_of.setdefault(row["goodreads_book_id"], []).append(name)
    written = 0
    with open(source / "books.csv", newline="", encoding="utf-8") as handle, open(out, "w", encoding="utf-8") as dest:
        for row in csv.DictReader(handle):
            tags = tags_of.get(row["goodreads_book_id"])
            if not tags:
                continue
            title = row.get("title") or row.get("original_title") or f"goodbooks {row['book_id']}"
            infobox = {"name": title, "author": row.get("authors", ""), "language": row.get("language_code", ""),
                       "release_date": (row.get("original_publication_year") or "").split(".")[0]}
            dest.write(json.dumps([f"{title} (goodbooks {row['book_id']})", infobox, tags, [], "", 0]) + "\n")
            written += 1
    return written


def _authors(books: int, genre_weights: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(author of each book, genre of each author): geometric books per author (mean 2.5), shuffled."""
    per_author = []
    total = 0
    while total < books:
        n = int(min(rng.geometric(0.4), books - total))
        per_author.append(n)
        total += n
    author_of_book = rng.permutation(np.repeat(np.arange(len(per_author)), per_author))
    author_genre = rng.choice(len(genre_weights), len(per_author), p=genre_weights / genre_weights.sum())
    return author_of_book, author_genre


def _zipf_degrees(n_links: int, n_pairs: int, books: int) -> np.ndarray:
    """Degrees 4 + A·rank^-0.7 (capped at half the books) summing exactly to ``n_pairs``, largest first."""
    if n_pairs < MIN_BOOKS_PER_LINK * n_links:
        raise ValueError("too few pairs for the links")
    cap = max(MIN_BOOKS_PER_LINK, books // 2)
    shape = np.arange(1, n_links + 1, dtype=float) ** -0.7
    low, high = 0.0, float(n_pairs)
    for _ in range(100):  # bisect the scale A
        scale = (low + high) / 2
        total = np.minimum(MIN_BOOKS_PER_LINK + np.floor(scale * shape), cap).sum()
        low, high = (scale, high) if total < n_pairs else (low, scale)
    degrees = np.minimum(MIN_BOOKS_PER_LINK + np.floor(low * shape), cap).astype(np.int64)
    short = n_pairs - int(degrees.sum())
    room = np.flatnonzero(degrees < cap)
    degrees[room[:short]] += 1
    if degrees.sum() != n_pairs:
        raise ValueError("cannot spread that many pairs over the links")
    return degrees


def _link_books(degrees, home_genre, affinity, book_genre, activity, rng):
    """Distinct books for each topic link: a share ``affinity`` from its home genre, the rest from all books.

    Books are drawn in proportion to ``activity``; repeats are redrawn until each link has its degree.
    """
    n_books = len(book_genre)
    genre_members = [np.flatnonzero(book_genre == g) for g in range(len(GENRES))]
    genre_cdf = [np.cumsum(activity[members]) for members in genre_members]
    global_cdf = np.cumsum(activity)
    accepted = np.empty(0, np.int64)
    missing = degrees.copy()
    for _ in range(200):
        links = np.repeat(np.arange(len(degrees)), missing)
        if len(links) == 0:
            break
        drawn = _draw(global_cdf, len(links), rng)
        home = rng.random(len(links)) < affinity[links]
        for genre, members in enumerate(genre_members):
            rows = np.flatnonzero(home & (home_genre[links] == genre))
            if len(rows) and len(members):
                drawn[rows] = members[_draw(genre_cdf[genre], len(rows), rng)]
        accepted = np.unique(np.concatenate([accepted, links * n_books + drawn]))
        missing = degrees - np.bincount(accepted // n_books, minlength=len(degrees))
    else:
        raise RuntimeError("could not draw distinct books for every link")
    return accepted % n_books, accepted // n_books


def _draw(cdf: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)


def _word(index: int, syllables: int = 3) -> str:
    """A distinct pseudo-word for each index below len(SYLLABLES) ** syllables."""
    parts = []
    for _ in range(syllables):
        index, digit = divmod(index, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    if index:
        parts.append(SYLLABLES[index % len(SYLLABLES)] + str(index))
    return "".join(parts)


def _topic_name(index: int, *, rare: bool = False) -> str:
    word = _word(index).capitalize()
    return f"{word} (minor topic)" if rare else word


def _person_name(index: int) -> str:
    return f"{_word(index * 7919 % 1000, 2).capitalize()} {_word(index).capitalize()}"


def _title(index: int) -> str:
    return f"The {TITLE_NOUNS[index % len(TITLE_NOUNS)]} of {_word(index + 500_000).capitalize()}"


if __name__ == "__main__":
    sys.exit(main())
