"""Reading library exports (books.library.formats): pure, no database."""
from datetime import date

import pytest

from books.library.formats import MAX_FILE_BYTES, LibraryFileError, library_parse

GOODREADS = (
    "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,Publisher,Binding,"
    "Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,"
    "Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies\n"
    '2767052,"The Hunger Games (The Hunger Games, #1)",Suzanne Collins,"Collins, Suzanne",,="0439023483",'
    '="9780439023481",5,4.33,Scholastic,Hardcover,374,2008,2008,2019/03/02,2018/12/24,"dystopia, favorites",'
    '"dystopia (#1), favorites (#3)",read,,,,1,0\n'
    '6148028,Catching Fire,Suzanne Collins,"Collins, Suzanne",,="",="",0,4.3,,,,,,,2020/01/05,to-read,'
    'to-read (#4),to-read,,,,0,0\n'
)
STORYGRAPH = (
    "Title,Authors,Contributors,ISBN/UID,Format,Read Status,Date Added,Last Date Read,Dates Read,Read Count,"
    "Moods,Pace,Character- or Plot-Driven?,Strong Character Development?,Loveable Characters?,Diverse Characters?,"
    "Flawed Characters?,Star Rating,Review,Content Warnings,Content Warning Description,Tags,Owned?\n"
    "War and Peace,\"Leo Tolstoy, Aylmer Maude\",,9780199232765,paperback,did-not-finish,2021/02/03,,,0,,,,,,,,"
    ",,,,\"classics, russia\",No\n"
    "Anna Karenina,Leo Tolstoy,,,paperback,currently-reading,2022/05/06,2021/11/30,,1,,,,,,,,4.5,,,,,No\n"
)


def test_goodreads_export_is_read_with_shelves_ratings_dates_and_spreadsheet_isbns():
    library = library_parse(GOODREADS.encode())
    assert library.format == "goodreads" and library.skipped == []
    first, second = library.rows
    assert (first.line, first.goodreads_id, first.isbns) == (2, "2767052", ["9780439023481", "0439023483"])
    assert (first.shelf, first.shelves, first.rating) == ("read", ["dystopia", "favourites"], 5)
    assert (first.date_added, first.date_read) == (date(2018, 12, 24), date(2019, 3, 2))
    assert (second.shelf, second.shelves, second.rating, second.isbns) == ("want-to-read", [], None, [])


def test_storygraph_export_is_read_by_its_header():
    library = library_parse(("\ufeff" + STORYGRAPH).encode())
    assert library.format == "storygraph"
    war, anna = library.rows
    assert (war.author, war.isbns, war.shelf, war.shelves) == ("Leo Tolstoy", ["9780199232765"], None,
                                                               ["did-not-finish", "classics", "russia"])
    assert (anna.shelf, anna.rating, anna.date_added, anna.date_read) == ("reading", 5, date(2022, 5, 6),
                                                                          date(2021, 11, 30))
    assert war.date_read is None


def test_the_apostrophe_an_export_puts_before_a_formula_is_taken_off():
    header = GOODREADS.splitlines()[0]
    row = library_parse(f"{header}\n,'=HYPERLINK(1),'@Someone,,,,,,,,,,,,,,,,read,,,,,\n".encode()).rows[0]
    assert (row.title, row.author) == ("=HYPERLINK(1)", "@Someone")


def test_a_bad_row_is_skipped_with_its_line_and_why():
    text = GOODREADS + '1,,Nobody,,,,,0,,,,,,,,,,,read,,,,,\n5,Odd,Someone,,,,,7,,,,,,,,,,,read,,,,,\n'
    library = library_parse(text.encode())
    assert len(library.rows) == 2
    assert library.skipped == ["line 4: no title", 'line 5: "My Rating" is 7, not from 0 to 5']


@pytest.mark.parametrize(("data", "message"), [
    (b"x" * (MAX_FILE_BYTES + 1), "at most 5 MB"),
    (b"PK\x03\x04\x00\x00binary", "binary"),
    ("Title,Author,Exclusive Shelf,Book Id\nLes Mis\xe9rables,Hugo,read,1\n".encode("latin-1"), "not UTF-8"),
    (b"name,email\nann,ann@example.com\n", "line 1: not a library export"),
    (b"", "line 1: not a library export"),
    (GOODREADS.splitlines()[0].encode() + b"\n", "no books"),
])
def test_bad_files_are_refused_with_why(data, message):
    with pytest.raises(LibraryFileError, match=message):
        library_parse(data)
