"""Celery tasks of the catalogue. Thin: they load ids and call a service."""
from celery import shared_task

from books.library.services import library_import_run


@shared_task(name="books.tasks.library_import_task")
def library_import_task(import_id: int) -> str:
    """Run a reader's library import (default queue)."""
    return library_import_run(import_id).status
