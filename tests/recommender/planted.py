"""A tiny catalogue with planted structure for the embedding tests (no shared data).

Books fall in ``groups``; a book links only to links of its group, its author writes only in its group,
and each reader shelves books of one group. Training must therefore put a book's group first among its
neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from books.models import Book, BookLink, Link, Shelf, ShelfEntry
from recommender.training.dataset import PairSet

FAST_PARAMS = {
    "epochs": 10,
    "min_steps": 0,
    "embedding_dim": 8,
    "batch_size": 32,
    "learning_rate": 0.05,
    "progress_every_steps": 2,
    "holdout_fraction": 0.1,
}
"""Small enough to train in a second or two, enough to learn the planted groups."""


@dataclass
class PlantedCatalogue:
    books: list[Book]
    links: list[Link]
    group_of_book: dict[int, int]
    readers: list

    def books_of_group(self, group: int) -> list[Book]:
        return [book for book in self.books if self.group_of_book[book.pk] == group]


def planted_catalogue(*, groups: int = 4, books_per_group: int = 10, links_per_group: int = 8,
                      links_per_book: int = 5, readers_per_group: int = 5, shelf_size: int = 6,
                      seed: int = 0) -> PlantedCatalogue:
    rng = np.random.default_rng(seed)
    books = Book.objects.bulk_create([
        Book(external_id=f"wikipedia:Planted {g}-{i}", source="wikipedia", title=f"Planted {g}-{i}",
             author=f"Author {g}-{i % 2}", genre=f"Genre {g}", country=f"Country {g % 2}", popularity=int(i))
        for g in range(groups) for i in range(books_per_group)
    ])
    group_of_book = {book.pk: index // books_per_group for index, book in enumerate(books)}
    links = Link.objects.bulk_create([
        Link(name=f"topic {g}-{j}", display_name=f"Topic {g}-{j}", kind=Link.Kind.WIKILINK)
        for g in range(groups) for j in range(links_per_group)
    ])
    BookLink.objects.bulk_create([
        BookLink(book=book, link=links[group_of_book[book.pk] * links_per_group + j])
        for book in books
        for j in rng.choice(links_per_group, links_per_book, replace=False)
    ])
    User = get_user_model()
    readers = User.objects.bulk_create([
        User(username=f"planted-reader-{g}-{r}") for g in range(groups) for r in range(readers_per_group)
    ])
    shelves = Shelf.objects.bulk_create([
        Shelf(user=reader, name="Want to read", kind=Shelf.Kind.WANT_TO_READ) for reader in readers
    ])
    now = timezone.now()
    ShelfEntry.objects.bulk_create([
        ShelfEntry(shelf=shelf, book=books[(index // readers_per_group) * books_per_group + i], added_at=now)
        for index, shelf in enumerate(shelves)
        for i in rng.choice(books_per_group, shelf_size, replace=False)
    ])
    return PlantedCatalogue(books=books, links=links, group_of_book=group_of_book, readers=readers)


def publish_planted_version(catalogue: PlantedCatalogue, *, dimensions: int = 16, noise: float = 0.35,
                            seed: int = 0, activate: bool = True, shelf_model: bool = False,
                            link_book_counts: np.ndarray | None = None, shelf_model_solver: str = "exact",
                            shelf_model_params: dict | None = None):
    """Publishes a version whose vectors are the planted groups (a centre per group plus noise), no training,
    activates it (unless not ``activate``) and indexes its links, as a training run does; with ``shelf_model``,
    also a shelf model fitted on the catalogue's shelves (by ``shelf_model_solver``, with ``shelf_model_params``
    over the helper's own)."""
    from recommender.services.versions import version_activate, version_index_links, version_publish

    rng = np.random.default_rng(seed)
    n_groups = max(catalogue.group_of_book.values()) + 1
    centres = rng.normal(size=(n_groups, dimensions))
    book_ids = np.array([book.pk for book in catalogue.books])
    book_vectors = centres[[catalogue.group_of_book[pk] for pk in book_ids]]
    book_vectors = book_vectors + noise * rng.normal(size=book_vectors.shape)
    links_per_group = len(catalogue.links) // n_groups
    link_ids = np.array([link.pk for link in catalogue.links])
    link_vectors = centres[np.arange(len(link_ids)) // links_per_group]
    link_vectors = link_vectors + noise * rng.normal(size=link_vectors.shape)
    version = version_publish(
        run=None,
        book_ids=book_ids,
        book_vectors=_unit_rows(book_vectors),
        link_ids=link_ids,
        link_vectors=_unit_rows(link_vectors),
        map_coords=rng.uniform(-1, 1, size=(len(book_ids), 2)),
        layout_method="test",
        link_book_counts=link_book_counts,
        **(planted_shelf_model(book_ids, solver=shelf_model_solver, params=shelf_model_params) if shelf_model else {}),
    )
    version = version_activate(version=version) if activate else version
    version_index_links(version=version)
    return version


def planted_shelf_model(book_ids: np.ndarray, solver: str = "exact", params: dict | None = None) -> dict:
    """``version_publish``'s shelf-model arguments: the model fitted on every shelf of the books (every
    shelved book in it; ``params`` override the training parameters)."""
    from recommender.training.params import TrainingParams
    from recommender.training.shelf_model import train_shelf_model

    entries = np.array(ShelfEntry.objects.values_list("book_id", "shelf__user_id"), dtype=np.int64)
    _, readers = np.unique(entries[:, 1], return_inverse=True)
    shelves = PairSet.build(np.searchsorted(book_ids, entries[:, 0]), readers, n_books=len(book_ids),
                            n_links=int(readers.max()) + 1)
    model = train_shelf_model(shelves=shelves, content=None,
                              params=TrainingParams(**{"shelf_model_regularisation": 1.0, "shelf_model_min_shelves": 1,
                                                       "shelf_model_solver": solver, "shelf_model_neighbours": 40,
                                                       **(params or {})}))
    return {"shelf_model": model, "shelf_book_ids": book_ids[model.book_index]}


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
