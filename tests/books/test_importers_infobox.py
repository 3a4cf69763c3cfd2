"""Infobox wikitext to display text, and to the catalogue's fields."""
import pytest

from books.importers.infobox import (
    cover_url_of_image,
    first_integer,
    first_isbn,
    first_year,
    parse_infobox,
    strip_markup,
)
from books.text import normalise_link_name


@pytest.mark.parametrize(("wikitext", "text"), [
    ("[[Science fiction]]", "Science fiction"),
    ("[[Science fiction|SF]] novel", "SF novel"),
    ("'''Bold''' and ''italic''", "Bold and italic"),
    ("{{ubl|[[Fantasy]]|{{nowrap|Horror fiction}}}}", "Fantasy, Horror fiction"),
    ("{{lang|fr|Le Petit Prince}}", "Le Petit Prince"),
    ("Penguin{{citation needed|date=May 2010}}", "Penguin"),
    ("Foo<ref>Smith 2001, p. 4</ref> Bar<!-- check -->", "Foo Bar"),
    ("1933 < ref name=Grayling/ >", "1933"),
    ("Wendell Minor < ref > http://www.isfdb.org/cgi-bin/pl.cgi?256051 < /ref >", "Wendell Minor"),
    ("John Jakes \n < !--", "John Jakes"),
    ("Doubleday (US) < br > Jonathan Cape (UK)", "Doubleday (US), Jonathan Cape (UK)"),
    ("Harper  &amp;  Brothers", "Harper & Brothers"),
    ("[[File:Cover.jpg|thumb|A cover]] Gollancz", "Gollancz"),
    ("[http://example.org Example Press]", "Example Press"),
    ("Three Roads < small > (2001) < /small > \n | followed_by = Time Reborn", "Three Roads (2001)"),
])
def test_markup_is_stripped_to_display_text(wikitext, text):
    assert strip_markup(wikitext) == text


@pytest.mark.parametrize(("raw", "pages"), [
    ("288 (1959 edition)", 288), ("xiii, 301 pp", 301), ("1,001 pages", 1001), ("??? pp", None), ("", None), ("0", None),
])
def test_pages_are_the_first_whole_number(raw, pages):
    assert first_integer(raw) == pages


@pytest.mark.parametrize(("date", "year"), [
    ("1 March 1995", 1995), ("2006 November 7", 2006), ("May 1839", 1839), ("1959 5 1", 1959), ("unknown", None),
])
def test_the_year_is_the_first_four_digit_number(date, year):
    assert first_year(date) == year


def test_the_year_comes_from_pub_date_release_date_or_published():
    assert parse_infobox({"release_date": "November 27, 2007"}).publication_year == 2007
    assert parse_infobox({"published": "1967 (YMCA Press)"}).publication_year == 1967
    assert parse_infobox({"pub_date": "1869", "release_date": "1900"}).publication_year == 1869


def test_isbn_and_cover():
    assert first_isbn("0-87054-096-3 (first edition)") == "0-87054-096-3"
    assert first_isbn("978-0-618-00701-1") == "978-0-618-00701-1"
    assert first_isbn("n/a") == ""
    file_path = "https://en.wikipedia.org/wiki/Special:FilePath/"
    assert cover_url_of_image("File:Dune_first edition.jpg") == f"{file_path}Dune_first_edition.jpg?width=300"
    assert cover_url_of_image("[[Image:Dune.png|200px]]") == f"{file_path}Dune.png?width=300"
    assert cover_url_of_image("https://example.org/dune.jpg") == "https://example.org/dune.jpg"
    assert cover_url_of_image("< !-- Deleted image removed: 150px|Cover -- >") == ""


def test_infobox_fields_are_display_text_with_pages_kept_raw():
    fields = parse_infobox({"Author": "[[Frank Herbert]]", "genre": "[[Science fiction]]", "pages": "412 (first edition)",
                            "country": "United States", "language": "English", "publisher": "[[Chilton Books]]",
                            "image": "File:Dune-Frank Herbert (1965) First edition.jpg"})
    assert (fields.author, fields.genre, fields.publisher) == ("Frank Herbert", "Science fiction", "Chilton Books")
    assert (fields.pages, fields.pages_raw) == (412, "412 (first edition)")
    assert fields.cover_url == ("https://en.wikipedia.org/wiki/Special:FilePath/"
                                "Dune-Frank_Herbert_%281965%29_First_edition.jpg?width=300")


def test_infobox_authors_genres_country_and_language_get_the_catalogues_spelling():
    fields = parse_infobox({"author": "Bruce R. Cordell, Jennifer Clarke-Wilkes, and JD Wiker",
                            "genre": "{{ubl|[[horror]]|[[Science Fiction]]}}", "country": "[[USA]]",
                            "language": "[[English language]]"})
    assert (fields.author, fields.genre, fields.country, fields.language) == (
        "Bruce R. Cordell, Jennifer Clarke-Wilkes, JD Wiker", "Horror, Science fiction", "United States", "English")


def test_link_names_are_lowercased_with_whitespace_folded():
    assert normalise_link_name("  Science \t Fiction ") == "science fiction"
    assert normalise_link_name("Category:1869 Russian novels") == "category:1869 russian novels"
