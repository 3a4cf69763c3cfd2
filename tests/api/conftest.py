"""API fixtures: a small catalogue of novels with an active embedding version, and clients signed in by token."""
from types import SimpleNamespace

import pytest

from books.models import Link
from tests.factories import BookFactory, BookLinkFactory, LinkFactory, PublishedVersionFactory
from tests.support import client_for


@pytest.fixture
def anonymous():
    return client_for()


@pytest.fixture
def reader(user):
    return client_for(user)


@pytest.fixture
def other_reader(other_user):
    return client_for(other_user)


@pytest.fixture
def staff(staff_user):
    return client_for(staff_user)


@pytest.fixture
def novels(db):
    """Four Russian novels near each other, two dystopias near each other, and a book with no vector."""
    def book(external_id, title, author, genre, country, popularity, **extra):
        return BookFactory(external_id=external_id, source=external_id.split(":")[0], title=title, author=author,
                           genre=genre, country=country, popularity=popularity, **extra)

    books = SimpleNamespace(
        war_and_peace=book("wikipedia:War and Peace", "War and Peace", "Leo Tolstoy", "Historical novel", "Russia",
                           900, publication_year=1869, metadata={"pages": "1,225"}),
        anna_karenina=book("wikipedia:Anna Karenina", "Anna Karenina", "Leo Tolstoy", "Realist novel", "Russia", 800,
                           publication_year=1878),
        zhivago=book("wikipedia:Doctor Zhivago", "Doctor Zhivago", "Boris Pasternak", "Historical novel, Romance",
                     "Soviet Union", 300, publication_year=1957),
        master=book("wikipedia:The Master and Margarita", "The Master and Margarita", "Mikhail Bulgakov",
                    "Fantasy, Satire", "Soviet Union", 600, publication_year=1967),
        hunger_games=book("goodbooks:1", "The Hunger Games", "Suzanne Collins", "Young adult, Dystopian",
                          "United States", 4000, publication_year=2008),
        catching_fire=book("goodbooks:2", "Catching Fire", "Suzanne Collins", "Young adult, Dystopian",
                           "United States", 3000, publication_year=2009),
        new_arrival=book("goodbooks:3", "A New Arrival", "Nobody Yet", "Dystopian", "United States", 1),
    )
    links = SimpleNamespace(
        napoleon=LinkFactory(display_name="Napoleon"),
        russian=LinkFactory(display_name="Russian literature", kind=Link.Kind.CATEGORY),
        dystopian=LinkFactory(display_name="dystopian", kind=Link.Kind.TAG),
        unused=LinkFactory(display_name="Unused", kind=Link.Kind.TAG),
    )
    for book, link, count in [
        (books.war_and_peace, links.napoleon, 7), (books.war_and_peace, links.russian, 1),
        (books.anna_karenina, links.russian, 2), (books.zhivago, links.russian, 1), (books.master, links.russian, 1),
        (books.hunger_games, links.dystopian, 50), (books.catching_fire, links.dystopian, 40),
    ]:
        BookLinkFactory(book=book, link=link, count=count)
    return SimpleNamespace(books=books, links=links)


@pytest.fixture
def active_version(novels):
    """A published, active embedding version: Tolstoy's novels nearest each other, the dystopias apart."""
    b, ln = novels.books, novels.links
    book_vectors = {
        b.war_and_peace: [1.0, 0.1, 0.0, 0.0],
        b.anna_karenina: [1.0, 0.2, 0.0, 0.0],
        b.zhivago: [0.9, 0.0, 0.4, 0.0],
        b.master: [0.7, 0.0, 0.7, 0.1],
        b.hunger_games: [0.0, 0.0, 0.1, 1.0],
        b.catching_fire: [0.0, 0.1, 0.1, 1.0],
    }
    link_vectors = {ln.napoleon: [1.0, 0.0, 0.1, 0.0], ln.russian: [0.9, 0.1, 0.2, 0.0], ln.dystopian: [0, 0, 0, 1.0]}
    return PublishedVersionFactory(book_vectors=book_vectors, link_vectors=link_vectors)
