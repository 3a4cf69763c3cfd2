"""Values staff gave a book (an accepted prediction), kept over every source's at each import."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('books', '0015_series'),
    ]

    operations = [
        migrations.AddField(
            model_name='book',
            name='staff_given',
            field=models.JSONField(blank=True, db_default=models.Value({}, output_field=models.JSONField()), default=dict, help_text='Values staff gave the book, which beat every source\'s at each import (``books.staff_given``): {"genre": [names], "country": name, "language": name}.'),
        ),
    ]
