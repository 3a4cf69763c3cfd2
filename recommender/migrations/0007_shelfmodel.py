"""Shelf models of the neighbourhood solver store each book's largest weights as a neighbour list (positions and
half-precision weights) instead of one component per book; a version says which kind it holds. Existing versions
are exact ones."""

import django.contrib.postgres.fields
import pgvector.django.halfvec
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('recommender', '0006_predict'),
    ]

    operations = [
        migrations.AddField(
            model_name='embeddingversion',
            name='shelf_model_solver',
            field=models.CharField(default='exact', help_text="How the shelf model was solved, and so how its vectors are stored: exact (one dense vector per book) or neighbourhood (each book's largest weights as a neighbour list).", max_length=20),
        ),
        migrations.AddField(
            model_name='shelfvector',
            name='neighbours',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.PositiveIntegerField(), help_text="The positions this book's weights are for (neighbourhood solver).", null=True, size=None),
        ),
        migrations.AddField(
            model_name='shelfvector',
            name='weights',
            field=pgvector.django.halfvec.HalfVectorField(help_text="This book's weight for each of ``neighbours``.", null=True),
        ),
        migrations.AlterField(
            model_name='shelfvector',
            name='vector',
            field=pgvector.django.halfvec.HalfVectorField(null=True),
        ),
    ]
