"""API fixtures: a small catalogue with an active embedding version, and clients signed in by token."""
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from books.models import Book, BookLink, Link
from books.text import fold
from recommender.services.versions import version_activate, version_publish


def client_for(user=None) -> APIClient:
    """An API client, signed in as ``user`` with a real token (as a program would be)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


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
def catalogue(db):
    """Four Russian novels near each other, two dystopias near each other, and a book with no vector."""
    def book(external_id, title, author, genre, country, popularity, **extra):
        return Book.objects.create(
            external_id=external_id, source=external_id.split(":")[0], title=title, author=author, genre=genre,
            country=country, popularity=popularity, search_text=fold(f"{title} {author}"), **extra,
        )

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
        napoleon=Link.objects.create(name="napoleon", display_name="Napoleon", kind=Link.Kind.WIKILINK),
        russian=Link.objects.create(name="russian literature", display_name="Russian literature",
                                    kind=Link.Kind.CATEGORY),
        dystopian=Link.objects.create(name="dystopian", display_name="dystopian", kind=Link.Kind.TAG),
        unused=Link.objects.create(name="unused", display_name="Unused", kind=Link.Kind.TAG),
    )
    BookLink.objects.bulk_create([
        BookLink(book=books.war_and_peace, link=links.napoleon, count=7),
        BookLink(book=books.war_and_peace, link=links.russian, count=1),
        BookLink(book=books.anna_karenina, link=links.russian, count=2),
        BookLink(book=books.zhivago, link=links.russian, count=1),
        BookLink(book=books.master, link=links.russian, count=1),
        BookLink(book=books.hunger_games, link=links.dystopian, count=50),
        BookLink(book=books.catching_fire, link=links.dystopian, count=40),
    ])
    return SimpleNamespace(books=books, links=links)


@pytest.fixture
def active_version(catalogue):
    """A published, active embedding version: Tolstoy's novels nearest each other, the dystopias apart."""
    b, ln = catalogue.books, catalogue.links
    book_vectors = {
        b.war_and_peace: [1.0, 0.1, 0.0, 0.0],
        b.anna_karenina: [1.0, 0.2, 0.0, 0.0],
        b.zhivago: [0.9, 0.0, 0.4, 0.0],
        b.master: [0.7, 0.0, 0.7, 0.1],
        b.hunger_games: [0.0, 0.0, 0.1, 1.0],
        b.catching_fire: [0.0, 0.1, 0.1, 1.0],
    }
    link_vectors = {ln.napoleon: [1.0, 0.0, 0.1, 0.0], ln.russian: [0.9, 0.1, 0.2, 0.0], ln.dystopian: [0, 0, 0, 1.0]}
    with connection.cursor() as cursor:
        # The test's transaction would hold the COPY's deferred FK checks, and PostgreSQL refuses
        # CREATE INDEX while they are pending; outside tests each step commits on its own.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    version = version_publish(
        run=None,
        book_ids=np.array([book.pk for book in book_vectors]),
        book_vectors=np.array(list(book_vectors.values()), dtype=np.float32),
        link_ids=np.array([link.pk for link in link_vectors]),
        link_vectors=np.array(list(link_vectors.values()), dtype=np.float32),
    )
    return version_activate(version=version)
