"""The shelf model is served exactly: one vector per book (its row of the model's weights) replaces the
1,024-d query/answer factorisation. Factorised vectors cannot be turned into exact ones, so versions that
had them fall back to neighbour voting until the next training run; queued runs lose the parameter that
no longer exists (``shelf_model_dimensions``)."""

import django.db.models.deletion
import pgvector.django.halfvec
from django.db import migrations, models


def drop_factorised_shelf_models(apps, schema_editor):
    apps.get_model("recommender", "EmbeddingVersion").objects.update(shelf_model_book_count=0)
    TrainingRun = apps.get_model("recommender", "TrainingRun")
    for run in TrainingRun.objects.filter(status="queued"):
        if run.params.pop("shelf_model_dimensions", None) is not None:
            run.save(update_fields=["params"])


class Migration(migrations.Migration):

    dependencies = [
        ('books', '0001_initial'),
        ('recommender', '0004_linkvector_is_listed'),
    ]

    operations = [
        migrations.RunPython(drop_factorised_shelf_models, migrations.RunPython.noop),
        migrations.DeleteModel(name='ShelfVector'),
        migrations.CreateModel(
            name='ShelfVector',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField(help_text="This book's component (1-based) in every shelf vector.")),
                ('vector', pgvector.django.halfvec.HalfVectorField()),
                ('book', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='books.book')),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='shelf_vectors', to='recommender.embeddingversion')),
            ],
            options={
                'constraints': [
                    models.UniqueConstraint(fields=('version', 'book'), name='shelfvector_unique'),
                    models.UniqueConstraint(fields=('version', 'position'), name='shelfvector_position_unique'),
                ],
            },
        ),
        # Half-precision weights do not compress: skip pglz's attempt on every 12 kB row.
        migrations.RunSQL(
            "ALTER TABLE recommender_shelfvector ALTER COLUMN vector SET STORAGE EXTERNAL",
            migrations.RunSQL.noop,
        ),
    ]
