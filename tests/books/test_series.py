"""Series: parsed from goodbooks titles and Wikipedia infoboxes, kept through re-imports and merges, in order."""
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from books.merges import book_merge_undo, books_merge
from books.models import Book, Series
from books.series import (
    SeriesMark,
    series_assign,
    series_books,
    series_key,
    series_of_infobox,
    series_of_title,
    series_size,
)

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.parametrize(("title", "expected"), [
    ("The Hunger Games (The Hunger Games, #1)", SeriesMark("The Hunger Games", 1.0)),
    ("Mockingjay (The Hunger Games, #3)", SeriesMark("The Hunger Games", 3.0)),
    ("The Lord of the Rings (The Lord of the Rings, #1-3)", SeriesMark("The Lord of the Rings", 1.0, 3.0)),
    ("The Kill Order (Maze Runner, #0.5)", SeriesMark("Maze Runner", 0.5)),
    ("The Color of Magic (Discworld, #1; Rincewind #1)", SeriesMark("Discworld", 1.0)),
    ("The Once and Future King (The Once and Future King #1-4)", SeriesMark("The Once and Future King", 1.0, 4.0)),
    ("The Silent Blade (Forgotten Realms: Paths of Darkness, #1; Legend of Drizzt, #11)",
     SeriesMark("Forgotten Realms: Paths of Darkness", 1.0)),
    ("Dune", None),
    ("Catch-22", None),
    ("(Harry Potter, #1)", None),
])
def test_a_goodbooks_title_names_its_series_and_number(title, expected):
    assert series_of_title(title) == expected


def test_an_infobox_names_its_series_with_markup_and_numbers_left_out():
    assert series_of_infobox({"series": "The Extraordinary Voyages #21", "preceded_by": "The Steam House",
                              "followed_by": "Godfrey Morgan"}) == SeriesMark(
        "The Extraordinary Voyages", 21.0, None, "The Steam House", "Godfrey Morgan")
    first = series_of_infobox({"series": "Down the Long Wind", "followed_by": "Kingdom of Summer"})
    assert (first.name, first.preceded_by, first.followed_by) == ("Down the Long Wind", "", "Kingdom of Summer")
    mark = series_of_infobox({"series": "Doctor Who book: < br / > Bernice Summerfield",
                              "preceded_by": "Mam'zelle Guillotine  < !-- Preceding novel in series -- >"})
    assert (mark.name, mark.preceded_by) == ("Doctor Who book: Bernice Summerfield", "Mam'zelle Guillotine")
    assert series_of_infobox({"series": "Percy Jackson  &  the Olympians (book 2)"}).position == 2.0
    assert series_of_infobox({"author": "Someone"}) is None
    assert series_key("The Lord of the Rings") == series_key("lord of the rings")


@pytest.fixture
def sample(db):
    call_command("load_sample_data", verbosity=0, stdout=StringIO(), stderr=StringIO())


def by_goodbooks_id(book_id: int) -> Book:
    return Book.objects.get(identifiers__scheme="goodbooks", identifiers__value=str(book_id))


def test_the_sample_import_gives_goodbooks_series_their_books_in_order(sample):
    lotr = Series.objects.get(key="lord of the rings")
    books = series_books(lotr)
    assert [(book.series_position, book.series_position_end) for book in books] == [
        (1.0, None), (1.0, 3.0), (2.0, None), (3.0, None)]
    assert books[0] == by_goodbooks_id(19) and books[1] == by_goodbooks_id(189)
    assert series_size(books) == 3
    hunger_games = series_books(Series.objects.get(key="hunger games"))
    assert [book.series_position for book in hunger_games] == [1.0, 2.0, 3.0]
    narnia = by_goodbooks_id(219)
    assert (narnia.series.name, narnia.series_position, narnia.series_position_end) == ("Chronicles of Narnia", 1, 7)
    assert by_goodbooks_id(4).series is None, "To Kill a Mockingbird"


def test_wikipedia_books_are_placed_by_the_books_their_infobox_names_before_them(sample):
    books = series_books(Series.objects.get(key="planet of adventure"))
    assert [(book.title, book.series_position) for book in books] == [
        ("City of the Chasch", 1.0), ("Servants of the Wankh", 2.0), ("The Dirdir", 3.0), ("The Pnume", 4.0)]
    assert Book.objects.get(external_id="wikipedia:Eight Hundred Leagues on the Amazon").series_position == 21.0


def test_a_reimport_and_a_staff_merge_and_its_undo_keep_the_series(sample):
    call_command("import_goodbooks", str(DATA / "goodbooks"), verbosity=0, stdout=StringIO(), stderr=StringIO())
    fellowship, two_towers = by_goodbooks_id(19), by_goodbooks_id(155)
    assert (fellowship.series.key, fellowship.series_position) == ("lord of the rings", 1.0)
    assert Series.objects.filter(key="lord of the rings").count() == 1

    wiki = Book.objects.create(external_id="wikipedia:The Two Towers (x)", source="wikipedia", title="The Two Towers")
    merge = books_merge(keep=wiki, merged=two_towers)
    wiki.refresh_from_db()
    assert (wiki.series.key, wiki.series_position) == ("lord of the rings", 2.0), "from the merged goodbooks row"
    book_merge_undo(merge=merge)
    wiki.refresh_from_db()
    assert wiki.series is None
    assert Book.objects.get(external_id="goodbooks:155").series_position == 2.0


def test_a_book_that_leaves_its_series_leaves_no_empty_series(db):
    book = Book.objects.create(external_id="goodbooks:x1", source="goodbooks", title="Alone (Solo, #1)")
    series_assign(book_ids=[book.pk])
    assert Book.objects.get(pk=book.pk).series.name == "Solo"
    Book.objects.filter(pk=book.pk).update(title="Alone")
    series_assign(book_ids=[book.pk])
    assert Book.objects.get(pk=book.pk).series is None and not Series.objects.exists()
