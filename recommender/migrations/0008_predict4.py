"""Predictions staff accepted before values were recorded as staff-given: each accepted value the book still has is
recorded in ``Book.staff_given``, so later imports keep it."""

from django.db import migrations


def record_accepted(apps, schema_editor):
    Book = apps.get_model("books", "Book")
    PredictionReview = apps.get_model("recommender", "PredictionReview")
    for review in PredictionReview.objects.filter(accepted=True).order_by("reviewed_at", "id"):
        book = Book.objects.get(pk=review.book_id)  # fresh: a book may have several accepted values
        given = dict(book.staff_given)
        if review.field == "genre":
            if review.value in [name.strip() for name in book.genre.split(",")]:
                given["genre"] = list(dict.fromkeys([*given.get("genre", []), review.value]))
        elif getattr(book, review.field).strip() == review.value:
            given[review.field] = review.value
        if given != book.staff_given:
            Book.objects.filter(pk=book.pk).update(staff_given=given)


class Migration(migrations.Migration):

    dependencies = [
        ('books', '0016_predict4'),
        ('recommender', '0007_shelfmodel'),
    ]

    operations = [
        migrations.RunPython(record_accepted, migrations.RunPython.noop),
    ]
