"""What the importers share: the summary's wording, and the checks every text and whole number passes."""
import pytest

from books.importers.checks import check_text, checked_integer
from books.importers.problems import BadLine, Problem
from books.importers.report import ImportReport


def test_the_summary_counts_in_the_singular_and_the_plural():
    one = ImportReport(books_created=1, links_created=1, book_links=1, users_created=1, shelf_entries=1, not_books=1,
                       problems=[Problem("books.ndjson", 2, "malformed JSON")], seconds={"read": 0.5})
    assert one.summary() == ("Imported 1 book (1 new, 0 updated), 1 new link, 1 book link, 1 new reader, 1 shelf entry "
                             "in 0.5 s [read 0.5]. Left out 1 page that is not a book.\n"
                             "Skipped 1 invalid line:\nbooks.ndjson:2: malformed JSON")
    many = ImportReport(books_created=1000, books_updated=1000, links_created=2, book_links=0, users_created=3,
                        shelf_entries=4, not_books=5, seconds={"read": 0.5})
    assert many.summary() == ("Imported 2,000 books (1,000 new, 1,000 updated), 2 new links, 0 book links, "
                              "3 new readers, 4 shelf entries in 0.5 s [read 0.5]. "
                              "Left out 5 pages that are not books.")


@pytest.mark.parametrize(("text", "message"), [
    ("A\x00B", "contains a NUL character"),
    ("A \ud800", "contains a surrogate character U+D800"),
    ("\udfff", "contains a surrogate character U+DFFF"),
])
def test_check_text_refuses_what_postgresql_cannot_store(text, message):
    with pytest.raises(BadLine) as bad:
        check_text(text, "title")
    assert (bad.value.message, bad.value.field) == (message, "title")


def test_check_text_accepts_any_other_character():
    check_text("Smile \U0001F600 \ufeff \uffff \x7f", "title")


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("007", 7), ("2147483647", 2147483647),
                                             ("0" * 5000 + "42", 42), ("-0", 0)])
def test_a_whole_number_is_plain_digits(text, value):
    assert checked_integer(text, "count", minimum=0) == value


def test_a_negative_number_is_read_where_the_minimum_allows_it():
    assert checked_integer("-720", "year", minimum=-9999, maximum=9999) == -720


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected a whole number, got nothing"),
    ("9_0001", "expected a whole number, got '9_0001'"),
    ("+5", "expected a whole number, got '+5'"),
    ("4.0", "expected a whole number, got '4.0'"),
    ("1e3", "expected a whole number, got '1e3'"),
    ("\u0663", "expected a whole number, got '\u0663'"),
    ("-1", "expected a number of at least 0, got -1"),
    ("2147483648", "expected a number of at most 2147483647, got 2147483648"),
    ("9" * 5000, "expected a number of at most 2147483647, got " + "9" * 40 + "…"),
])
def test_anything_else_is_refused_naming_the_field(text, message):
    with pytest.raises(BadLine) as bad:
        checked_integer(text, "count", minimum=0)
    assert (bad.value.message, bad.value.field) == (message, "count")
