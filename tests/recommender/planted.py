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

FAST_PARAMS = {
    "epochs": 6,
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
