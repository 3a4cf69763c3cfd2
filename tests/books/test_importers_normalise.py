"""One spelling per genre, country, author and language: at import from both sources, and for books imported before."""
import importlib
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from books.importers.goodbooks import GENRE_OF_TAG
from books.importers.normalise import normalise_authors, normalise_country, normalise_genres, normalise_language
from books.models import Book, Shelf, ShelfEntry
from books.selectors import author_list, country_list, genre_list
from tests.factories import make_book

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
migration = importlib.import_module("books.migrations.0002_book_values_normalised")


@pytest.mark.parametrize(("genres", "normalised"), [
    ("horror", "Horror"),
    ("Science Fiction", "Science fiction"),
    ("science fiction, Science fiction, fantasy", "Science fiction, Fantasy"),
    ("Historical fiction; supernatural fiction", "Historical fiction, Supernatural fiction"),
    ("poetry/plays/religion", "Poetry, Plays, Religion"),
    ("Nonfiction, Humor, sci-fi", "Non-fiction, Humour, Science fiction"),
    ("World War II Novel", "World War II novel"),
    ("", ""),
])
def test_genres_get_one_sentence_case_spelling(genres, normalised):
    assert normalise_genres(genres) == normalised


@pytest.mark.parametrize(("genres", "normalised"), [
    ("Action, Comedy, Adventure[mystery]", "Action, Comedy, Adventure"),
    ("Bildungsroman (coming of age novel)", "Bildungsroman"),
    ("Horror (", "Horror"),
    ("Young Adult's", "Young adult"),
    ("Essays, Essay", "Essay"), ("Play", "Plays"), ("Novels", "Novel"), ("Historical novels", "Historical novel"),
    ("Role-playing games", "Role-playing game"), ("Fairy tales", "Fairy tale"),
    ("Book of essays", "Book of essays"), ("Radio play", "Radio play"),
    ("Science-fiction", "Science fiction"), ("Science-fiction short stories", "Science fiction short stories"),
    ("Young-adult fantasy", "Young adult fantasy"), ("Sci-Fi novel", "Science fiction novel"),
    ("Swords & sorcery", "Sword and sorcery"), ("Fantasy & Science Fiction", "Fantasy and science fiction"),
    ("Encyclopaedia", "Encyclopedia"), ("Reference encyclopaedia", "Reference encyclopedia"),
])
def test_genre_remarks_go_and_variants_of_one_genre_get_its_wikipedia_name(genres, normalised):
    assert normalise_genres(genres) == normalised


@pytest.mark.parametrize(("genres", "normalised"), [
    ("African-American literature", "African-American literature"),
    ("English Renaissance theatre", "English Renaissance theatre"),
    ("Science fiction, Space Western", "Science fiction, Space Western"),
    ("Post-WWII fiction", "Post-WWII fiction"),
    ("Christian Apologetics", "Christian apologetics"),
    ("Studies in Sociology and Social Anthropology", "Studies in sociology and social anthropology"),
    ("Non-Fiction", "Non-fiction"),
    ("world war II novel", "World war II novel"),
])
def test_sentence_case_keeps_the_capitals_of_proper_nouns(genres, normalised):
    assert normalise_genres(genres) == normalised


def test_goodbooks_genres_are_spelled_as_wikipedia_genres_are():
    assert {genre: normalise_genres(genre) for genre in GENRE_OF_TAG.values()} == {
        genre: genre for genre in GENRE_OF_TAG.values()}


@pytest.mark.parametrize(("country", "normalised"), [
    ("USA", "United States"), ("U.S.", "United States"), ("US", "United States"), ("America", "United States"),
    ("United States of America", "United States"), ("United states", "United States"),
    ("UK", "United Kingdom"), ("U.K.", "United Kingdom"), ("Great Britain", "United Kingdom"),
    ("England", "England"), ("Scotland", "Scotland"), ("USSR", "Soviet Union"),
    ("Berkeley, California, USA", "United States"),
    ("Author: United States, First edition: England", "United States"),
    ("United Kingdom; United States", "United Kingdom"), ("India/USA", "India"), ("Canada (Vancouver)", "Canada"),
    ("Jamaica", "Jamaica"), ("Atlanta, Georgia", "Atlanta, Georgia"), ("", ""),
])
def test_countries_get_one_name_and_are_found_in_longer_values(country, normalised):
    assert normalise_country(country) == normalised


@pytest.mark.parametrize(("authors", "normalised"), [
    ("Jesse Decker, Michelle Lyons, and David Noonan", "Jesse Decker, Michelle Lyons, David Noonan"),
    ("James Jacobs, Erik Mona, and Ed Stark", "James Jacobs, Erik Mona, Ed Stark"),
    ("Barry Libert, Jon Spector, and hundreds of other contributors", "Barry Libert, Jon Spector"),
    ("Hermann Adolph Köhler et al.", "Hermann Adolph Köhler"),
    ("H. P. Lovecraft and others (edited by August Derleth)", "H. P. Lovecraft"),
    ("Maj Sjöwall and Per Wahlöö", "Maj Sjöwall, Per Wahlöö"),
    ("Meat Loaf, with David Dalton", "Meat Loaf, David Dalton"),
    ("edited by Jack Dann and Gardner Dozois", "Jack Dann, Gardner Dozois"),
    ("Arkady and Boris Strugatsky", "Arkady and Boris Strugatsky"),
    ("Better Homes and Gardens", "Better Homes and Gardens"),
    ("Harry Warner, Jr.", "Harry Warner Jr."),
    ("Robert Jay Lifton, M.D.", "Robert Jay Lifton"),
    ("Benjamin Zablocki, ed., Thomas Robbins, ed.", "Benjamin Zablocki, Thomas Robbins"),
    ("Kimball, Charles", "Charles Kimball"),
    ("Baker, Richard, Carriker, Joseph D., Clarke-Wilkes, Jennifer",
     "Richard Baker, Joseph D. Carriker, Jennifer Clarke-Wilkes"),
    ("Plato, Desmond Lee", "Plato, Desmond Lee"),
    ("J.K. Rowling, Mary GrandPré", "J. K. Rowling, Mary GrandPré"),
    ("J.R.R. Tolkien", "J. R. R. Tolkien"), ("J. R. R. Tolkien", "J. R. R. Tolkien"), ("C.S.Lewis", "C. S. Lewis"),
    ("George R.R. Martin", "George R. R. Martin"), ("St. John Rivers, Wm.Smith", "St. John Rivers, Wm.Smith"),
    ("John Smith, Ph.D.", "John Smith"),
    ("[Joshua Mowll]", "Joshua Mowll"), ("Anne Frank, [Eleanor Roosevelt]", "Anne Frank, Eleanor Roosevelt"),
    ("F. R. Scott, ed. [anon.]", "F. R. Scott"), ("Al-Yaqubi]", "Al-Yaqubi"),
    ("Louis Sachar, Louis Sachar", "Louis Sachar"),
    ("Anderson", "Anderson"),
])
def test_authors_are_a_list_of_people(authors, normalised):
    assert normalise_authors(authors) == normalised


@pytest.mark.parametrize(("language", "normalised"), [
    ("eng", "English"), ("en-US", "English"), ("en-GB", "English"), ("Eng", "English"), ("spa", "Spanish"),
    ("fre", "French"), ("ger", "German"), ("English", "English"), ("Portuguese language", "Portuguese"),
    ("xyz", "xyz"), ("", ""), ("english", "English"),
    ("Japanese published in English on February 1, 2007", "Japanese"), ("English / French", "English"),
    ("Early Modern English", "Early Modern English"), ("Englishes", "Englishes"), ("Yiddish", "Yiddish"),
])
def test_languages_are_english_names(language, normalised):
    assert normalise_language(language) == normalised


PIECES = ["a", "B", " ", ",", ";", "/", "&", "(", ")", "[", "]", ".", ":", "-", "'s", "and ", "Jr.", " et al.", "USA",
          "ed.", "en-US", "ß", "J.", "War", "English", "Essays", "science-fiction", "swords"]


@given(st.lists(st.sampled_from(PIECES), max_size=15).map("".join) | st.text(max_size=40))
def test_normalising_twice_changes_nothing(text):
    for normalise in (normalise_genres, normalise_country, normalise_authors, normalise_language):
        once = normalise(text)
        assert normalise(once) == once


def wikipedia_line(title: str, infobox: dict) -> str:
    return json.dumps([title, infobox, [], [], "2018-01-01T00:00:00Z", 100]) + "\n"


@pytest.mark.django_db
def test_both_sources_import_with_one_spelling_per_value(tmp_path):
    books = tmp_path / "books.ndjson"
    books.write_text(
        wikipedia_line("Races of Stone", {
            "author": "Jesse Decker, Michelle Lyons, and David Noonan < ref > RPGnet < /ref >",
            "genre": "[[horror]] < br > [[Science Fiction]]", "country": "Berkeley, California, USA",
            "language": "English language"})
        + wikipedia_line("Mathematicians in Love", {"author": "Anderson", "genre": "[[Horror]]", "country": "U.S."}),
        encoding="utf-8")
    folder = Path(shutil.copytree(FIXTURES / "goodbooks", tmp_path / "goodbooks"))
    with open(folder / "tags.csv", "a", encoding="utf-8") as tags:
        tags.write("40000,horror\n40001,sci-fi\n")
    with open(folder / "book_tags.csv", "a", encoding="utf-8") as book_tags:
        book_tags.write("2767052,40001,4000\n41865,40000,2000\n")

    call_command("import_wikipedia_books", str(books), verbosity=0, stdout=StringIO(), stderr=StringIO())
    call_command("import_goodbooks", str(folder), verbosity=0, stdout=StringIO(), stderr=StringIO())

    genres = {facet.name: facet.book_count for facet in genre_list()}
    assert genres["Horror"] == 3 and genres["Science fiction"] == 2
    assert not {"horror", "Science Fiction"} & set(genres)
    assert {facet.name: facet.book_count for facet in country_list()} == {"United States": 2}
    races = Book.objects.get(title="Races of Stone")
    assert (races.author, races.language) == ("Jesse Decker, Michelle Lyons, David Noonan", "English")
    assert races.search_text == "races of stone jesse decker, michelle lyons, david noonan"
    assert "David Noonan" in {facet.name for facet in author_list(initial="D")}
    assert not [facet.name for facet in author_list(initial="A") if facet.name.startswith("and ")]
    assert set(Book.objects.filter(source="goodbooks").values_list("language", flat=True)) == {"English"}


def row_version(book: Book) -> str:
    """PostgreSQL's xmin of the book's row: it changes whenever the row is written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM books_book WHERE id = %s", [book.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_data_migration_normalises_books_imported_before_and_leaves_shelves_alone(
        user, django_assert_max_num_queries):
    messy = make_book("Races of Stone", "Jesse Decker, Michelle Lyons, and David Noonan", genre="horror, Horror",
                      country="USA", language="English language")
    goodbooks = make_book("1", "Suzanne Collins", source="goodbooks", genre="Science fiction", language="en-US")
    clean = make_book("War and Peace", "Leo Tolstoy", genre="Historical novel", country="Russia", language="Russian")
    shelf = Shelf.objects.create(user=user, name="Mine")
    entry = ShelfEntry.objects.create(shelf=shelf, book=messy, added_at=timezone.now(), rating=4)
    clean_version = row_version(clean)

    with connection.schema_editor() as editor, django_assert_max_num_queries(5):
        migration.book_values_normalise(apps, editor)

    messy.refresh_from_db()
    assert (messy.author, messy.genre, messy.country, messy.language) == (
        "Jesse Decker, Michelle Lyons, David Noonan", "Horror", "United States", "English")
    assert messy.search_text == "races of stone jesse decker, michelle lyons, david noonan"
    assert Book.objects.get(pk=goodbooks.pk).language == "English"
    assert row_version(clean) == clean_version, "a book already clean is not written"
    assert list(ShelfEntry.objects.values_list("pk", "shelf", "book", "rating")) == [
        (entry.pk, shelf.pk, messy.pk, 4)]
