"""import_catalogue: the generic format (CSV and JSON Lines) with the other importers' validation and matching."""
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from books.models import Book, BookIdentifier, BookLink, BookMerge, Contribution

pytestmark = pytest.mark.django_db
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "generic"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HEADER = "id,title,authors,identifiers,subjects,wikilinks,year,language,description,cover_url\n"


def run(path, *args) -> str:
    out = StringIO()
    call_command("import_catalogue", str(path), *args, verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_documented_examples_import_with_people_identifiers_links_and_genres():
    assert "3 books (3 new, 0 updated)" in run(EXAMPLES / "example.csv")
    assert "2 books (2 new, 0 updated)" in run(EXAMPLES / "example.jsonl")
    anna = Book.objects.get(external_id="openlibrary:OL267096W")
    assert (anna.source, anna.author, anna.publication_year, anna.language) == (
        "openlibrary", "Leo Tolstoy", 1878, "Russian")
    assert {(c.author.name, c.role) for c in Contribution.objects.filter(book=anna)} == {
        ("Leo Tolstoy", "author"), ("Richard Pevear", "translator"), ("Larissa Volokhonsky", "translator")}
    assert set(anna.identifiers.values_list("scheme", flat=True)) == {"openlibrary", "isbn13"}
    assert "Classics" in anna.genre and anna.metadata["description"].startswith("A married woman")
    assert {pair.link.kind for pair in BookLink.objects.filter(book=anna).select_related("link")} == {"tag", "wikilink"}
    fox = Book.objects.get(title="Fantastic Mr Fox")
    assert Contribution.objects.get(book=fox, author__name="Quentin Blake").role == "illustrator"
    assert BookIdentifier.objects.filter(scheme="isbn10", value="0618640150").exists()

    counts = Book.objects.count(), BookLink.objects.count(), Contribution.objects.count()
    assert "0 new, 3 updated" in run(EXAMPLES / "example.csv")
    assert (Book.objects.count(), BookLink.objects.count(), Contribution.objects.count()) == counts, "idempotent"


def test_a_record_the_catalogue_has_from_another_source_is_merged(tmp_path):
    folder = Path(shutil.copytree(FIXTURES / "goodbooks", tmp_path / "goodbooks"))
    call_command("import_goodbooks", str(folder), verbosity=0, stdout=StringIO(), stderr=StringIO())
    run(EXAMPLES / "example.csv")
    book = Book.objects.get(external_id="goodbooks:1")
    assert BookIdentifier.objects.get(scheme="openlibrary", value="OL5735363W").book == book
    assert BookMerge.objects.get(book=book).reason == "isbn13:9780439023481"


@pytest.mark.parametrize(("line", "expected"), [
    ("nocolon,Dune,,,,,,,,", 'field "id": expected scheme:value'),
    ("Open Library:1,Dune,,,,,,,,", 'field "id": a scheme is lowercase'),
    ("openlibrary:1,,,,,,,,,", 'field "title": expected a title'),
    ("openlibrary:1,Dune,Frank Herbert (narrator),,,,,,,", 'field "authors[0]": unknown role \'narrator\''),
    ("openlibrary:1,Dune,,isbn13:9780000000000,,,,,,", 'field "identifiers[0]": not a valid ISBN'),
    ("openlibrary:1,Dune,,,,,1965.5,,,", 'field "year": expected a whole number'),
    ("openlibrary:1,Dune,,,,,,,,ftp://x", 'field "cover_url": expected a URL'),
])
def test_a_bad_line_is_named_by_file_line_and_field_and_nothing_is_written(tmp_path, line, expected):
    path = tmp_path / "books.csv"
    path.write_text(HEADER + "openlibrary:0,Good,,,,,,,,\n" + line + "\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run(path)
    assert f"{path}:3: {expected}" in str(error.value)
    assert not Book.objects.exists()


def test_json_lines_errors_and_skip_invalid(tmp_path):
    path = tmp_path / "books.jsonl"
    path.write_text('{"id": "openlibrary:1", "title": "Dune"}\n'
                    '{"id": "openlibrary:2", "title": "Emma", "authors": "Jane Austen"}\n'
                    '{"id": "openlibrary:1", "title": "Dune again"}\n'
                    '{"id": "openlibrary:3", "title": "X", "colour": "red"}\n'
                    '[1, 2]\n', encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run(path)
    message = str(error.value)
    assert f'{path}:2: field "authors": expected a list, got string' in message
    assert f'{path}:3: field "id": openlibrary:1 is already on line 1' in message
    assert f'{path}:4: field "colour": unknown field' in message
    assert f"{path}:5: expected a JSON object, got list" in message
    assert not Book.objects.exists()
    output = run(path, "--skip-invalid")
    assert "1 book (1 new, 0 updated)" in output and "Skipped 4 invalid lines" in output
