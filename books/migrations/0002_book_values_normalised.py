"""Books imported before ``books.importers.normalise`` existed get its spelling of authors, genres, country and
language ("USA" → "United States", "horror" → "Horror", "eng" → "English"), as a re-import would give them.

Only the books whose values change are written (one COPY and one UPDATE); shelves and links are not touched.
"""
from django.db import migrations

from books.importers.normalise import normalise_authors, normalise_country, normalise_genres, normalise_language
from books.text import book_search_text

NORMALISERS = {
    "author": normalise_authors, "genre": normalise_genres, "country": normalise_country,
    "language": normalise_language,
}


def book_values_normalise(apps, schema_editor):
    Book = apps.get_model("books", "Book")
    limits = [Book._meta.get_field(name).max_length for name in NORMALISERS]
    changed = []
    for book_id, title, *values in Book.objects.values_list("pk", "title", *NORMALISERS).iterator(chunk_size=2000):
        normalised = [_fitted(normalise(value), limit)
                      for normalise, value, limit in zip(NORMALISERS.values(), values, limits)]
        if normalised != values:
            changed.append((book_id, *normalised, book_search_text(title, normalised[0])))
    if not changed:
        return
    columns = [*NORMALISERS, "search_text"]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE book_values (id bigint, {', '.join(f'{c} text' for c in columns)})")
        with cursor.cursor.copy(f"COPY book_values (id, {', '.join(columns)}) FROM STDIN") as copy:
            for row in changed:
                copy.write_row(row)
        cursor.execute(
            f"UPDATE {Book._meta.db_table} AS book SET {', '.join(f'{c} = v.{c}' for c in columns)} "
            "FROM book_values AS v WHERE book.id = v.id"
        )
        cursor.execute("DROP TABLE book_values")


def _fitted(value: str, limit: int) -> str:
    # A value too long for its column is cut as the importers cut it (the full value stays in metadata).
    return value if len(value) <= limit else value[: limit - 1] + "…"


class Migration(migrations.Migration):

    dependencies = [("books", "0001_initial")]

    operations = [migrations.RunPython(book_values_normalise, migrations.RunPython.noop, elidable=True)]
