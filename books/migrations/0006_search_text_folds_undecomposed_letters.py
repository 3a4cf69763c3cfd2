"""Search text folds the Latin letters NFKD leaves alone, as sorting does ("Łukasz Ørsted" is searched as
"lukasz orsted"): books whose title or author has one get their ``search_text`` re-made, as a re-import would."""
from django.db import migrations
from django.utils import timezone

from books.text import book_search_text


def search_text_refold(apps, schema_editor):
    Book = apps.get_model("books", "Book")
    changed, now = [], timezone.now()
    for book in Book.objects.only("pk", "title", "author", "search_text").iterator(chunk_size=2000):
        search_text = book_search_text(book.title, book.author)
        if search_text != book.search_text:
            book.search_text, book.updated_at = search_text, now  # the search vocabulary's cache sees the change
            changed.append(book)
    Book.objects.bulk_update(changed, ["search_text", "updated_at"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [("books", "0005_link_book_count")]

    operations = [migrations.RunPython(search_text_refold, migrations.RunPython.noop, elidable=True)]
