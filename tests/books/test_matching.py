"""One catalogue: a record of one source that is a book of another merges into it, by identifier or by title and
author; re-imports keep the merge; the API finds the book by any of its identifiers."""
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from books.importers.matching import TitleKeys, author_surnames, isbn_identifiers, same_author, title_key
from books.models import Book, BookLink, BookMerge

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def wikipedia_line(title, *, author, links=("Panem",), isbn=None, genre="Dystopian"):
    infobox = {"author": author, "genre": genre}
    if isbn:
        infobox["isbn"] = isbn
    return json.dumps([title, infobox, list(links), [], "2018-01-02T03:04:05Z", 1000]) + "\n"


def import_wikipedia(tmp_path, *lines) -> str:
    path = tmp_path / "articles.ndjson"
    path.write_text("".join(lines), encoding="utf-8")
    out = StringIO()
    call_command("import_wikipedia_books", str(path), verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


def import_goodbooks(folder) -> str:
    out = StringIO()
    call_command("import_goodbooks", str(folder), verbosity=0, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def goodbooks(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURES / "goodbooks", tmp_path / "goodbooks"))


def book_of(identifier: str) -> Book:
    scheme, value = identifier.split(":", 1)
    return Book.objects.get(identifiers__scheme=scheme, identifiers__value=value)


# --- normalising, without the database ----------------------------------------------------------------


@pytest.mark.parametrize(("one", "other"), [
    ("The Hunger Games (The Hunger Games, #1)", "The Hunger Games (novel)"),
    ("Twilight (Twilight, #1)", "Twilight (Meyer novel)"),
    ("Naked Economics: Undressing the Dismal Science", "Naked Economics"),
    ("The Time Paradox (Artemis Fowl, #6)", "Artemis Fowl: The Time Paradox"),
    ("Les Misérables", "Les Miserables"),
    ("Jack & Jill (Alex Cross, #3)", "Jack and Jill (novel)"),
])
def test_titles_that_name_one_work_match(one, other):
    assert TitleKeys.of(one).matches(TitleKeys.of(other)) and TitleKeys.of(other).matches(TitleKeys.of(one))


@pytest.mark.parametrize(("one", "other"), [
    ("Artemis Fowl (Artemis Fowl, #1)", "Artemis Fowl: The Time Paradox"),  # the series is no subtitle's title
    ("Catching Fire (The Hunger Games, #2)", "The Hunger Games (novel)"),
    ("Emma", "Emmanuelle"),
])
def test_titles_of_other_works_do_not(one, other):
    assert not TitleKeys.of(one).matches(TitleKeys.of(other))


def test_a_records_other_title_knows_the_series_its_title_names():
    original, title = TitleKeys.all_of(["Artemis Fowl", "Artemis Fowl (Artemis Fowl, #1)"])
    assert not original.matches(TitleKeys.of("Artemis Fowl: The Time Paradox"))


def test_authors_are_compared_by_folded_surname_spelt_either_way():
    assert author_surnames("J.K. Rowling, Mary GrandPré") == ["rowling", "grandpre"]
    assert same_author(author_surnames("Fyodor Dostoyevsky"), author_surnames("Fyodor Dostoevsky"))
    assert same_author(author_surnames("Leo Tolstoj"), author_surnames("Leo Tolstoy"))
    assert not same_author(author_surnames("George Orwell"), author_surnames("Bernard Cornwell"))
    assert not same_author(["more"], ["moore"]) and not same_author(["martin"], ["martini"]), "other people"
    assert title_key("The Hunger Games (The Hunger Games, #1)") == "hunger games"


def test_isbns_are_read_as_either_sources_spells_them():
    assert isbn_identifiers("439023483") == [("isbn10", "0439023483"), ("isbn13", "9780439023481")], "lost zero"
    assert isbn_identifiers("978-0-439-02348-1") == [("isbn13", "9780439023481")]
    assert isbn_identifiers("9.78043902348e+12") == [] and isbn_identifiers("0439023484") == [], "no valid ISBN"


# --- importing, on the database -----------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_wikipedia_article_merges_into_the_goodbooks_book_of_the_same_title_and_author(goodbooks, tmp_path):
    import_goodbooks(goodbooks)
    out = import_wikipedia(tmp_path, wikipedia_line("The Hunger Games (novel)", author="[[Suzanne Collins]]"),
                           wikipedia_line("Catching Fire (film)", author="Francis Lawrence"))

    book = book_of("goodbooks:1")
    assert book_of("wikipedia:The Hunger Games (novel)") == book
    assert {str(identifier) for identifier in book.identifiers.all()} >= {
        "goodbooks:1", "goodreads:2767052", "isbn10:0439023483", "isbn13:9780439023481",
        "wikipedia:The Hunger Games (novel)"}
    merge = BookMerge.objects.get(book=book)
    assert merge.method == BookMerge.Method.TITLE_AUTHOR and "collins" in merge.reason
    assert merge.source == "wikipedia" and "wikipedia:The Hunger Games (novel)" in merge.identifiers
    assert "1 merged into books of another source" in out
    assert Book.objects.filter(title="Catching Fire (film)").exists(), "another author's work stays its own"
    # Links from both sources attach to the one book; the fields the first source left blank are filled.
    sources = dict(BookLink.objects.filter(book=book).values_list("link__name", "source"))
    assert sources["panem"] == "wikipedia" and any(source == "goodbooks" for source in sources.values())
    assert book.genre and book.metadata["wikipedia"]["author"] == "[[Suzanne Collins]]"


@pytestmark_db
def test_a_goodbooks_book_merges_into_the_wikipedia_article_by_isbn_and_reimports_keep_the_merge(goodbooks, tmp_path):
    article = wikipedia_line("Harry Potter and the Philosopher's Stone", author="J. K. Rowling",
                             isbn="0-439-55493-4", links=("Hogwarts",))
    import_wikipedia(tmp_path, article)
    import_goodbooks(goodbooks)

    book = book_of("wikipedia:Harry Potter and the Philosopher's Stone")
    assert book_of("goodbooks:2") == book and book.source == "wikipedia"
    assert BookMerge.objects.get(book=book).reason == "isbn10:0439554934"
    tags = set(BookLink.objects.filter(book=book, source="goodbooks").values_list("link__name", flat=True))
    assert tags, "the goodbooks tags came along"
    books, pairs = Book.objects.count(), BookLink.objects.count()

    import_goodbooks(goodbooks)
    import_wikipedia(tmp_path, article)

    assert Book.objects.count() == books and BookLink.objects.count() == pairs, "re-imports change nothing"
    assert BookMerge.objects.count() == 1, "a re-import is no new merge"
    assert set(BookLink.objects.filter(book=book, source="goodbooks").values_list("link__name", flat=True)) == tags, \
        "re-importing Wikipedia keeps the goodbooks pairs"


@pytestmark_db
def test_an_isbn_on_a_book_of_another_title_is_no_match(goodbooks, tmp_path):
    import_wikipedia(tmp_path, wikipedia_line("The Kalahari Typing School for Men", author="Suzanne Collins",
                                              isbn="0439023483"))
    import_goodbooks(goodbooks)
    assert book_of("goodbooks:1") != book_of("wikipedia:The Kalahari Typing School for Men")
    assert book_of("isbn13:9780439023481") == book_of("wikipedia:The Kalahari Typing School for Men"), \
        "an identifier stays with the book that had it first"


@pytestmark_db
def test_two_books_of_one_source_never_merge_and_a_book_takes_one_record_of_each_source(goodbooks, tmp_path):
    import_wikipedia(tmp_path, wikipedia_line("Twilight (Meyer novel)", author="Stephenie Meyer"),
                     wikipedia_line("Twilight (Meyer book)", author="Stephenie Meyer"))
    import_goodbooks(goodbooks)
    assert Book.objects.filter(identifiers__scheme="wikipedia", title__startswith="Twilight").count() == 2
    assert not BookMerge.objects.exists(), "two books alike: no guess"
    assert book_of("goodbooks:3").source == "goodbooks"


@pytestmark_db
def test_the_api_finds_a_merged_book_by_any_identifier_and_lists_them_all(goodbooks, tmp_path, client):
    import_goodbooks(goodbooks)
    import_wikipedia(tmp_path, wikipedia_line("The Hunger Games (novel)", author="Suzanne Collins"))
    found = [client.get("/api/v1/books/", {"external_id": identifier}).json()["results"]
             for identifier in ("goodbooks:1", "wikipedia:The Hunger Games (novel)", "goodreads:2767052",
                                "isbn13:9780439023481")]
    assert all(len(results) == 1 and results[0]["id"] == found[0][0]["id"] for results in found)
    record = client.get(f"/api/v1/books/{found[0][0]['id']}/").json()
    assert "wikipedia:The Hunger Games (novel)" in record["identifiers"] and "goodbooks:1" in record["identifiers"]
    response = client.post("/api/v1/recommendations/", {"external_ids": ["isbn10:0439023483"]},
                           content_type="application/json")
    assert response.status_code == 200
