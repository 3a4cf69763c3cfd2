"""The recommender's pages: "For you" (with the books the reader is not interested in, to undo), the map of the
embedding space, the projector download, and the staff training status page. Views parse the request, call
selectors or services, and render."""
import gzip

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_POST

from books.models import Book
from books.selectors import books_popular, shelved_book_ids
from books.templatetags.book_page import display_title
from config.redirects import safe_next_url
from recommender import selectors
from recommender.exports import (
    map_data_gzipped,
    map_data_signature,
    projector_metadata_lines,
    projector_vectors_lines,
)
from recommender.models import EmbeddingVersion, TrainingRun
from recommender.services.dismissals import book_dismiss, book_dismissal_undo
from recommender.services.training_runs import TrainingRunError, training_run_request
from recommender.training.predictions import SHOWN_CONFIDENCE

RECOMMENDATIONS_SHOWN = 12
RECOMMENDATION_BATCHES = 5
""""Show others" steps through this many batches of the reader's ranked recommendations, then wraps."""
DISMISSED_SHOWN = 50
"""The reader's most recently dismissed books listed under "Not interested" (the API pages through them all)."""
MAP_NEIGHBOURS = 10
RUNS_SHOWN = 20
VERSIONS_SHOWN = 10


def for_you(request):
    if not request.user.is_authenticated:
        return render(request, "recommender/for_you.html", {"nav": "for_you", "popular_books": books_popular(limit=12),
                                                             "training_status": selectors.training_status()})
    batch = _int(request.GET.get("batch"), default=0) % RECOMMENDATION_BATCHES
    answer = selectors.reader_recommendations(user=request.user, k=RECOMMENDATIONS_SHOWN * RECOMMENDATION_BATCHES,
                                              collapse=True)
    ranked = answer.items
    batches = max(1, -(-len(ranked) // RECOMMENDATIONS_SHOWN))
    batch %= batches
    dismissed = list(selectors.dismissed_books(user=request.user)[:DISMISSED_SHOWN + 1])
    return render(request, "recommender/for_you.html", {
        "nav": "for_you",
        "recommendations": ranked[batch * RECOMMENDATIONS_SHOWN:(batch + 1) * RECOMMENDATIONS_SHOWN],
        "next_batch": (batch + 1) % batches if batches > 1 else None,
        "shelved_count": len(shelved_book_ids(user=request.user)),
        "why_none": answer.why_none,
        "dismissed": dismissed[:DISMISSED_SHOWN],
        "dismissed_more": len(dismissed) > DISMISSED_SHOWN,
        "popular_books": books_popular(limit=12) if not ranked else [],
        "training_status": None if ranked else selectors.training_status(),  # with recommendations, one is live
    })


@never_cache
def first_training_progress(request):
    """The first training's progress for everyone, until a version is live: what the home page and For you poll.
    It tells the stage and the share done, nothing else about the run (no parameters, errors, workers or readers)."""
    status = selectors.training_status()
    run = status["open_run"]
    live = status["active_version"] is not None
    return JsonResponse({"live": live, "run": None if live or run is None else {
        "status": run["status"], "stage": run["stage"], "epoch": run["epoch"], "epochs": run["epochs"],
        "percent": round(100 * run["fraction_done"]),
    }})


@login_required
@require_POST
def book_not_interested(request, pk: int):
    book = get_object_or_404(Book, pk=pk)
    book_dismiss(user=request.user, book=book)
    messages.success(request, f'Got it: "{book.title}" won\'t be suggested to you again.')
    return redirect(safe_next_url(request) or "for_you")


@login_required
@require_POST
def book_not_interested_undo(request, pk: int):
    book = get_object_or_404(Book, pk=pk)
    if book_dismissal_undo(user=request.user, book_id=book.pk):
        messages.success(request, f'Undone: "{book.title}" can be suggested to you again.')
    else:
        messages.info(request, f'"{book.title}" was not among the books you are not interested in.')
    return redirect(safe_next_url(request) or "for_you")


def map_page(request):
    version = selectors.active_version()
    return render(request, "recommender/map.html", {
        "nav": "map",
        "active_version": version,
        "shelved_ids": sorted(shelved_book_ids(user=request.user)) if request.user.is_authenticated else [],
        "focus_book": _int(request.GET.get("book"), default=None),
        "shown_confidence": SHOWN_CONFIDENCE,
    })


def _map_etag(request):
    """Weak: the same data is sent gzip-compressed or not."""
    version = selectors.active_version()
    return f'W/"map-{map_data_signature(version=version)}"' if version else 'W/"map-none"'


@condition(etag_func=_map_etag)
def map_points(request):
    """The map's data (``recommender.exports.map_data``) as JSON, sent compressed as it is cached to a client that
    accepts gzip."""
    version = selectors.active_version()
    if version is None:
        return JsonResponse({"detail": "No embedding version is active yet."}, status=404)
    body = map_data_gzipped(version=version)
    if re_accepts_gzip.search(request.headers.get("Accept-Encoding", "")):
        response = HttpResponse(body, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(body), content_type="application/json")
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def map_neighbours(request, pk: int):
    book = Book.objects.filter(pk=pk).first()
    if book is None:
        return JsonResponse({"detail": f"No book with id {pk}."}, status=404)
    neighbours = selectors.similar_books(book=book, k=MAP_NEIGHBOURS)
    return JsonResponse({
        "book": {"id": book.pk, "title": display_title(book.title), "author": book.author,
                 "url": reverse("book", args=[book.pk])},
        "neighbours": [
            {"id": n.book.pk, "title": display_title(n.book.title), "author": n.book.author,
             "similarity": round(n.similarity, 4),
             "url": reverse("book", args=[n.book.pk])}
            for n in neighbours
        ],
    })


def projector_vectors(request):
    return _projector_download(projector_vectors_lines, "vectors")


def projector_metadata(request):
    return _projector_download(projector_metadata_lines, "metadata")


def _projector_download(lines, name: str):
    version = selectors.active_version()
    if version is None:
        return HttpResponse("No embedding version is active yet.\n", status=404, content_type="text/plain")
    response = StreamingHttpResponse(lines(version=version), content_type="text/tab-separated-values; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bookvec-v{version.pk}-{name}.tsv"'
    return response


@staff_member_required
def training_status(request):
    runs = list(TrainingRun.objects.select_related("requested_by", "embedding_version")[:RUNS_SHOWN])
    return render(request, "recommender/training_status.html", {
        "nav": "staff",
        "status": selectors.training_status(),
        "runs": runs,
        "versions": list(EmbeddingVersion.objects.select_related("training_run")[:VERSIONS_SHOWN]),
        "latest_run": runs[0] if runs else None,
        "auto_refresh": any(run.status in TrainingRun.OPEN_STATUSES for run in runs),
    })


@staff_member_required
@require_POST
def training_retrain(request):
    try:
        run = training_run_request(trigger=TrainingRun.Trigger.ADMIN, requested_by=request.user)
    except TrainingRunError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Training run {run.pk} is queued; this page follows its progress.")
    return redirect("training_status")


def _int(value, *, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
