"""Test data builders shared by the suite."""
from books.models import Book
from books.text import fold


def make_book(title, author="", **fields) -> Book:
    """A book as an importer would store it (external id from source and title, search text folded)."""
    source = fields.pop("source", "wikipedia")
    return Book.objects.create(
        external_id=f"{source}:{title}", source=source, title=title, author=author,
        search_text=fold(f"{title} {author}"), **fields,
    )
