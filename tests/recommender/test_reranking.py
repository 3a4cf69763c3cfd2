"""Re-ranking a reader's suggestions: series collapse to their next book, box sets of shelved series go, authors
spread over rows; on a small real catalogue (goodbooks titles and authors of the bundled sample)."""
import csv
from pathlib import Path

import pytest

from books.series import series_key, series_of_title
from recommender.training.reranking import BookFacts, rerank

BOOKS_CSV = Path(__file__).resolve().parents[2] / "data" / "goodbooks" / "books.csv"


@pytest.fixture(scope="module")
def catalogue() -> tuple[dict[int, BookFacts], dict[str, int]]:
    """Facts of every bundled goodbooks book by its goodbooks id, and ids by title."""
    facts, ids = {}, {}
    with open(BOOKS_CSV, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            mark = series_of_title(row["title"])
            book_id = int(row["book_id"])
            facts[book_id] = BookFacts(series_key(mark.name) if mark else None, mark.position if mark else None,
                                       mark.position_end if mark else None, row["authors"].split(",")[0].strip())
            ids[row["title"]] = book_id
    return facts, ids


def titled(ids: dict[str, int], *titles: str) -> list[int]:
    return [ids[title] for title in titles]


def test_a_shelved_series_shows_its_next_book_once_and_no_box_set(catalogue):
    facts, ids = catalogue
    shelf = titled(ids, "The Fellowship of the Ring (The Lord of the Rings, #1)")
    ranked = titled(ids, "The Return of the King (The Lord of the Rings, #3)",
                    "The Lord of the Rings (The Lord of the Rings, #1-3)", "The Hobbit",
                    "The Two Towers (The Lord of the Rings, #2)", "To Kill a Mockingbird")
    assert rerank(ranked, facts=facts, shelf=shelf) == titled(
        ids, "The Two Towers (The Lord of the Rings, #2)", "The Hobbit", "To Kill a Mockingbird"), \
        "The Two Towers takes the series' best place; The Return of the King and the box set go"


def test_a_box_set_holding_a_shelved_book_never_comes_and_a_series_read_to_its_end_shows_nothing(catalogue):
    facts, ids = catalogue
    narnia_box = ids["The Chronicles of Narnia (Chronicles of Narnia, #1-7)"]
    shelf = titled(ids, "The Lion, the Witch, and the Wardrobe (Chronicles of Narnia, #1)")
    assert rerank([narnia_box, ids["The Hobbit"]], facts=facts, shelf=shelf) == [ids["The Hobbit"]]
    box_shelved = titled(ids, "The Lord of the Rings (The Lord of the Rings, #1-3)")
    assert rerank(titled(ids, "The Two Towers (The Lord of the Rings, #2)", "The Hobbit"), facts=facts,
                  shelf=box_shelved) == [ids["The Hobbit"]], "the box set holds #1-3: nothing after it is suggested"


def test_a_series_not_started_is_shown_once_from_its_first_suggested_book(catalogue):
    facts, ids = catalogue
    ranked = titled(ids, "Mockingjay (The Hunger Games, #3)", "The Hobbit", "The Hunger Games (The Hunger Games, #1)",
                    "Catching Fire (The Hunger Games, #2)")
    assert rerank(ranked, facts=facts, shelf=[ids["The Hobbit"] + 100_000]) == titled(
        ids, "The Hunger Games (The Hunger Games, #1)", "The Hobbit")


def test_one_author_takes_at_most_two_places_a_row_unless_the_shelf_is_all_theirs(catalogue):
    facts, ids = catalogue
    murakami = [book_id for book_id, fact in facts.items() if fact.author == "Haruki Murakami" and fact.series is None]
    others = [book_id for book_id, fact in facts.items()
              if fact.series is None and fact.author not in ("Haruki Murakami", "")]
    others = others[:6]
    ranked = murakami[:3] + others
    varied = rerank(ranked, facts=facts, shelf=[ids["The Hobbit"]])
    assert varied[:6] == murakami[:2] + others[:4] and varied[6] == murakami[2], "the third waits for the next row"
    assert sorted(varied) == sorted(ranked)
    assert rerank(ranked, facts=facts, shelf=murakami[3:6]) == ranked, "a shelf of Murakami alone may get Murakami"


def test_books_it_knows_nothing_of_stay_where_they_were():
    assert rerank([5, 4, 3], facts={}, shelf=[1]) == [5, 4, 3]
    assert rerank([], facts={}, shelf=[]) == []
