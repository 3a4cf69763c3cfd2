"""Shelf entries lose their two redundant indexes: ``book_id`` alone was indexed twice (Django's index of the
foreign key and ``shelfentry_book``), and ``shelf_id`` alone is the leading column of the unique (shelf, book) index.
Only the indexes are dropped (the foreign keys stay as they are: no re-validation of every entry)."""
import django.db.models.deletion
from django.db import migrations, models

DROPPED = ("books_shelfentry_book_id_8a432cbb", "books_shelfentry_shelf_id_39dd4bd9")


class Migration(migrations.Migration):

    dependencies = [
        ("books", "0017_staff"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="shelfentry",
                    name="book",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="shelf_entries", to="books.book"),
                ),
                migrations.AlterField(
                    model_name="shelfentry",
                    name="shelf",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="entries", to="books.shelf"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[f'DROP INDEX IF EXISTS "{name}"' for name in DROPPED],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "books_shelfentry_book_id_8a432cbb" ON "books_shelfentry" ("book_id")',
                        'CREATE INDEX IF NOT EXISTS "books_shelfentry_shelf_id_39dd4bd9" ON "books_shelfentry" ("shelf_id")',
                    ],
                ),
            ],
        ),
    ]
