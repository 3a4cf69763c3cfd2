"""Reads of the embedding versions: the live one, whether a book has a vector in it, what its run left out."""
from __future__ import annotations

from collections.abc import Callable

from books.models import Book, Link
from recommender.models import BookVector, EmbeddingVersion
from recommender.training.dataset import normalise_link_name, removed_link_matcher
from recommender.training.params import TrainingParams


def active_version() -> EmbeddingVersion | None:
    """The version readers are served from, or None before the first run."""
    return EmbeddingVersion.objects.filter(is_active=True).first()


def book_has_vector(*, book: Book) -> bool:
    """Whether ``book`` has a vector in the active version (trained or inferred)."""
    return BookVector.objects.filter(version__is_active=True, book=book).exists()


def left_out_of_training(*, version: EmbeddingVersion | None) -> Callable[[Link], bool]:
    """Whether training leaves a link out by its name: by the removal list of the run that trained
    ``version``, else by the default one (shelf names such as "to-read", formats)."""
    run_params = version.training_run.params if version and version.training_run else {}
    is_removed = removed_link_matcher(TrainingParams.from_dict(
        {name: run_params[name] for name in ("removed_links", "removed_link_patterns") if name in run_params}
    ))
    return lambda link: is_removed(normalise_link_name(link.name))
