"""A small catalogue in four genres, with real embedding versions published through the recommender's
services (vectors clustered by genre, so "books like this" has a right answer)."""
import numpy as np
import pytest

from tests.factories import BookFactory, BookLinkFactory, LinkFactory, PublishedVersionFactory
from tests.support import BOOKS_PER_GENRE, GENRES

DIMENSIONS = 8



@pytest.fixture
def genre_catalogue():
    """40 books (10 a genre, one author per genre), each linked to its genre's three links."""
    books, links = [], {}
    for g, (genre, (country, link_names)) in enumerate(GENRES.items()):
        genre_links = [LinkFactory(display_name=name.capitalize()) for name in link_names]
        links[genre] = genre_links
        for i in range(BOOKS_PER_GENRE):
            book = BookFactory(title=f"{genre} book {i}", author=f"Author {'ABCD'[g]}", genre=genre, country=country,
                               popularity=100 - g * 10 - i)
            books.append(book)
            for link in genre_links:
                BookLinkFactory(book=book, link=link, count=1 + (i % 2))
    war_and_peace = BookFactory(title="War and Peace", author="Leo Tolstoy", genre="Historical novel",
                                country="Russia", popularity=500, publisher="The Russian Messenger", pages=1225,
                                publication_year=1869)
    for link in links["Historical novel"]:
        BookLinkFactory(book=war_and_peace, link=link)
    books.append(war_and_peace)
    return {"books": books, "links": links, "war_and_peace": war_and_peace}


@pytest.fixture
def embeddings(genre_catalogue):
    """An active version: each genre a tight cluster around its own direction, placed on the map by genre."""
    rng = np.random.default_rng(7)
    centres = np.eye(DIMENSIONS)[: len(GENRES)]
    genre_index = {genre: g for g, genre in enumerate(GENRES)}
    books = genre_catalogue["books"]
    book_vectors = np.stack([centres[genre_index[b.genre]] + rng.normal(0, 0.05, DIMENSIONS) for b in books])
    all_links = [link for genre in GENRES for link in genre_catalogue["links"][genre]]
    link_vectors = np.stack([centres[g] + rng.normal(0, 0.05, DIMENSIONS)
                             for g, genre in enumerate(GENRES) for _ in genre_catalogue["links"][genre]])
    corners = np.array([[-0.6, -0.6], [0.6, -0.6], [-0.6, 0.6], [0.6, 0.6]])
    coords = np.stack([corners[genre_index[b.genre]] + rng.normal(0, 0.08, 2) for b in books])
    return PublishedVersionFactory(
        book_vectors=dict(zip(books, _unit(book_vectors), strict=True)),
        link_vectors=dict(zip(all_links, _unit(link_vectors), strict=True)),
        map_coords=coords, layout_method="umap", metrics={"heldout_auc": 0.91, "same_author_precision@5": 0.8},
    )


def _unit(vectors):
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
