"""What the recommendation, dismissed-book, training and health endpoints read and write, as JSON."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from books.api.serializers import (
    MAX_ID,
    BookIdField,
    BookInSeriesSerializer,
    BookSerializer,
    QueryParametersSerializer,
    RequestBodySerializer,
    WholeNumberField,
)
from books.models import Book
from books.selectors import book_ids_identified_by, existing_book_ids
from recommender.models import DismissedBook, EmbeddingVersion, TrainingRun
from recommender.selectors import training_run_progress
from recommender.training.params import BOUNDS

MAX_INPUT_BOOKS = 500
"""A whole shelf fits (goodbooks' longest want-to-read shelf has 100 books). 500 books take 23 ms with the
shelf model and 330 ms with neighbour voting (the bundled sample, this machine)."""
MAX_INPUT_ENTRIES = 4 * MAX_INPUT_BOOKS
"""Entries a list may have, repeats included (a repeated id counts once against ``MAX_INPUT_BOOKS``)."""


COLLAPSE_HELP = (
    "Re-rank so that the answer stops repeating what the books given already cover, as the For you page does: each "
    "series once, as its next book after those given (never a box set holding one of them), and at most two books of "
    "one author in each six. Off by default: it costs recall on goodbooks readers (BENCHMARKS.md §12).")


class RecommendationRequestSerializer(RequestBodySerializer):
    """Books someone likes, by id or by the source's id; answers the books most like them together."""

    books = serializers.ListField(
        child=WholeNumberField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_INPUT_ENTRIES,
        help_text=f"Ids of the books to start from: at most {MAX_INPUT_BOOKS} different books across books and "
                  f"external_ids (a repeated id counts once; {MAX_INPUT_ENTRIES} entries at most).",
    )
    external_ids = serializers.ListField(
        child=serializers.CharField(max_length=600),
        required=False,
        max_length=MAX_INPUT_ENTRIES,
        help_text="The same by any of their identifiers, e.g. goodbooks:1, wikipedia:Dune or isbn13:… (with or instead "
                  "of books).",
    )
    k = WholeNumberField(min_value=1, max_value=100, default=20, help_text="How many books (1–100).")
    collapse = serializers.BooleanField(default=False, help_text=COLLAPSE_HELP)
    ratings = serializers.DictField(
        child=WholeNumberField(min_value=1, max_value=5),
        required=False,
        help_text="Stars (1–5) of some of the books given, keyed by the id or identifier they were given by, e.g. "
                  '{"goodbooks:1": 5, "17": 2}: a rated book counts as much as it does on a reader\'s shelf (1 star '
                  "0.1, 3 stars 0.6, 5 stars 1.3; unrated 1.0), so the same books with the same ratings get what "
                  "that reader's For you gets.",
    )

    def validate_books(self, book_ids: list[int]) -> list[int]:
        book_ids = _at_most_max_books(list(dict.fromkeys(book_ids)))
        known = existing_book_ids(book_ids)
        unknown = [book_id for book_id in book_ids if book_id not in known]
        if unknown:
            raise serializers.ValidationError(_no_books("id", unknown))
        return book_ids

    def validate_external_ids(self, external_ids: list[str]) -> list[int]:
        """The books' ids, in the order given."""
        external_ids = _at_most_max_books(list(dict.fromkeys(external_ids)))
        book_of = book_ids_identified_by(external_ids)
        unknown = [external_id for external_id in external_ids if external_id not in book_of]
        if unknown:
            raise serializers.ValidationError(_no_books("external id", unknown))
        return [book_of[external_id] for external_id in external_ids]

    def validate_ratings(self, ratings: dict[str, int]) -> dict[str, int]:
        if len(ratings) > MAX_INPUT_BOOKS:
            raise serializers.ValidationError(f"At most {MAX_INPUT_BOOKS} ratings, got {len(ratings)}.")
        return ratings

    def validate(self, data: dict) -> dict:
        book_ids = list(dict.fromkeys(data.get("books", []) + data.pop("external_ids", [])))
        if not book_ids:
            raise serializers.ValidationError({"books": ["Give at least one book, in books or external_ids."]})
        book_ids = _at_most_max_books(book_ids, field="books")
        return {**data, "books": book_ids, "ratings": _ratings_by_book(data.pop("ratings", {}), book_ids)}


def _ratings_by_book(ratings: dict[str, int], book_ids: list[int]) -> dict[int, int]:
    """{book id: stars} from ``ratings`` keyed by a book id or identifier; a key naming none of ``book_ids`` is a
    400 naming it (a rating of a book not asked about would be silently ignored)."""
    given = set(book_ids)
    book_of = book_ids_identified_by([key for key in ratings if not key.isdigit()])
    by_book, stray = {}, []
    for key, stars in ratings.items():
        book_id = int(key) if key.isdigit() else book_of.get(key)
        if book_id in given:
            by_book[book_id] = stars
        else:
            stray.append(key)
    if stray:
        raise serializers.ValidationError(
            {"ratings": [f"Rate only books given in books or external_ids; not given: {', '.join(stray)}."]})
    return by_book


def _at_most_max_books(distinct: list, *, field: str | None = None) -> list:
    """``distinct`` if it names at most ``MAX_INPUT_BOOKS`` books (checked before any is looked up)."""
    if len(distinct) > MAX_INPUT_BOOKS:
        message = f"At most {MAX_INPUT_BOOKS} different books, got {len(distinct)}."
        raise serializers.ValidationError({field: [message]} if field else message)
    return distinct


def _no_books(what: str, unknown: list) -> str:
    """"No book with id 7." / "No books with ids 7, 8." — as a 404 names what it looked for."""
    if len(unknown) == 1:
        return f"No book with {what} {unknown[0]}."
    return f"No books with {what}s {', '.join(map(str, unknown))}."


class RecommendationParamsSerializer(QueryParametersSerializer):
    """Query parameters of ``/me/recommendations/``."""

    k = WholeNumberField(min_value=1, max_value=100, default=20, help_text="How many books (1–100).")
    collapse = serializers.BooleanField(default=False, help_text=COLLAPSE_HELP)


class ReasonSerializer(serializers.Serializer):
    book = serializers.IntegerField(help_text="The id of an input (or shelved) book.")
    share = serializers.FloatField(help_text="Its share of the explanation (0.62 is 62 %).")


class RecommendationSerializer(serializers.Serializer):
    book = BookInSeriesSerializer()
    score = serializers.FloatField(help_text="How strongly the books asked about point to this one (higher is better).")
    because = serializers.SerializerMethodField(help_text="Ids of the input (or shelved) books that explain this one.")

    reasons = serializers.SerializerMethodField(
        help_text="The one or two input (or shelved) books that explain most of it, with their shares: the first, "
                  "and the second too when the first explains less than half.")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_because(self, recommendation) -> list[int]:
        return [book.pk for book in recommendation.because]

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, recommendation) -> list[dict]:
        return [{"book": book.pk, "share": round(share, 4)} for book, share in recommendation.reasons]


class RecommendationsSerializer(serializers.Serializer):
    """Recommended books, best first; never one of the books asked about (or already shelved)."""

    results = RecommendationSerializer(many=True)
    version = serializers.IntegerField(allow_null=True, help_text="The embedding version used; null if none is active.")
    detail = serializers.CharField(
        allow_null=True, help_text="Why ``results`` is empty (no active version, no books, none of the books has a "
                                   "vector, or every book near yours is shelved or dismissed); null whenever there "
                                   "are results.",
    )

    def to_representation(self, instance: dict) -> dict:
        """What the declared fields make of ``instance`` (they document the answer), written out from plain values."""
        # DRF's field-by-field serialising was a large share of a request's Python (BENCHMARKS.md §15).
        return {"results": [_recommendation(item) for item in instance["results"]],
                "version": instance["version"], "detail": instance["detail"]}


def _recommendation(item) -> dict:
    """``RecommendationSerializer``'s representation of a ``Recommendation``."""
    return {"book": _book_in_series(item.book), "score": float(item.score),
            "because": [book.pk for book in item.because],
            "reasons": [{"book": book.pk, "share": round(share, 4)} for book, share in item.reasons]}


def _book_in_series(book: Book) -> dict:
    """``BookInSeriesSerializer``'s representation of ``book``: its fields' values as read (numbers, text or null,
    which its fields keep as they are), but an empty cover URL, which is null."""
    record = {name: getattr(book, name) for name in BookSerializer.Meta.fields}
    record["cover_url"] = book.cover_url or None
    record["series"] = None if book.series_id is None else {
        "id": book.series_id, "name": book.series.name, "position": book.series_position,
        "position_end": book.series_position_end}
    return record


class DismissedBookSerializer(serializers.ModelSerializer):
    """A book you said you are not interested in: never recommended to you, until you undo it."""

    book = BookSerializer(read_only=True)

    class Meta:
        model = DismissedBook
        fields = ["book", "dismissed_at"]
        read_only_fields = fields


class DismissedBookCreateInputSerializer(RequestBodySerializer):
    """The book you are not interested in."""

    book = BookIdField()


def _param_field(name: str, meaning: str) -> serializers.Field:
    """An optional field of training parameter ``name``, of its type, documenting its range (``BOUNDS``); the
    range itself is checked once, by ``TrainingParams``, whose refusal names the field."""
    bound = BOUNDS[name]
    help_text = f"{meaning}: {bound.expected()}."
    if bound.kind is str:
        return serializers.ChoiceField(choices=bound.choices, required=False, help_text=help_text)
    field = {bool: serializers.BooleanField, int: serializers.IntegerField, float: serializers.FloatField}[bound.kind]
    return field(required=False, help_text=help_text)


class TrainingParamsInputSerializer(RequestBodySerializer):
    """Hyper-parameters to change for one run; the rest keep their defaults (see ``TrainingParams``)."""

    embedding_dim = _param_field("embedding_dim", "Size of the vectors")
    variant = _param_field("variant", "Model head: sigmoid with cross-entropy, or the cosine with squared error")
    epochs = _param_field("epochs", "Passes over the training pairs, at least")
    min_steps = _param_field("min_steps", "Small catalogues run more epochs, to make at least this many steps")
    batch_size = _param_field("batch_size", "True pairs per step")
    negatives_per_positive = _param_field(
        "negatives_per_positive", "How much a true pair's negatives weigh against it: their mean loss counts this "
                                  "many times the pair's own")
    negative_power = _param_field("negative_power", "Negative sampling power")
    reject_true_pairs = _param_field("reject_true_pairs", "Leave out negatives that are true pairs")
    learning_rate = _param_field("learning_rate", "Gradient descent step size")
    shelf_weight = _param_field("shelf_weight", "Shelf pair vs content pair weight")
    holdout_fraction = _param_field("holdout_fraction", "Pairs held out to evaluate")
    min_books_per_link = _param_field("min_books_per_link", "Links used by fewer books are dropped")
    seed = _param_field("seed", "Random seed")
    threads = _param_field("threads", "CPU threads for TensorFlow; 0 is all")


class TrainingRunRequestSerializer(RequestBodySerializer):
    params = TrainingParamsInputSerializer(required=False, help_text="Parameters to change; omit for the defaults.")


class TrainingRunSerializer(serializers.ModelSerializer):
    """A training run: its status, live progress, loss per epoch and quality metrics."""

    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField(help_text="Share of the training steps done, from 0 to 1.")
    embedding_version = serializers.SerializerMethodField(help_text="The version this run published, if any.")

    class Meta:
        model = TrainingRun
        fields = [
            "id", "status", "trigger", "requested_by", "params", "cancel_requested", "stage", "progress",
            "epoch", "epochs", "step", "steps_per_epoch", "loss_history", "metrics", "timings", "error",
            "embedding_version", "queued_at", "started_at", "heartbeat_at", "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField())
    def get_progress(self, run: TrainingRun) -> float:
        return training_run_progress(run=run)["fraction_done"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_embedding_version(self, run: TrainingRun) -> int | None:
        version = getattr(run, "embedding_version", None)
        return version.pk if version else None


class EmbeddingVersionSerializer(serializers.ModelSerializer):
    """An embedding version: its size, quality, and whether it serves readers now."""

    class Meta:
        model = EmbeddingVersion
        fields = [
            "id", "training_run", "dimensions", "book_count", "link_count", "is_active", "is_ready",
            "ann_recall_at_10", "metrics", "layout_method", "created_at", "activated_at",
        ]
        read_only_fields = fields


class HealthPartSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "down"])
    detail = serializers.CharField(allow_null=True, help_text="What failed, when it is down.")


class WorkerHealthSerializer(HealthPartSerializer):
    workers = serializers.ListField(
        child=serializers.CharField(),
        help_text='Workers that answered the ping, and those busy training ("training@host (training run 5)"), '
                  "which cannot answer it until the run ends.")


class ActiveVersionHealthSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    activated_at = serializers.DateTimeField(allow_null=True)
    book_count = serializers.IntegerField()


class HealthSerializer(serializers.Serializer):
    """Whether Bookvec can serve: 200 when the database and broker answer, 503 otherwise."""

    status = serializers.ChoiceField(choices=["ok", "down"], help_text="ok when database and broker are up.")
    database = HealthPartSerializer()
    broker = HealthPartSerializer()
    worker = WorkerHealthSerializer(help_text="No worker only delays training; it does not fail the check.")
    active_version = ActiveVersionHealthSerializer(allow_null=True, help_text="null: no version is active yet.")
