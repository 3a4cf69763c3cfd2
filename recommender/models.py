"""Embeddings: training runs, the embedding versions they publish, and the vectors in pgvector.

Vectors live in their own tables keyed by (version, book) / (version, link), so a new version is
written beside the live one and switched on in one transaction; each version gets its own partial
HNSW index (cosine), and dropping an old version is a cheap delete.
"""
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from pgvector.django import HalfVectorField, VectorField

from books.models import Book, Link


class TrainingRun(models.Model):
    """One request to retrain the embeddings, its live progress, and its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Trigger(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command line"

    OPEN_STATUSES = (Status.QUEUED, Status.RUNNING)
    DEAD_AFTER = timedelta(minutes=2)
    """A running run whose heartbeat (or, before its first one, its start) is older than this has lost its worker."""

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    params = models.JSONField(default=dict, help_text="The hyper-parameters this run used (all of them).")
    celery_task_id = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The Celery worker (or process) executing it.")
    cancel_requested = models.BooleanField(default=False)

    epoch = models.PositiveIntegerField(default=0)
    epochs = models.PositiveIntegerField(default=0)
    step = models.PositiveIntegerField(default=0)
    steps_per_epoch = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True, help_text="What the run is doing now.")
    loss_history = models.JSONField(default=list, help_text="Mean loss of each finished epoch.")
    metrics = models.JSONField(default=dict, help_text="Quality metrics, with the live version's for comparison.")
    timings = models.JSONField(default=dict, help_text="Seconds spent in each stage.")
    error = models.TextField(blank=True)

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def running_alive(cls, now) -> models.QuerySet:
        """Running runs whose worker still shows signs of life at ``now``: a heartbeat, or a start, within
        ``DEAD_AFTER``."""
        since = now - cls.DEAD_AFTER
        return cls.objects.filter(status=cls.Status.RUNNING).exclude(
            models.Q(heartbeat_at__lt=since) | models.Q(heartbeat_at__isnull=True, started_at__lt=since))

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # One run at a time: at most one queued or running run, enforced by the database.
            models.UniqueConstraint(
                models.Value(True), condition=Q(status__in=["queued", "running"]), name="one_open_training_run"
            ),
        ]

    def __str__(self):
        return f"Training run {self.pk} ({self.status})"


class EmbeddingVersion(models.Model):
    """The vectors one training run published. Exactly one version is active (serves readers)."""

    training_run = models.OneToOneField(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="embedding_version")
    dimensions = models.PositiveSmallIntegerField()
    book_count = models.PositiveIntegerField(default=0)
    link_count = models.PositiveIntegerField(default=0)
    shelf_model_book_count = models.PositiveIntegerField(
        default=0, help_text="Books with shelf-model vectors (0: shelves are served by neighbour voting).")
    shelf_model_solver = models.CharField(
        max_length=20, default="exact",
        help_text="How the shelf model was solved, and so how its vectors are stored: exact (one dense vector per "
                  "book) or neighbourhood (each book's largest weights as a neighbour list).")
    listed_book_count = models.PositiveIntegerField(
        default=0, help_text="Books the shelf model leaves out whose nearest books are listed (NeighbourList; 0: "
                             "none, each request searches the index for them).")
    is_active = models.BooleanField(default=False)
    is_ready = models.BooleanField(default=False, help_text="Vectors written, index built and checked.")
    ann_recall_at_10 = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict)
    layout_method = models.CharField(max_length=20, blank=True, help_text="How the 2-D map was computed.")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_version"),
            models.CheckConstraint(condition=Q(is_active=False) | Q(is_ready=True), name="active_version_is_ready"),
        ]

    def __str__(self):
        return f"Embedding version {self.pk}{' (active)' if self.is_active else ''}"


class BookVector(models.Model):
    """A book's vector in one version, with its place on the map.

    Like ``LinkVector``'s, its references are not foreign-key constraints in the database: checked row by row at the
    commit of a version's COPY they took longer than the COPY itself (BENCHMARKS.md §4). Deleting a book or a version
    still deletes its vectors (Django's cascade), and publishing drops the rows of books or links deleted while the
    version trained (``recommender.services.versions``)."""

    version = models.ForeignKey(EmbeddingVersion, on_delete=models.CASCADE, related_name="book_vectors",
                                db_constraint=False)
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="vectors", db_constraint=False)
    embedding = VectorField()
    map_x = models.FloatField(null=True, blank=True)
    map_y = models.FloatField(null=True, blank=True)
    is_inferred = models.BooleanField(
        default=False, help_text="Inferred from the book's links after training; replaced at the next run."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "book"], name="bookvector_unique")]


class LinkVector(models.Model):
    """A link's vector in one version (no foreign-key constraints in the database: ``BookVector``)."""

    version = models.ForeignKey(EmbeddingVersion, on_delete=models.CASCADE, related_name="link_vectors",
                                db_constraint=False)
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="vectors", db_constraint=False)
    embedding = VectorField()
    is_listed = models.BooleanField(
        default=True, help_text="Offered as a similar link and in the version's HNSW index (links used by enough "
                                "books; rarer links keep a vector for inferring new books' vectors).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "link"], name="linkvector_unique")]


class ShelfVector(models.Model):
    """A book's shelf-model vector in one version (``recommender.training.shelf_model``).

    Its row of the model's book × book weights: how much this book on a shelf says for the book at each
    ``position``; a shelf's scores are the sum of its books' rows. Stored one of two ways, by the version's
    ``shelf_model_solver``:

    - exact: ``vector``, one half-precision component per book of the model (``vector[i]`` for the book at
      position i), stored uncompressed (migration 0005): the model's books squared (85 MB for goodbooks);
    - neighbourhood: the row's non-zero weights only, ``weights[i]`` for the book at position
      ``neighbours[i]`` (at most ``shelf_model_out_neighbours`` a book: linear in the catalogue); both null
      when the book says nothing for any other.
    """

    version = models.ForeignKey(EmbeddingVersion, on_delete=models.CASCADE, related_name="shelf_vectors")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(help_text="This book's component (1-based) in every shelf vector.")
    vector = HalfVectorField(null=True)
    neighbours = ArrayField(models.PositiveIntegerField(), null=True,
                            help_text="The positions this book's weights are for (neighbourhood solver).")
    weights = HalfVectorField(null=True, help_text="This book's weight for each of ``neighbours``.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "book"], name="shelfvector_unique"),
            models.UniqueConstraint(fields=["version", "position"], name="shelfvector_position_unique"),
        ]


class NeighbourList(models.Model):
    """The nearest books of a book the version's shelf model leaves out, as neighbour voting reads them.

    Listed once a version is published (``recommender.services.neighbour_lists``), by the same HNSW query and search
    settings that voting runs per request, so that a recommendation for such a book reads its list instead of
    searching the index: ``neighbours`` in the order the search found them, with their cosine ``distances``. No
    foreign-key constraints in the database (``BookVector``); deleting a book or a version deletes its lists.
    """

    version = models.ForeignKey(EmbeddingVersion, on_delete=models.CASCADE, related_name="neighbour_lists",
                                db_constraint=False)
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    neighbours = ArrayField(models.BigIntegerField(), help_text="The nearest books' ids, nearest first.")
    distances = ArrayField(models.FloatField(), help_text="Each neighbour's cosine distance to this book.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "book"], name="neighbourlist_unique")]


class DismissedBook(models.Model):
    """A reader said "not interested": the book is never recommended to them again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dismissed_books")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "book"], name="dismissedbook_unique")]


class BookPrediction(models.Model):
    """A value the supervised model on a version's book vectors predicts for a book the sources give none
    (``recommender.training.predictions``): a genre, a country or a language, with the model's probability. Each
    version has its own, replaced with it; readers see the active version's above ``SHOWN_CONFIDENCE``, marked as
    predicted, never mixed into the source's value."""

    class Field(models.TextChoices):
        GENRE = "genre", "Genre"
        COUNTRY = "country", "Country"
        LANGUAGE = "language", "Language"

    version = models.ForeignKey(EmbeddingVersion, on_delete=models.CASCADE, related_name="predictions")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="predictions")
    field = models.CharField(max_length=20, choices=Field.choices)
    value = models.CharField(max_length=200)
    confidence = models.FloatField(help_text="The model's probability of the value, 0–1.")

    class Meta:
        ordering = ["-confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "book", "field", "value"], name="bookprediction_unique"),
            models.CheckConstraint(condition=Q(confidence__gte=0, confidence__lte=1),
                                   name="bookprediction_confidence_0_to_1"),
        ]
        indexes = [
            models.Index(fields=["version", "book"], name="bookprediction_book"),
            models.Index(fields=["version", "field", "value", "-confidence"], name="bookprediction_value"),
        ]

    def __str__(self):
        return f"{self.book_id}: probably {self.field} {self.value} ({self.confidence:.0%})"


class PredictionReview(models.Model):
    """Staff's verdict on a predicted value of a book, kept across versions: accepted (the value was written into
    the catalogue, staff-given) or rejected (never shown for the book again)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="prediction_reviews")
    field = models.CharField(max_length=20, choices=BookPrediction.Field.choices)
    value = models.CharField(max_length=200)
    accepted = models.BooleanField()
    confidence = models.FloatField(help_text="The prediction's confidence when it was reviewed.")
    version = models.ForeignKey(EmbeddingVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                help_text="The version whose prediction it was.")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["book", "field", "value"], name="predictionreview_unique")]

    def __str__(self):
        return f"{self.book_id}: {self.field} {self.value} {'accepted' if self.accepted else 'rejected'}"
