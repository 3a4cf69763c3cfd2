"""A small real catalogue for series tests: the bundled goodbooks books and readers (data/goodbooks, as imported by
``import_goodbooks``) with a live version whose shelf model is fitted on those readers' shelves (book vectors are
random: the shelf model answers every shelf of goodbooks books)."""
from io import StringIO
from pathlib import Path

import numpy as np
from django.core.management import call_command

from books.models import Book, Link, ShelfEntry
from recommender.training import PairSet
from recommender.training.params import TrainingParams
from recommender.training.shelf_model import train_shelf_model

GOODBOOKS = Path(__file__).resolve().parents[2] / "data" / "goodbooks"


def goodbooks_with_live_version():
    """Imports the bundled goodbooks books and readers and activates a version fitted on their shelves."""
    from recommender.services.versions import version_activate, version_publish

    call_command("import_goodbooks", str(GOODBOOKS), verbosity=0, stdout=StringIO(), stderr=StringIO())
    book_ids = np.array(sorted(Book.objects.values_list("pk", flat=True)))
    link_ids = np.array(sorted(Link.objects.values_list("pk", flat=True)[:50]))
    rng = np.random.default_rng(0)
    entries = np.array(ShelfEntry.objects.values_list("book_id", "shelf__user_id"), dtype=np.int64)
    _, readers = np.unique(entries[:, 1], return_inverse=True)
    shelves = PairSet.build(np.searchsorted(book_ids, entries[:, 0]), readers, n_books=len(book_ids),
                            n_links=int(readers.max()) + 1)
    model = train_shelf_model(shelves=shelves, content=None, params=TrainingParams(shelf_model_min_shelves=1))
    version = version_publish(run=None, book_ids=book_ids, book_vectors=_unit(rng.normal(size=(len(book_ids), 16))),
                              link_ids=link_ids, link_vectors=_unit(rng.normal(size=(len(link_ids), 16))),
                              map_coords=rng.uniform(-1, 1, size=(len(book_ids), 2)), layout_method="test",
                              shelf_model=model, shelf_book_ids=book_ids[model.book_index])
    return version_activate(version=version)


def by_goodbooks_id(book_id: int) -> Book:
    return Book.objects.get(identifiers__scheme="goodbooks", identifiers__value=str(book_id))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
