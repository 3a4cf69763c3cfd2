"""A small catalogue in four genres, with real embedding versions published through the recommender's
services (vectors clustered by genre, so "books like this" has a right answer)."""
import numpy as np
import pytest

from books.models import BookLink, Link
from recommender.services.versions import version_activate, version_publish
from tests.factories import make_book

GENRES = {
    "Science fiction": ("United States", ["space", "robots", "aliens"]),
    "Fantasy": ("United Kingdom", ["dragons", "magic", "quests"]),
    "Crime": ("France", ["detectives", "murder", "police"]),
    "Historical novel": ("Russia", ["war", "empire", "revolution"]),
}
BOOKS_PER_GENRE = 10
DIMENSIONS = 8



@pytest.fixture
def catalogue():
    """40 books (10 a genre, one author per genre), each linked to its genre's three links."""
    books, links = [], {}
    for g, (genre, (country, link_names)) in enumerate(GENRES.items()):
        genre_links = [Link.objects.create(name=name, display_name=name.capitalize(), kind=Link.Kind.WIKILINK)
                       for name in link_names]
        links[genre] = genre_links
        for i in range(BOOKS_PER_GENRE):
            book = make_book(f"{genre} book {i}", f"Author {'ABCD'[g]}", genre=genre, country=country,
                             popularity=100 - g * 10 - i)
            books.append(book)
            BookLink.objects.bulk_create([BookLink(book=book, link=link, count=1 + (i % 2)) for link in genre_links])
    war_and_peace = make_book("War and Peace", "Leo Tolstoy", genre="Historical novel", country="Russia",
                              popularity=500, publisher="The Russian Messenger", pages=1225, publication_year=1869)
    BookLink.objects.bulk_create([BookLink(book=war_and_peace, link=link) for link in links["Historical novel"]])
    books.append(war_and_peace)
    return {"books": books, "links": links, "war_and_peace": war_and_peace}


@pytest.fixture
def embeddings(catalogue):
    """An active version: each genre a tight cluster around its own direction, placed on the map by genre."""
    rng = np.random.default_rng(7)
    centres = np.eye(DIMENSIONS)[: len(GENRES)]
    genre_index = {genre: g for g, genre in enumerate(GENRES)}
    books = catalogue["books"]
    book_vectors = np.stack([centres[genre_index[b.genre]] + rng.normal(0, 0.05, DIMENSIONS) for b in books])
    all_links = [link for genre in GENRES for link in catalogue["links"][genre]]
    link_vectors = np.stack([centres[g] + rng.normal(0, 0.05, DIMENSIONS)
                             for g, genre in enumerate(GENRES) for _ in catalogue["links"][genre]])
    corners = np.array([[-0.6, -0.6], [0.6, -0.6], [-0.6, 0.6], [0.6, 0.6]])
    coords = np.stack([corners[genre_index[b.genre]] + rng.normal(0, 0.08, 2) for b in books])
    version = version_publish(
        run=None,
        book_ids=np.array([b.pk for b in books]), book_vectors=_unit(book_vectors),
        link_ids=np.array([link.pk for link in all_links]), link_vectors=_unit(link_vectors),
        map_coords=coords, layout_method="umap", metrics={"heldout_auc": 0.91, "same_author_precision@5": 0.8},
    )
    return version_activate(version=version)


def _unit(vectors):
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
