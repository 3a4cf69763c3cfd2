"""The seed-data generator: deterministic, the original's figures (scaled), planted structure the original's
own preparation finds; and the conversion of a real goodbooks folder to the same format."""
import json
from collections import Counter
from pathlib import Path

import pytest

from bench.support.generate_seed_data import GENRES, convert_real_data, generate_seed_file
from bench.support.original_reference import prepare, read_books

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    first = generate_seed_file(tmp_path / "a.ndjson", books=300, seed=1)
    generate_seed_file(tmp_path / "b.ndjson", books=300, seed=1)
    generate_seed_file(tmp_path / "c.ndjson", books=300, seed=2)

    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert (tmp_path / "a.ndjson").read_bytes() != (tmp_path / "c.ndjson").read_bytes()
    assert first.books == 300 and first.kept_links == round(41_758 * 300 / 37_020)


def test_the_originals_preparation_finds_exactly_the_planted_links_and_pairs(tmp_path):
    figures = generate_seed_file(tmp_path / "seed.ndjson", books=600, seed=3)
    books = read_books(tmp_path / "seed.ndjson")
    prepared = prepare(books)

    assert len(books) == figures.books == 600
    assert len(prepared.links) == figures.kept_links  # rare links (< 4 books) and Hardcover/Paperback dropped
    assert len(prepared.pairs) == len(set(prepared.pairs)) == figures.pairs == round(772_798 * 600 / 37_020)
    distinct_links = {link.lower() for book in books for link in book[2]}
    assert len(distinct_links) > figures.kept_links + figures.rare_links * 0.9
    assert {"hardcover", "paperback"} <= distinct_links


def test_books_carry_their_planted_genre_and_authors_write_several_books(tmp_path):
    generate_seed_file(tmp_path / "seed.ndjson", books=400, seed=4)
    books = read_books(tmp_path / "seed.ndjson")
    genres = Counter(book[1]["genre"] for book in books)
    authors = Counter(book[1]["author"] for book in books)

    assert set(genres) <= {f"[[{name}]]" for name, _ in GENRES} and len(genres) > 10
    assert max(authors.values()) >= 4 and sum(count >= 2 for count in authors.values()) > 20
    # An author's books share the author's genre.
    genre_of = {}
    for book in books:
        assert genre_of.setdefault(book[1]["author"], book[1]["genre"]) == book[1]["genre"]
    # Each row has the original's six fields.
    assert all(len(book) == 6 and isinstance(book[2], list) and isinstance(book[5], int) for book in books)


@pytest.mark.slow
def test_full_scale_has_the_originals_figures(tmp_path):
    figures = generate_seed_file(tmp_path / "seed.ndjson")
    prepared = prepare(read_books(tmp_path / "seed.ndjson"))

    assert (len(prepared.titles), len(prepared.links), len(prepared.pairs)) == (37_020, 41_758, 772_798)
    assert figures.rare_links == 297_624 - 41_758


def test_a_goodbooks_folder_becomes_one_line_per_tagged_book(tmp_path):
    written = convert_real_data(FIXTURES / "goodbooks", tmp_path / "goodbooks.ndjson")
    rows = [json.loads(line) for line in (tmp_path / "goodbooks.ndjson").read_text().splitlines()]

    assert written == len(rows) > 0
    hunger_games = next(row for row in rows if row[0].startswith("The Hunger Games"))
    assert hunger_games[1]["author"] == "Suzanne Collins" and len(hunger_games[2]) >= 2
    assert all(len(row) == 6 for row in rows)
