"""The sample catalogue bundled in data/: what the quick start and the tests load."""
from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from books.importers.goodbooks import goodbooks_import
from books.importers.report import ImportReport
from books.importers.wikipedia import wikipedia_books_import
from books.models import Book

SAMPLE_DIR = settings.BASE_DIR / "data"
WIKIPEDIA_SAMPLE = SAMPLE_DIR / "wikipedia" / "p15_books.ndjson"
GOODBOOKS_SAMPLE = SAMPLE_DIR / "goodbooks"
SAMPLE_LOCK = 0x626F6F6B  # any constant: identifies this lock among the database's advisory locks


@transaction.atomic
def sample_data_load(*, progress=None) -> list[ImportReport] | None:
    """Import the bundled Wikipedia and goodbooks samples if the catalogue has no books; ``None`` if it had some.

    Both samples load in one transaction: the catalogue ends up with both or neither.
    """
    # Two processes starting at once (scripts/run twice) must not both find the catalogue empty.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SAMPLE_LOCK])
    if Book.objects.exists():
        return None
    return [
        wikipedia_books_import(path=WIKIPEDIA_SAMPLE, progress=progress),
        goodbooks_import(folder=GOODBOOKS_SAMPLE, progress=progress),
    ]
