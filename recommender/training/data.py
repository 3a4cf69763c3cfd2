"""What one training run learns from and is evaluated on, as dense indices (read from the database by
``recommender.selectors.training_data``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.training.dataset import PairSet
from recommender.training.evaluation import ShelfCase


@dataclass(frozen=True, eq=False)
class TrainingData:
    """The pairs of one run and how their dense indices map back to database ids."""

    pairs: PairSet
    """What the book–link embeddings train on: content links first (indices ``< n_content_links``), then the
    catalogue's entities that are no content link (``catalogue``), then readers (any shelf) when ``shelf_weight``
    > 0."""
    content: PairSet
    """Books and their content links; a pair's weight is the book's count of the link (tag count, wikilink
    repeats). The shelf model's side information."""
    shelves: PairSet
    """Books and the training readers' shelves that hold them, numbered from 0, for the shelf model: a
    reader's 2+ books of ``shelf_model_shelf_kinds`` (weight 1), then a reader's 2+ books of other kinds
    (weight ``shelf_model_other_shelves_weight``)."""
    book_ids: np.ndarray
    """int64[n_books]: the ``Book.id`` of each book index."""
    link_ids: np.ndarray
    """int64[n_content_links]: the ``Link.id`` of each content link index."""
    n_readers: int
    shelf_cases: list[ShelfCase]
    """Validation readers (book indices), none of whose shelf rows are in ``pairs``."""
    shelf_popularity: np.ndarray
    """float64[n_books]: how many training readers shelved each book (the popularity baseline)."""
    authors: list[str]
    genres: list[str]
    countries: list[str]
    """First author / genre / country of each book index, lowercased ("" when unknown)."""
    sources: list[str]
    """Each book index's source ("wikipedia", "goodbooks")."""
    catalogue: PairSet | None = None
    """Books and the catalogue's entities they have (authors, genres, the wikilinks that name them), in ``pairs``'
    link numbering (an entity that is a content link has that link's index), kind CATALOGUE, less those that are
    content pairs too (an article linking its own author). None: not read."""
    named_book_pairs: int = 0
    """How many of ``catalogue``'s pairs are a book and a wikilink that names it (``books.link_targets``)."""
    books_without_pairs: int = 0
    """Books of the catalogue with nothing to learn from, so without a vector after the run."""

    @property
    def n_content_links(self) -> int:
        return len(self.link_ids)

    @property
    def n_content_pairs(self) -> int:
        return len(self.content)

    @property
    def n_shelf_pairs(self) -> int:
        return len(self.shelves)
