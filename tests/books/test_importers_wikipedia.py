"""import_wikipedia_books: the notebook's ndjson in, books/links/pairs out; bad input rejected whole."""
import codecs
import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from books.models import Book, BookLink, Link, Shelf, ShelfEntry

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "wikipedia_books.ndjson"
GOOD_LINES = FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Book, Link, BookLink, Shelf, ShelfEntry, get_user_model())}


def import_books(path, *args) -> str:
    out = StringIO()
    call_command("import_wikipedia_books", str(path), *args, verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


def write_lines(folder: Path, lines: list[str], name="books.ndjson") -> Path:
    path = folder / name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_books_links_and_pairs_are_imported_from_the_fixture():
    output = import_books(FIXTURE)

    assert "3 books (3 new, 0 updated)" in output and "Left out 1 page that is not a book." in output
    assert not Book.objects.filter(title__startswith="Wikipedia:").exists()
    war = Book.objects.get(external_id="wikipedia:War and Peace")
    assert (war.source, war.author, war.country, war.genre, war.publisher) == (
        "wikipedia", "Leo Tolstoy", "Russia", "Historical fiction", "The Russian Messenger")
    assert (war.pages, war.pages_raw, war.publication_year, war.isbn) == (1225, "1,225 (first edition)", 1869,
                                                                           "978-0-14-303999-0")
    assert war.cover_url == ("https://en.wikipedia.org/wiki/Special:FilePath/"
                             "Tolstoy_-_War_and_Peace_-_first_edition%2C_1869.jpg?width=300")
    assert war.article_length == 120304
    assert war.metadata["author"] == "[[Leo Tolstoy]]", "the raw infobox is kept"
    assert war.search_text == "war and peace leo tolstoy"
    assert Book.objects.get(title="Anna Karenina").cover_url == "https://example.org/anna.jpg"
    assert Book.objects.get(title="Anna Karenina").genre == "Literary fiction, Drama & plays"  # "Realist novel, Tragedy"
    master = Book.objects.get(title="The Master and Margarita")
    assert (master.author, master.genre, master.pages, master.publication_year) == (
        "Mikhail Bulgakov", "Fantasy, Humour & satire", 372, 1967)  # the infobox: Fantasy, Farce, Satire

    pairs = dict(BookLink.objects.filter(book=war).values_list("link__name", "count"))
    assert pairs["napoleon"] == 2, "an article linking a page twice counts 2"
    assert {"hardcover", "wikipedia:wikiproject novels"} <= set(pairs), "every link is stored"
    assert Link.objects.get(name="category:1869 russian novels").kind == Link.Kind.CATEGORY
    assert Link.objects.get(name="leo tolstoy").kind == Link.Kind.WIKILINK
    assert Link.objects.get(name="leo tolstoy").books.count() == 2, "'Leo  Tolstoy' and 'Leo Tolstoy' are one link"


def test_reimporting_updates_rows_instead_of_duplicating_them(tmp_path):
    import_books(FIXTURE)
    counts = row_counts()
    napoleon_books = Link.objects.get(name="napoleon").book_count
    import_books(FIXTURE)
    assert row_counts() == counts
    assert Link.objects.get(name="napoleon").book_count == napoleon_books

    changed = [line.replace('"Realist novel < br > Tragedy"', '"Tragedy"').replace('"napoleon", ', "")
               for line in GOOD_LINES]
    output = import_books(write_lines(tmp_path, changed))
    anna = Book.objects.get(title="Anna Karenina")
    assert "0 new, 3 updated" in output
    assert anna.genre == "Drama & plays", "the vocabulary's genre for the infobox's Tragedy"
    assert list(anna.genres.values_list("name", flat=True)) == ["Drama & plays"]
    assert not anna.links.filter(name="napoleon").exists(), "a link the article dropped is dropped"
    assert Link.objects.get(name="napoleon").book_count == napoleon_books - 1
    assert Book.objects.count() == counts["Book"] and Link.objects.count() == counts["Link"]
    assert BookLink.objects.count() == counts["BookLink"] - 1


def test_a_gzipped_dump_reads_the_same(tmp_path):
    path = tmp_path / "books.ndjson.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("".join(GOOD_LINES))
    import_books(path)
    assert Book.objects.count() == 3


def test_progress_goes_to_stderr():
    err = StringIO()
    call_command("import_wikipedia_books", str(FIXTURE), stdout=StringIO(), stderr=err)
    assert "Writing books" in err.getvalue() and "book/s" in err.getvalue()


BAD_LINES = [
    pytest.param('["Broken", {"author": "X"}, [], [], "2018-01-01T00:00:00Z" 5]\n',
                 ["books.ndjson:2:", "malformed JSON: Expecting ',' delimiter at column 60"], id="malformed-json"),
    pytest.param('{"not": "an array"\n',
                 ["books.ndjson:2:", "malformed JSON: Expecting ',' delimiter at column 19"], id="unclosed-at-line-end"),
    pytest.param('["Listbox", ["author", "X"], [], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "infobox": expected an object, got list'], id="infobox-not-a-dict"),
    pytest.param('["Long", {}, [], [], "2018-01-01T00:00:00Z", "5 kB"]\n',
                 ['books.ndjson:2: field "article_length": expected an integer, got string'], id="length-not-int"),
    pytest.param('["  ", {}, [], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "title": expected a non-empty string, got an empty string'], id="empty-title"),
    pytest.param('[null, {}, [], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "title": expected a non-empty string, got null'], id="missing-title"),
    pytest.param('[{}, [], [], "2018-01-01T00:00:00Z", 5]\n',
                 ["books.ndjson:2: expected 6 fields"], id="short-row"),
    pytest.param('{"title": "Dict"}\n', ["books.ndjson:2: expected a JSON array", "got object"], id="not-an-array"),
    pytest.param('["Links", {}, ["A", 7], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "wikilinks[1]": expected a string, got integer 7'], id="link-not-a-string"),
    pytest.param('["Values", {"pages": [1, 2]}, [], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "infobox.pages": expected a string, got list'], id="infobox-value-list"),
    pytest.param('["Nul\\u0000title", {}, [], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "title": contains a NUL character'], id="nul-in-title"),
    pytest.param('["Nul", {"author": "A\\u0000B"}, ["C\\u0000D"], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "infobox.author": contains a NUL character'], id="nul-in-infobox"),
    pytest.param('["Nul", {}, ["Fine", "C\\u0000D"], [], "2018-01-01T00:00:00Z", 5]\n',
                 ['books.ndjson:2: field "wikilinks[1]": contains a NUL character'], id="nul-in-wikilink"),
    pytest.param('["Long", {}, [], [], "2018-01-01T00:00:00Z", 5]\n'.replace("Long", "Long " * 101),
                 ['books.ndjson:2: field "title": expected at most 500 characters, got 504'], id="title-too-long"),
    pytest.param('["When", {}, [], [], "last Tuesday", 5]\n',
                 ['books.ndjson:2: field "last_edit": expected an ISO 8601 timestamp'], id="bad-timestamp"),
    pytest.param('["QA S \\ud800", {}, [], [], "2017-11-13T01:50:33Z", 1]\n',
                 ['books.ndjson:2: field "title": contains a surrogate character U+D800'], id="surrogate-in-title"),
    pytest.param('["QA", {"author": "A \\udfff"}, [], [], "2017-11-13T01:50:33Z", 1]\n',
                 ['books.ndjson:2: field "infobox.author": contains a surrogate character U+DFFF'],
                 id="surrogate-in-infobox-value"),
    pytest.param('["QA", {"\\udc00": "A"}, [], [], "2017-11-13T01:50:33Z", 1]\n',
                 ['books.ndjson:2: field "infobox": contains a surrogate character U+DC00'],
                 id="surrogate-in-infobox-key"),
    pytest.param('["QA", {}, ["Fine", "\\ud83d"], [], "2017-11-13T01:50:33Z", 1]\n',
                 ['books.ndjson:2: field "wikilinks[1]": contains a surrogate character U+D83D'],
                 id="surrogate-in-wikilink"),
    pytest.param('["QA", {"pages": NaN}, [], [], "2017-11-13T01:50:33Z", 1]\n',
                 ["books.ndjson:2: malformed JSON: NaN is not a JSON value"], id="nan"),
    pytest.param('["QA", {"pages": -Infinity}, [], [], "2017-11-13T01:50:33Z", 1]\n',
                 ["books.ndjson:2: malformed JSON: -Infinity is not a JSON value"], id="infinity"),
    pytest.param('["QA", {"pages": 1e400}, [], [], "2017-11-13T01:50:33Z", 1]\n',
                 ['books.ndjson:2: field "infobox.pages": a number too large to read (beyond ±1.8e308)'],
                 id="number-beyond-float"),
    pytest.param('["QA", {}, [], [], "2017-11-13T01:50:33Z", ' + "1" * 5000 + "]\n",
                 ["books.ndjson:2: a number too large to read (5000 digits)"], id="number-of-5000-digits"),
]


@pytest.mark.parametrize(("bad_line", "expected_parts"), BAD_LINES)
def test_bad_input_names_file_line_and_field_and_writes_nothing(tmp_path, bad_line, expected_parts):
    import_books(FIXTURE)
    before = row_counts()
    # The good lines around the bad one would change War and Peace if anything were written.
    lines = [GOOD_LINES[0].replace("[[Leo Tolstoy]]", "Lev Tolstoy"), bad_line, *GOOD_LINES[1:]]

    with pytest.raises(CommandError) as error:
        import_books(write_lines(tmp_path, lines))

    for part in expected_parts:
        assert part in str(error.value)
    assert "Nothing was imported" in str(error.value) and "--skip-invalid imports the valid lines" in str(error.value)
    assert row_counts() == before
    assert Book.objects.get(title="War and Peace").author == "Leo Tolstoy"


def test_skip_invalid_skips_a_line_with_a_surrogate(tmp_path):
    lines = [GOOD_LINES[0], '["QA S \\ud800", {}, [], [], "2017-11-13T01:50:33Z", 1]\n', *GOOD_LINES[1:]]
    output = import_books(write_lines(tmp_path, lines), "--skip-invalid")
    assert Book.objects.count() == 3
    assert "Skipped 1 invalid line:\n" in output
    assert 'books.ndjson:2: field "title": contains a surrogate character U+D800' in output


def test_a_surrogate_pair_is_one_character():
    from books.importers.wikipedia import book_from_line

    book = book_from_line('["Smile \\ud83d\\ude00", {}, [], [], "2017-11-13T01:50:33Z", 1]')
    assert book.title == "Smile \U0001F600"


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_a_byte_order_mark_at_the_start_is_read_as_nothing(tmp_path, compress):
    data = codecs.BOM_UTF8 + "".join(GOOD_LINES).encode()
    path = tmp_path / "books.ndjson"
    path.write_bytes(gzip.compress(data) if compress else data)
    import_books(path)
    assert Book.objects.count() == 3 and Book.objects.filter(title="War and Peace").exists()


def test_a_line_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "books.ndjson"
    path.write_bytes(GOOD_LINES[0].encode() + '["Caf\xe9", {}, [], [], "2018-01-01T00:00:00Z", 5]\n'.encode("latin-1"))
    with pytest.raises(CommandError, match=r"books\.ndjson:2: not UTF-8 text \(byte 0xe9 at column 6\)"):
        import_books(path)
    assert row_counts()["Book"] == 0


def test_a_truncated_last_line_is_reported_as_truncation(tmp_path):
    path = write_lines(tmp_path, [*GOOD_LINES[:2], GOOD_LINES[3][:50]])
    with pytest.raises(CommandError, match=r"books\.ndjson:3: malformed JSON: .* \(truncated\?\)"):
        import_books(path)
    assert row_counts()["Book"] == 0


def test_a_truncated_gzip_file_is_refused(tmp_path):
    path = tmp_path / "books.ndjson.gz"
    path.write_bytes(gzip.compress("".join(GOOD_LINES * 20).encode())[:-40])
    with pytest.raises(CommandError, match="gzip file is truncated or corrupt"):
        import_books(path)
    assert row_counts()["Book"] == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="missing.ndjson: no such file") as error:
        import_books(tmp_path / "missing.ndjson")
    assert "--skip-invalid" not in str(error.value), "skipping bad lines cannot help a missing file"


def test_skip_invalid_imports_good_lines_and_reports_bad_ones(tmp_path):
    lines = [GOOD_LINES[0], '["Listbox", [], [], [], "2018-01-01T00:00:00Z", 5]\n', GOOD_LINES[1], "[oops\n",
             *GOOD_LINES[2:]]
    report_file = tmp_path / "report.txt"

    output = import_books(write_lines(tmp_path, lines), "--skip-invalid", "--report", str(report_file))

    assert Book.objects.count() == 3
    assert "Skipped 2 invalid lines" in output
    assert 'books.ndjson:2: field "infobox": expected an object, got list' in output
    reported = report_file.read_text().splitlines()
    assert len(reported) == 2 and "books.ndjson:4: malformed JSON" in reported[1]


def test_the_report_file_lists_problems_of_a_failed_import_too(tmp_path):
    report_file = tmp_path / "report.txt"
    with pytest.raises(CommandError):
        import_books(write_lines(tmp_path, ["[1]\n", "[2]\n"]), "--report", str(report_file))
    assert report_file.read_text().count("expected 6 fields") == 2


# Hypothesis: whatever happens to one line, the import fails with that line named and writes nothing.

def _corruptions():
    truncations = st.integers(min_value=1, max_value=len(GOOD_LINES[1]) - 2).map(lambda n: GOOD_LINES[1][:n])
    garbage = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=1
                      ).filter(lambda text: text.strip() and not _is_valid_row(text))
    swapped = st.tuples(st.integers(min_value=0, max_value=5), st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
        max_leaves=5,
    )).map(_swap_field).filter(lambda text: not _is_valid_row(text))
    return st.one_of(truncations, garbage, swapped)


def _swap_field(position_and_value):
    position, value = position_and_value
    row = json.loads(GOOD_LINES[1])
    row[position] = value
    return json.dumps(row)


def _is_valid_row(text):
    from books.importers.problems import BadLine
    from books.importers.wikipedia import book_from_line

    try:
        book_from_line(text)
        return True
    except BadLine:
        return False


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad_line=_corruptions(), line_number=st.integers(min_value=1, max_value=4))
def test_any_corrupted_line_fails_with_its_line_number_and_writes_nothing(tmp_path, bad_line, line_number):
    lines = list(GOOD_LINES)
    lines.insert(line_number - 1, bad_line + "\n")
    path = write_lines(tmp_path, lines, name="fuzzed.ndjson")
    before = row_counts()
    with pytest.raises(CommandError) as error:
        import_books(path)
    assert f"fuzzed.ndjson:{line_number}:" in str(error.value)
    assert row_counts() == before


def test_the_fixture_is_what_the_bundled_sample_looks_like():
    sample = Path(__file__).resolve().parents[2] / "data" / "wikipedia" / "p15_books.ndjson"
    first = json.loads(sample.open(encoding="utf-8").readline())
    assert [type(value) for value in first] == [type(value) for value in json.loads(GOOD_LINES[0])]
