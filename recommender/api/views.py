"""Recommendations, dismissed books, training runs, embedding versions and the health check over HTTP.

Recommendations for a list of books are open to everyone; a reader's own, and the books they dismissed ("not
interested"), need a signed-in reader;
training runs and embedding versions are for staff only; the health check is open, unthrottled and
unauthenticated so load balancers can call it.
"""
import logging
import time

from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import error_responses, object_or_404
from config.api_views import ApiView, GenericApiView, validated
from config.celery_app import app as celery_app
from recommender.api.serializers import (
    DismissedBookCreateInputSerializer,
    DismissedBookSerializer,
    EmbeddingVersionSerializer,
    HealthSerializer,
    RecommendationParamsSerializer,
    RecommendationRequestSerializer,
    RecommendationsSerializer,
    TrainingRunRequestSerializer,
    TrainingRunSerializer,
)
from recommender.models import DismissedBook, EmbeddingVersion, TrainingRun
from recommender.selectors import (
    active_version,
    book_recommendations,
    dismissed_books,
    rating_weight,
    reader_recommendations,
    workers_busy_training,
)
from recommender.services.dismissals import book_dismiss, book_dismissal_undo
from recommender.services.training_runs import training_run_cancel, training_run_request
from recommender.services.versions import version_activate, version_rollback

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 2
WORKER_PING_TIMEOUT_S = 0.5
WORKER_PING_CACHE_S = 10
_last_worker_ping: list = [float("-inf"), []]


# --- Recommendations ----------------------------------------------------------------------------------


class RecommendationApi(ApiView):
    """Books for someone who likes the given books (no account needed)."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["recommendations"],
        request=RecommendationRequestSerializer,
        responses={200: RecommendationsSerializer, **error_responses(400)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}, {}],
    )
    def post(self, request):
        """The ``k`` books most like the given ones together, never one of them.

        Books are given by id (``books``), by the source's id (``external_ids``, e.g. ``goodbooks:1``), or
        both. Each result names the input books that explain it (``because``; ``reasons``: the one or two that
        explain most, with their shares). ``ratings`` weigh rated books as a reader's shelf does and ``collapse``
        re-ranks as the For you page does, so the books of a reader's shelves, most recently shelved first, with
        their ratings and ``collapse``, get that reader's For you (less the books they dismissed). Unknown ids
        are a 400 that names them.
        """
        data = validated(RecommendationRequestSerializer, request.data)
        version = active_version()
        weights = {book_id: rating_weight(stars) for book_id, stars in data["ratings"].items()}
        results = [] if version is None else book_recommendations(book_ids=data["books"], k=data["k"], version=version,
                                                                      weights=weights, collapse=data["collapse"])
        detail = None
        if not results:
            detail = ("No embedding version is active yet: train one first." if version is None else
                      "None of these books has a vector in the active embedding version: too few links or readers "
                      "to place them.")
        return Response(_recommendations(results, version=version, detail=detail))


class MyRecommendationApi(ApiView):
    """Books for you, from the books on your shelves (your ratings weigh in; dismissed books never come back)."""

    permission_classes = [IsAuthenticated]
    query_parameters = RecommendationParamsSerializer

    @extend_schema(
        tags=["recommendations"],
        parameters=[RecommendationParamsSerializer],
        responses={200: RecommendationsSerializer, **error_responses(400, 401)},
    )
    def get(self, request):
        """The ``k`` books most like those on your shelves, never one of them or one you dismissed. With none,
        ``detail`` says why: no active version, empty shelves, no shelved book with a vector, or every book near
        yours shelved or dismissed (the "For you" page says the same)."""
        params = self.query_parameters_valid(request)
        answer = reader_recommendations(user=request.user, k=params["k"], collapse=params["collapse"])
        why_none = answer.why_none.value if answer.why_none else None
        return Response(_recommendations(answer.items, version=answer.version, detail=why_none))


class MyDismissedBookListApi(GenericApiView):
    """The books you said you are not interested in ("not interested" on the For you page), most recently
    dismissed first: never recommended to you, until you undo it."""

    permission_classes = [IsAuthenticated]
    serializer_class = DismissedBookSerializer
    queryset = DismissedBook.objects.none()  # names the model for the schema; dismissals come from dismissed_books

    @extend_schema(
        tags=["recommendations"],
        responses={200: DismissedBookSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(dismissed_books(user=request.user))
        return self.get_paginated_response(DismissedBookSerializer(page, many=True).data)

    @extend_schema(
        tags=["recommendations"],
        request=DismissedBookCreateInputSerializer,
        responses={201: DismissedBookSerializer, 200: DismissedBookSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        """Say you are not interested in a book: it is never recommended to you again, until you undo it. 201 when
        it is new; 200 when you had dismissed it already (it keeps its date)."""
        data = validated(DismissedBookCreateInputSerializer, request.data)
        dismissal, created = book_dismiss(user=request.user, book=data["book"])
        return Response(DismissedBookSerializer(dismissal).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MyDismissedBookDetailApi(ApiView):
    """A book you dismissed, by the book's id."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["recommendations"], responses={204: None, **error_responses(400, 401, 404)})
    def delete(self, request, book_id: int):
        """Undo a dismissal: the book can be recommended to you again; 404 if you had not dismissed it."""
        if not book_dismissal_undo(user=request.user, book_id=book_id):
            raise NotFound(f"No dismissed book with id {book_id}.")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Training runs and embedding versions (staff) -----------------------------------------------------


class TrainingRunListApi(GenericApiView):
    """Training runs, newest first (staff only)."""

    permission_classes = [IsAdminUser]
    serializer_class = TrainingRunSerializer
    queryset = TrainingRun.objects.select_related("requested_by", "embedding_version")

    @extend_schema(
        tags=["training"],
        responses={200: TrainingRunSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TrainingRunSerializer(page, many=True).data)

    @extend_schema(
        tags=["training"],
        request=TrainingRunRequestSerializer,
        responses={202: TrainingRunSerializer, **error_responses(400, 401, 403, 409, 503)},
    )
    def post(self, request):
        """Queue a training run (optionally with changed parameters); 409 while another is queued or running."""
        data = validated(TrainingRunRequestSerializer, request.data)
        run = training_run_request(
            trigger=TrainingRun.Trigger.API, requested_by=request.user, params=data.get("params") or None
        )
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class TrainingRunDetailApi(ApiView):
    """One training run: status, progress, loss per epoch, metrics (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(tags=["training"], responses={200: TrainingRunSerializer, **error_responses(401, 403, 404)})
    def get(self, request, pk: int):
        return Response(TrainingRunSerializer(_training_run(pk)).data)


class TrainingRunCancelApi(ApiView):
    """Ask a queued or running training run to stop (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["training"], request=None, responses={202: TrainingRunSerializer, **error_responses(401, 403, 404, 409)}
    )
    def post(self, request, pk: int):
        """A queued run is cancelled at once; a running one stops at its next progress check (202)."""
        run = training_run_cancel(run=_training_run(pk))
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class EmbeddingVersionListApi(GenericApiView):
    """Embedding versions, newest first (staff only)."""

    permission_classes = [IsAdminUser]
    serializer_class = EmbeddingVersionSerializer
    queryset = EmbeddingVersion.objects.all()

    @extend_schema(
        tags=["training"],
        responses={200: EmbeddingVersionSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EmbeddingVersionSerializer(page, many=True).data)


class EmbeddingVersionDetailApi(ApiView):
    """One embedding version (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(tags=["training"], responses={200: EmbeddingVersionSerializer, **error_responses(401, 403, 404)})
    def get(self, request, pk: int):
        return Response(EmbeddingVersionSerializer(object_or_404(EmbeddingVersion.objects, pk)).data)


class EmbeddingVersionActivateApi(ApiView):
    """Serve readers from this version from now on (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["training"],
        request=None,
        responses={200: EmbeddingVersionSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        """Activate a ready version; 409 if it is not ready (its vectors or index are incomplete)."""
        version = version_activate(version=object_or_404(EmbeddingVersion.objects, pk))
        return Response(EmbeddingVersionSerializer(version).data)


class EmbeddingVersionRollbackApi(ApiView):
    """Go back to the version that was active before this one (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["training"],
        request=None,
        responses={200: EmbeddingVersionSerializer, **error_responses(401, 403, 409)},
    )
    def post(self, request):
        """Activate the previously active version; 409 if there is none to go back to."""
        return Response(EmbeddingVersionSerializer(version_rollback()).data)


# --- Health -------------------------------------------------------------------------------------------


class HealthApi(APIView):
    """Whether the database, the broker and a worker answer, and which embedding version is active.

    Unlike every other resource it takes any query string: a monitor that adds a cache-buster (``?_=123``) must
    hear about the service's health, not about its parameters."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(tags=["health"], responses={200: HealthSerializer, 503: HealthSerializer}, auth=[{}])
    def get(self, request):
        """200 when the database and the broker answer, 503 otherwise; a missing worker only shows."""
        database = _check(_ping_database, "database")
        broker = _check(_ping_broker, "broker")
        worker = (_check(_ping_workers, "worker ping") if broker["status"] == "ok"
                  else {"status": "down", "detail": "No broker."})
        worker.setdefault("workers", [])
        if database["status"] == "ok" and (training := workers_busy_training()):
            busy = [f"{name} (training run {run_id})" for name, run_id in training.items()
                    if name not in worker["workers"]]
            worker["workers"] = [*worker["workers"], *busy]
            if worker["status"] == "down" and broker["status"] == "ok":
                worker.update(status="ok", detail=None)
        version = active_version() if database["status"] == "ok" else None
        is_up = database["status"] == broker["status"] == "ok"
        report = {
            "status": "ok" if is_up else "down",
            "database": database,
            "broker": broker,
            "worker": worker,
            "active_version": version,
        }
        return Response(
            HealthSerializer(report).data, status=status.HTTP_200_OK if is_up else status.HTTP_503_SERVICE_UNAVAILABLE
        )


# --- Helpers ------------------------------------------------------------------------------------------


def _recommendations(results, *, version, detail: str | None) -> dict:
    return RecommendationsSerializer(
        {"results": results, "version": version.pk if version else None, "detail": detail}
    ).data


def _training_run(pk: int) -> TrainingRun:
    return object_or_404(TrainingRun.objects.select_related("requested_by", "embedding_version"), pk)


def _check(ping, part: str) -> dict:
    try:
        return {"status": "ok", "detail": None, **ping()}
    except Exception as error:  # noqa: BLE001 — any failure means "down"; the log says why.
        # The error's own text names hosts, ports and users: it goes to the log, not to anonymous callers.
        logger.warning("Health check: the %s is down: %s: %s", part, type(error).__name__, error)
        return {"status": "down", "detail": f"The {part} did not answer (the server log says why)."}


def _ping_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _ping_broker() -> dict:
    with celery_app.connection_for_read() as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_S)
        broker.default_channel.client.ping()
    return {}


def _ping_workers() -> dict:
    # A worker ping waits out its whole timeout; load balancers poll health often, so the answer is
    # reused for WORKER_PING_CACHE_S in this process.
    answered_at, workers = _last_worker_ping
    if time.monotonic() - answered_at > WORKER_PING_CACHE_S:
        replies = celery_app.control.ping(timeout=WORKER_PING_TIMEOUT_S)
        workers = sorted(name for reply in replies for name in reply)
        _last_worker_ping[:] = [time.monotonic(), workers]
    if not workers:
        return {"status": "down", "detail": "No worker answered the ping.", "workers": []}
    return {"workers": workers}
