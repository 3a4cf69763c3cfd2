"""The genre vocabulary: what sources say is read into a few dozen genres, related to books, browsed and filtered."""
import pytest

from books.genres import VOCABULARY, genres_of
from books.models import Book, Genre
from books.selectors import book_search, genre_list


@pytest.mark.parametrize(("value", "genres"), [
    ("Fantasy novel, Fantasy", ["Fantasy"]),
    ("Science fiction novel", ["Science fiction"]),
    ("Young adult thriller science fiction novel", ["Science fiction", "Thriller & suspense", "Young adult"]),
    ("Alternate history novel", ["Alternate history"]),
    ("True crime", ["True crime", "Non-fiction"]),
    ("Gong'an fiction", ["Mystery & detective"]),
    ("Role-playing game", ["Games"]),
    ("Novel", ["Fiction"]),
    ("Various", []),
])
def test_source_values_are_read_into_the_vocabulary(value, genres):
    assert genres_of(value) == genres


def test_the_vocabulary_is_a_few_dozen_genres():
    assert 25 <= len(VOCABULARY) <= 60 and len(set(VOCABULARY)) == len(VOCABULARY)


@pytest.mark.django_db
def test_an_import_relates_books_to_the_vocabulary_and_browsing_uses_it(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "a.ndjson"
    path.write_text('["Dune", {"author": "Frank Herbert", "genre": "[[Science fiction novel]]"}, ["Arrakis"], [], '
                    '"2018-01-02T03:04:05Z", 100]\n', encoding="utf-8")
    call_command("import_wikipedia_books", str(path), verbosity=0, stdout=StringIO(), stderr=StringIO())
    dune = Book.objects.get(title="Dune")
    assert dune.genre == "Science fiction" and dune.metadata["genre"] == "[[Science fiction novel]]"
    assert list(Genre.objects.filter(books=dune).values_list("name", flat=True)) == ["Science fiction"]
    assert [facet.name for facet in genre_list()] == ["Science fiction"]
    assert list(book_search(genre="science fiction")) == [dune]
