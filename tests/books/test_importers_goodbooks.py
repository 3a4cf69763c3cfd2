"""import_goodbooks: books, tags and readers' shelves from goodbooks-10k CSVs; the two book ids kept apart."""
import codecs
import gzip
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from books.models import Book, BookLink, Link, Shelf, ShelfEntry

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "goodbooks"
User = get_user_model()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Book, Link, BookLink, Shelf, ShelfEntry, User)}


def import_folder(folder, *args) -> str:
    out = StringIO()
    call_command("import_goodbooks", str(folder), *args, verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def folder(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "goodbooks"))


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(folder: Path, name: str, line: str) -> None:
    with open(folder / name, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def tags_of(title: str) -> dict[str, int]:
    return dict(BookLink.objects.filter(book__title__startswith=title).values_list("link__name", "count"))


def shelf_of(username: str, kind: str) -> dict[str, int | None]:
    return dict(ShelfEntry.objects.filter(shelf__user__username=username, shelf__kind=kind)
                .values_list("book__title", "rating"))


def test_books_and_tags_are_imported_with_book_tags_keyed_by_goodreads_id(folder):
    output = import_folder(folder)

    assert "4 books (4 new, 0 updated)" in output
    hunger = Book.objects.get(external_id="goodbooks:1")
    assert (hunger.source, hunger.title, hunger.author) == ("goodbooks", "The Hunger Games (The Hunger Games, #1)",
                                                            "Suzanne Collins")
    assert (hunger.popularity, hunger.publication_year, hunger.language, hunger.isbn) == (4780653, 2008, "English",
                                                                                           "0439023483")
    assert hunger.cover_url == "https://images.gr-assets.com/books/1447303603m/2767052.jpg"
    assert hunger.metadata["goodreads_book_id"] == "2767052"
    assert Book.objects.get(external_id="goodbooks:4").cover_url == "", "the 'nophoto' placeholder is no cover"
    assert Book.objects.get(external_id="goodbooks:2").search_text.endswith("j. k. rowling, mary grandpre")

    # book_tags.csv row "3,11305,500" is goodreads_book_id 3 = book_id 2 (Harry Potter), not book_id 3 (Twilight).
    assert tags_of("Harry Potter") == {"fantasy": 520, "to-read": 10836}, "'Fantasy' and 'fantasy' add up"
    assert tags_of("Twilight") == {"young-adult": 1500}
    assert set(Link.objects.values_list("name", "kind")) == {
        ("fantasy", "tag"), ("favorites", "tag"), ("to-read", "tag"), ("young-adult", "tag")}, "unused tags are left out"


def test_a_books_genre_comes_from_its_genre_tags_most_tagged_first(folder):
    append(folder, "tags.csv", "40000,sci-fi")
    append(folder, "book_tags.csv", "2767052,40000,4000")
    import_folder(folder)
    genres = dict(Book.objects.values_list("external_id", "genre"))
    # Hunger Games: sci-fi 4000 > young-adult 3000; to-read and favorites name no genre.
    assert genres["goodbooks:1"] == "Science fiction, Young adult"
    assert genres["goodbooks:2"] == "Fantasy", "'Fantasy' and 'fantasy' are one genre"
    assert genres["goodbooks:3"] == "Young adult"
    assert genres["goodbooks:4"] == "", "a book with no genre tag has no genre"


def test_readers_get_standard_shelves_from_to_read_and_ratings_keyed_by_book_id(folder):
    output = import_folder(folder)

    assert "3 new readers, 6 shelf entries" in output
    assert sorted(User.objects.values_list("username", flat=True)) == ["goodbooks-1", "goodbooks-2", "goodbooks-3"]
    for reader in User.objects.all():
        assert sorted(reader.shelves.values_list("kind", flat=True)) == sorted(Shelf.STANDARD_KINDS)
    # to_read.csv "1,3" is book_id 3 = Twilight (goodreads id 3 would be Harry Potter).
    assert shelf_of("goodbooks-1", Shelf.Kind.WANT_TO_READ) == {"Twilight (Twilight, #1)": None,
                                                                "To Kill a Mockingbird": None}
    assert shelf_of("goodbooks-2", Shelf.Kind.READ) == {
        "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)": 5, "Twilight (Twilight, #1)": 1}
    assert shelf_of("goodbooks-2", Shelf.Kind.WANT_TO_READ) == {"The Hunger Games (The Hunger Games, #1)": None}


def test_unclaimed_readers_cannot_log_in(folder, client):
    import_folder(folder)
    reader = User.objects.get(username="goodbooks-1")
    assert not reader.has_usable_password()
    assert not client.login(username="goodbooks-1", password="")
    assert not client.login(username="goodbooks-1", password=reader.password)


def test_reimporting_updates_instead_of_duplicating(folder):
    import_folder(folder)
    counts = row_counts()
    import_folder(folder)
    assert row_counts() == counts

    edit(folder, "books.csv", "Suzanne Collins,2008.0", "Suzanne Collins,2009.0")
    edit(folder, "ratings.csv", "2,2,5", "2,2,3")
    edit(folder, "book_tags.csv", "41865,33114,1500", "41865,33114,1600")
    output = import_folder(folder)

    assert "0 new, 4 updated" in output and "0 new readers" in output
    assert row_counts() == counts
    assert Book.objects.get(external_id="goodbooks:1").publication_year == 2009
    assert shelf_of("goodbooks-2", Shelf.Kind.READ)["Harry Potter and the Sorcerer's Stone (Harry Potter, #1)"] == 3
    assert tags_of("Twilight") == {"young-adult": 1600}


def test_a_claimed_reader_keeps_their_password_on_reimport(folder, client):
    import_folder(folder)
    reader = User.objects.get(username="goodbooks-3")
    reader.set_password("claimed-at-last-2026")
    reader.save()
    import_folder(folder)
    assert client.login(username="goodbooks-3", password="claimed-at-last-2026")


def test_shelf_files_are_optional(folder):
    (folder / "to_read.csv").unlink()
    (folder / "ratings.csv").unlink()
    import_folder(folder)
    assert Book.objects.count() == 4 and not User.objects.exists()


BAD_INPUTS = [
    pytest.param(lambda f: append(f, "book_tags.csv", "3,99999,5"),
                 ['book_tags.csv:10: field "tag_id": unknown tag 99999 (not in tags.csv)'], id="unknown-tag"),
    pytest.param(lambda f: append(f, "book_tags.csv", "4,33114,5"),
                 ['book_tags.csv:10: field "goodreads_book_id": unknown book 4'], id="book-id-used-as-goodreads-id"),
    pytest.param(lambda f: append(f, "to_read.csv", "1,2767052"),
                 ['to_read.csv:5: field "book_id": unknown book 2767052 (no books.csv row has this book_id)'],
                 id="goodreads-id-used-as-book-id"),
    pytest.param(lambda f: append(f, "ratings.csv", "3,1,7"),
                 ['ratings.csv:5: field "rating": expected a rating from 1 to 5, got 7'], id="rating-out-of-range"),
    pytest.param(lambda f: append(f, "ratings.csv", "3,1,five"),
                 ["ratings.csv:5: field \"rating\": expected a whole number, got 'five'"], id="rating-not-a-number"),
    pytest.param(lambda f: edit(f, "books.csv", ",original_title,title,", ",original_title,name,"),
                 ['books.csv:1: field "title": missing required column'], id="missing-column"),
    pytest.param(lambda f: edit(f, "books.csv", ",Twilight,", ",Twilight, ,"),
                 ["books.csv:4: the row has 24 values for 23 columns"], id="too-many-values"),
    pytest.param(lambda f: edit(f, "books.csv", '"Twilight (Twilight, #1)"', '"  "'),
                 ['books.csv:4: field "title": expected a title, got an empty string'], id="empty-title"),
    pytest.param(lambda f: edit(f, "books.csv", '"Twilight (Twilight, #1)"', '"' + "Twilight " * 60 + '"'),
                 ['books.csv:4: field "title": expected at most 500 characters, got 539'], id="title-too-long"),
    pytest.param(lambda f: edit(f, "books.csv", "Stephenie Meyer", "Stephenie\x00Meyer"),
                 ['books.csv:4: field "authors": contains a NUL character'], id="nul-character"),
    pytest.param(lambda f: edit(f, "books.csv", "4,2657,", "3,2657,"),
                 ['books.csv:5: field "book_id": 3 is already used on line 4'], id="duplicate-book-id"),
    pytest.param(lambda f: (f / "books.csv").write_bytes((f / "books.csv").read_bytes()[:-200]),
                 ["books.csv:5: field", "truncated?"], id="truncated-row"),
    pytest.param(lambda f: (f / "tags.csv").write_bytes((f / "tags.csv").read_bytes() + "7,caf\xe9\n".encode("latin-1")),
                 ["tags.csv:8: not UTF-8 text (byte 0xe9 at column 6)"], id="not-utf8"),
    pytest.param(lambda f: (f / "tags.csv").unlink(), ["tags.csv: no such file"], id="missing-file"),
    pytest.param(lambda f: edit(f, "books.csv", ",3866839,", ",99999999999999999999,"),
                 ['books.csv:4: field "ratings_count": expected a number of at most 2147483647, '
                  'got 99999999999999999999'], id="ratings-count-beyond-integer"),
    pytest.param(lambda f: edit(f, "books.csv", "Stephenie Meyer,2005.0", "Stephenie Meyer,inf"),
                 ["books.csv:4: field \"original_publication_year\": expected a year, got 'inf'"], id="year-infinite"),
    pytest.param(lambda f: edit(f, "books.csv", "Stephenie Meyer,2005.0", "Stephenie Meyer,1e12"),
                 ["books.csv:4: field \"original_publication_year\": expected a year, got '1e12'"], id="year-exponent"),
    pytest.param(lambda f: edit(f, "books.csv", "Stephenie Meyer,2005.0", "Stephenie Meyer,20050.0"),
                 ['books.csv:4: field "original_publication_year": expected a number of at most 9999, got 20050'],
                 id="year-out-of-range"),
    pytest.param(lambda f: edit(f, "books.csv", "Stephenie Meyer,2005.0", "Stephenie Meyer,2_005.0"),
                 ["books.csv:4: field \"original_publication_year\": expected a year, got '2_005.0'"],
                 id="year-with-underscore"),
    pytest.param(lambda f: append(f, "book_tags.csv", "3,11305,99999999999"),
                 ['book_tags.csv:10: field "count": expected a number of at most 2147483647, got 99999999999'],
                 id="tag-count-beyond-integer"),
    pytest.param(lambda f: append(f, "book_tags.csv", "3,11306,2147483647"),
                 ['book_tags.csv:10: field "count": the book\'s users of tag "fantasy" add up to 2147484167 with '
                  "earlier rows, more than 2147483647"], id="tag-counts-add-up-beyond-integer"),
    pytest.param(lambda f: append(f, "to_read.csv", "9" * 150 + ",1"),
                 ['to_read.csv:5: field "user_id": expected a number of at most 2147483647, got 9999'],
                 id="user-id-too-long"),
    pytest.param(lambda f: append(f, "ratings.csv", "9" * 150 + ",1,4"),
                 ['ratings.csv:5: field "user_id": expected a number of at most 2147483647, got 9999'],
                 id="rating-user-id-too-long"),
    pytest.param(lambda f: append(f, "ratings.csv", "3,0_1,4"),
                 ["ratings.csv:5: field \"book_id\": expected a whole number, got '0_1'"], id="underscore-in-number"),
    pytest.param(lambda f: append(f, "ratings.csv", "3,+1,4"),
                 ["ratings.csv:5: field \"book_id\": expected a whole number, got '+1'"], id="plus-sign"),
    pytest.param(lambda f: append(f, "ratings.csv", "3,\u0661,4"),
                 ["ratings.csv:5: field \"book_id\": expected a whole number, got '\u0661'"], id="non-ascii-digit"),
    pytest.param(lambda f: edit(f, "books.csv", "3,41865,41865,", "x,\u00b2,41865,"),
                 ["books.csv:4: field \"book_id\": expected a whole number, got 'x'"], id="superscript-goodreads-id"),
    pytest.param(lambda f: edit(f, "books.csv", ",small_image_url", ",small\x00image_url"),
                 ["books.csv:1: column 23 of the header contains a NUL character"], id="nul-in-header"),
]


@pytest.mark.parametrize(("corrupt", "expected_parts"), BAD_INPUTS)
def test_bad_input_names_file_line_and_field_and_writes_nothing(folder, corrupt, expected_parts):
    import_folder(folder)
    before = row_counts()
    edit(folder, "books.csv", "Suzanne Collins,2008.0", "Suzanne Collins,2009.0")
    edit(folder, "ratings.csv", "2,2,5", "2,2,3")
    corrupt(folder)

    with pytest.raises(CommandError) as error:
        import_folder(folder)

    for part in expected_parts:
        assert part in str(error.value)
    assert row_counts() == before
    assert Book.objects.get(external_id="goodbooks:1").publication_year == 2008
    assert ShelfEntry.objects.get(shelf__user__username="goodbooks-2", book__external_id="goodbooks:2").rating == 5


@pytest.mark.parametrize("corrupt", [
    pytest.param(lambda f: edit(f, "books.csv", ",Twilight,", ",Twilight, ,"), id="too-many-values"),
    pytest.param(lambda f: edit(f, "books.csv", "Stephenie Meyer", "Stephenie\x00Meyer"), id="nul-character"),
])
def test_rows_of_a_skipped_book_say_which_books_csv_line_is_invalid(folder, tmp_path, corrupt):
    corrupt(folder)
    report_file = tmp_path / "report.txt"

    import_folder(folder, "--skip-invalid", "--report", str(report_file))

    reported = report_file.read_text()
    assert "books.csv:4: " in reported.splitlines()[0]
    assert "unknown book" not in reported
    assert 'book_tags.csv:8: field "goodreads_book_id": book 41865 was skipped (books.csv:4 is invalid)' in reported
    assert 'to_read.csv:2: field "book_id": book 3 was skipped (books.csv:4 is invalid)' in reported


def test_a_byte_order_mark_before_the_header_is_read_as_nothing(folder):
    for name in ("books.csv", "tags.csv", "book_tags.csv"):
        (folder / name).write_bytes(codecs.BOM_UTF8 + (folder / name).read_bytes())
    (folder / "ratings.csv").write_bytes(gzip.compress(codecs.BOM_UTF8 + (folder / "ratings.csv").read_bytes()))
    import_folder(folder)
    assert Book.objects.count() == 4 and ShelfEntry.objects.count() == 6
    assert "book_id" in Book.objects.get(external_id="goodbooks:1").metadata


def test_one_problem_is_one_problem(folder):
    append(folder, "ratings.csv", "3,1,7")
    with pytest.raises(CommandError, match=r"Nothing was imported: 1 problem in the input"):
        import_folder(folder)


def test_an_unwritable_report_path_is_refused_before_anything_is_imported(folder, tmp_path):
    with pytest.raises(CommandError, match=r"--report .*: no folder"):
        import_folder(folder, "--report", str(tmp_path / "missing" / "report.txt"))
    assert not Book.objects.exists()


def test_a_fresh_failed_import_creates_no_readers(folder):
    append(folder, "ratings.csv", "99,1,0")
    with pytest.raises(CommandError, match=r'ratings\.csv:5: field "rating": expected a number of at least 1'):
        import_folder(folder)
    assert all(count == 0 for count in row_counts().values())


def test_skip_invalid_imports_good_rows_and_reports_bad_ones(folder, tmp_path):
    edit(folder, "books.csv", '"Twilight (Twilight, #1)"', '""')
    append(folder, "ratings.csv", "3,1,7")
    report_file = tmp_path / "report.txt"

    output = import_folder(folder, "--skip-invalid", "--report", str(report_file))

    assert Book.objects.count() == 3 and not Book.objects.filter(external_id="goodbooks:3").exists()
    reported = report_file.read_text().splitlines()
    assert len(reported) == 5, reported
    assert 'books.csv:4: field "title"' in reported[0]
    assert 'book_tags.csv:8: field "goodreads_book_id": book 41865 was skipped (books.csv:4' in reported[1]
    assert 'to_read.csv:2: field "book_id": book 3 was skipped (books.csv:4 is invalid)' in "\n".join(reported)
    assert "ratings.csv:5: field \"rating\"" in reported[-1]
    assert "Skipped 5 invalid lines" in output
    assert shelf_of("goodbooks-2", Shelf.Kind.READ) == {"Harry Potter and the Sorcerer's Stone (Harry Potter, #1)": 5}
