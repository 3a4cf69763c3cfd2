"""Rebuild the bundled goodbooks sample in data/goodbooks/ from the full goodbooks-10k folder.

    .venv/bin/python data/make_sample.py [/work/shared/data/goodbooks]

Keeps the 1,000 books with the most shelf rows (to_read.csv + ratings.csv) and every book that
``goodbooks_to_wikipedia_title.csv`` pairs with an article of the bundled ``wikipedia/p15_books.ndjson`` (so the
sample has books both sources describe: the import merges them by its own matching, the file only chooses which
books the sample keeps), the book_tags.csv rows of those books and only the tags they use, and the to_read/ratings
rows (restricted to those books) of 2,500 readers drawn with a fixed seed among readers with at least 3 rows on the
1,000 most-shelved books. Same input, same output.
"""
import csv
import json
import random
import shutil
import sys
from collections import Counter
from pathlib import Path

BOOKS = 1000
READERS = 2500
MIN_ROWS_PER_READER = 3
SEED = 2026
TARGET = Path(__file__).resolve().parent / "goodbooks"
ARTICLES = Path(__file__).resolve().parent / "wikipedia" / "p15_books.ndjson"


def main(source: Path) -> None:
    books, book_header = _read(source / "books.csv")
    to_read, to_read_header = _read(source / "to_read.csv")
    ratings, ratings_header = _read(source / "ratings.csv")
    book_tags, book_tags_header = _read(source / "book_tags.csv")
    tags, tags_header = _read(source / "tags.csv")

    shelved = Counter(row["book_id"] for row in to_read + ratings)
    most_shelved = sorted(books, key=lambda row: (-shelved[row["book_id"]], int(row["book_id"])))[:BOOKS]
    most_shelved_ids = {row["book_id"] for row in most_shelved}
    with_article = _books_with_an_article(source / "goodbooks_to_wikipedia_title.csv")
    chosen = sorted((row for row in books if row["book_id"] in most_shelved_ids | with_article),
                    key=lambda row: int(row["book_id"]))
    book_ids = {row["book_id"] for row in chosen}
    goodreads_ids = {row["goodreads_book_id"] for row in chosen}

    chosen_tags = [row for row in book_tags if row["goodreads_book_id"] in goodreads_ids]
    used_tag_ids = {row["tag_id"] for row in chosen_tags}

    rows_per_reader = Counter(row["user_id"] for row in to_read + ratings if row["book_id"] in most_shelved_ids)
    candidates = sorted((user for user, rows in rows_per_reader.items() if rows >= MIN_ROWS_PER_READER), key=int)
    readers = set(random.Random(SEED).sample(candidates, min(READERS, len(candidates))))

    TARGET.mkdir(exist_ok=True)
    _write(TARGET / "books.csv", book_header, chosen)
    _write(TARGET / "book_tags.csv", book_tags_header, chosen_tags)
    _write(TARGET / "tags.csv", tags_header, [row for row in tags if row["tag_id"] in used_tag_ids])
    for name, rows, header in (("to_read.csv", to_read, to_read_header), ("ratings.csv", ratings, ratings_header)):
        _write(TARGET / name, header, [row for row in rows if row["user_id"] in readers and row["book_id"] in book_ids])
    shutil.copyfile(source / "LICENSE", TARGET / "LICENSE")
    for path in sorted(TARGET.iterdir()):
        print(f"{path.name:15} {path.stat().st_size:>10,} bytes")


def _books_with_an_article(reference: Path) -> set[str]:
    """goodbooks book_ids that the reference title mapping pairs with an article of the bundled Wikipedia sample."""
    with open(ARTICLES, encoding="utf-8") as handle:
        titles = {json.loads(line)[0] for line in handle if line.strip()}
    rows, _ = _read(reference)
    return {row["book_id"] for row in rows if row["wikipedia_title"] in titles}


def _read(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader), list(reader.fieldnames)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/goodbooks"))
