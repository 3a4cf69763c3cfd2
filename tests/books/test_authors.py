"""Authors as people: one Author whatever the spelling, with roles where the source says so; one page and one API
record per person, found by any spelling."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

from books.importers.authors import author_key
from books.models import Author, Book, Contribution
from books.selectors import author_list, book_search

pytestmark = pytest.mark.django_db


def article(title, **infobox):
    return json.dumps([title, infobox, ["Saint Petersburg"], [], "2018-01-02T03:04:05Z", 1000]) + "\n"


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "articles.ndjson"
    path.write_text(article("Crime and Punishment", author="[[Fyodor Dostoyevsky]]",
                            translator="Richard Pevear, Larissa Volokhonsky")
                    + article("Netochka Nezvanova", author="Fyodor Dostoevsky")
                    + article("Harry Potter and the Chamber of Secrets", author="J.K. Rowling",
                              illustrator="Mary GrandPré")
                    + article("The Casual Vacancy", author="J. K. Rowling"), encoding="utf-8")
    call_command("import_wikipedia_books", str(path), verbosity=0, stdout=StringIO(), stderr=StringIO())


def test_initials_and_case_are_one_spelling():
    assert author_key("J.K. Rowling") == author_key("J. K. Rowling") == author_key("j k rowling") == "jk rowling"
    assert author_key("J.R.R. Tolkien") == "jrr tolkien"


def test_one_person_under_two_spellings_is_one_author_with_an_alias(imported):
    dostoevsky = Author.objects.get(contributions__book__title="Netochka Nezvanova")
    assert dostoevsky.name == "Fyodor Dostoyevsky" and dostoevsky.aliases == ["Fyodor Dostoevsky"]
    assert set(dostoevsky.books.values_list("title", flat=True)) == {"Crime and Punishment", "Netochka Nezvanova"}
    assert Author.objects.filter(name__contains="Rowling").count() == 1
    names = [facet.name for facet in author_list(initial="F")]
    assert names.count("Fyodor Dostoyevsky") == 1 and "Fyodor Dostoevsky" not in names
    assert {book.title for book in book_search(author="Fyodor Dostoevsky")} == {"Crime and Punishment",
                                                                               "Netochka Nezvanova"}


def test_roles_come_from_the_infobox(imported):
    crime = Book.objects.get(title="Crime and Punishment")
    assert {(c.author.name, c.role) for c in Contribution.objects.filter(book=crime)} == {
        ("Fyodor Dostoyevsky", "author"), ("Richard Pevear", "translator"), ("Larissa Volokhonsky", "translator")}
    assert crime.author == "Fyodor Dostoyevsky", "the authors alone are the book's author line"
    assert Contribution.objects.get(author__name="Mary GrandPré").role == "illustrator"


def test_reimporting_adds_no_author_nor_contribution(imported, tmp_path):
    counts = Author.objects.count(), Contribution.objects.count()
    call_command("import_wikipedia_books", str(tmp_path / "articles.ndjson"), verbosity=0, stdout=StringIO(),
                 stderr=StringIO())
    assert (Author.objects.count(), Contribution.objects.count()) == counts


def test_one_author_page_lists_the_books_of_every_spelling(imported, client):
    for spelling in ("Fyodor Dostoyevsky", "Fyodor Dostoevsky"):
        page = client.get(f"/browse/authors/{spelling}/").content.decode()
        assert "Crime and Punishment" in page and "Netochka Nezvanova" in page


def test_the_api_finds_an_author_by_any_spelling_and_lists_their_books(imported, client):
    for search in ("dostoevsky", "Dostoyevsky", "Fyodor Dostoevsky"):
        results = client.get("/api/v1/authors/", {"search": search}).json()["results"]
        assert [author["name"] for author in results] == ["Fyodor Dostoyevsky"], search
    author = client.get("/api/v1/authors/", {"search": "dostoevsky"}).json()["results"][0]
    assert author["aliases"] == ["Fyodor Dostoevsky"] and author["book_count"] == 2
    detail = client.get(f"/api/v1/authors/{author['id']}/").json()
    assert {entry["book"]["title"] for entry in detail["books"]} == {"Crime and Punishment", "Netochka Nezvanova"}
    book = Book.objects.get(title="Crime and Punishment")
    record = client.get(f"/api/v1/books/{book.pk}/").json()
    assert {"name": "Richard Pevear", "role": "translator"}.items() <= next(
        person for person in record["contributors"] if person["name"] == "Richard Pevear").items()
    assert client.get("/api/v1/authors/", {"serach": "x"}).status_code == 400, "an unknown parameter is refused"
