"""Indexes on readers' names and emails whatever their case: signing in by a name in any case, the public shelves
of /users/<name>/ and sign-up's checks compare ``UPPER(username::text)`` (Django's ``iexact``), which scanned every
account (the goodbooks import makes some 50,000)."""
from django.db import migrations

CASE_INDEXES = {
    "books_reader_username_upper": "UPPER(username::text)",
    "books_reader_email_upper": "UPPER(email::text)",
}


class Migration(migrations.Migration):

    dependencies = [
        ("books", "0006_search_text_folds_undecomposed_letters"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON auth_user ({expression})",
                          f"DROP INDEX IF EXISTS {name}")
        for name, expression in CASE_INDEXES.items()
    ]
