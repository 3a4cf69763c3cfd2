"""The embeddings' supervised use: predicting genres, countries and languages from the book vectors — training with
its baselines, the pipeline stage (and its failure), storing with the version, serving from the active version only,
the shown-confidence threshold, and staff accepting or rejecting predictions."""
import importlib
import shutil
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from books.models import Book, Genre
from recommender.models import BookPrediction, PredictionReview, TrainingRun
from recommender.selectors import active_version, book_predictions, genre_books_predicted
from recommender.selectors.predictions import book_field_values
from recommender.services.predictions import predictions_accept
from recommender.services.training_pipeline import training_run_execute
from recommender.services.training_runs import training_run_request
from recommender.training import evaluation
from recommender.training.dataset import PairSet
from recommender.training.predictions import (
    MAX_MAJORITY_SHARE,
    MIN_LABELLED_BOOKS,
    SHOWN_CONFIDENCE,
    FieldLabels,
    _knn_scores,
    predict_book_fields,
    skipped_because,
)
from tests.factories import BookFactory, PublishedVersionFactory
from tests.recommender.planted import FAST_PARAMS, planted_catalogue, publish_planted_version
from tests.support import client_for

GROUPS = ("Fantasy", "Horror", "Romance", "Travel")


def client_for_admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def clustered_books(*, per_group: int = 25, unlabelled_per_group: int = 3, seed: int = 0):
    """Book vectors in four tight clusters, each cluster a genre (and a country for two of them), the links of each
    book those of its cluster; the last books of each cluster have no genre and no country."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(GROUPS), 16))
    group = np.repeat(np.arange(len(GROUPS)), per_group)
    vectors = centres[group] + 0.3 * rng.normal(size=(len(group), 16))
    labelled = np.tile(np.arange(per_group) < per_group - unlabelled_per_group, len(GROUPS))
    genres = [[GROUPS[g]] if known else [] for g, known in zip(group, labelled)]
    countries = [[("France", "Japan")[g % 2]] if known else [""] for g, known in zip(group, labelled)]
    links = PairSet.build(np.repeat(np.arange(len(group)), 3), (group[:, None] * 5 + rng.integers(0, 5, (len(group), 3)))
                          .ravel(), n_books=len(group), n_links=5 * len(GROUPS))
    return vectors, group, labelled, genres, countries, links


def test_the_model_learns_genres_from_the_vectors_and_predicts_only_the_books_without_one():
    vectors, group, labelled, genres, countries, links = clustered_books()
    fields = [FieldLabels.from_values("genre", genres, multi_label=True),
              FieldLabels.from_values("country", countries, multi_label=False)]

    result = predict_book_fields(book_vectors=vectors, fields=fields, sources=["wikipedia"] * len(group),
                                 content=links, seed=3)

    genre = result.metrics["genre"]
    assert genre["labelled_books"] == labelled.sum() and genre["heldout_books"] == round(0.2 * labelled.sum())
    assert genre["model"]["micro_f1"] >= 0.9 and genre["model"]["top1_accuracy"] >= 0.9
    assert genre["majority"]["top1_accuracy"] <= 0.4 < genre["model"]["top1_accuracy"]
    assert set(genre) >= {"knn", "logreg", "model_minus_logreg"} and "macro_f1" in genre["knn"]
    assert result.metrics["country"]["model"]["accuracy"] >= 0.9
    predicted = [p for p in result.predictions if p.field == "genre"]
    assert {p.book_index for p in predicted} == set(np.flatnonzero(~labelled).tolist())
    best = {}
    for p in predicted:
        if p.confidence > best.get(p.book_index, (0, ""))[0]:
            best[p.book_index] = (p.confidence, p.value)
    assert all(value == GROUPS[group[book]] and confidence >= SHOWN_CONFIDENCE
               for book, (confidence, value) in best.items())
    assert {p.value for p in result.predictions if p.field == "country"} <= {"France", "Japan"}


def test_the_knn_baseline_scores_in_blocks_bounded_by_the_cell_budget_with_the_same_scores(monkeypatch):
    rng = np.random.default_rng(2)
    train_x, x = rng.normal(size=(40, 4)).astype(np.float32), rng.normal(size=(9, 4)).astype(np.float32)
    train_y = (rng.random((40, 3)) < 0.4).astype(np.float32)
    whole = _knn_scores(x, train_x, train_y)
    monkeypatch.setattr(evaluation, "BLOCK_CELLS", 80)  # 2 books of 9 at once against the 40 training books
    assert np.allclose(_knn_scores(x, train_x, train_y), whole)


def test_a_field_too_few_books_have_is_skipped_with_the_reason():
    vectors, group, _, genres, _, links = clustered_books()
    languages = [["English"] if i < MIN_LABELLED_BOOKS - 1 else [""] for i in range(len(group))]
    fields = [FieldLabels.from_values("language", languages, multi_label=False)]

    result = predict_book_fields(book_vectors=vectors, fields=fields, sources=["goodbooks"] * len(group),
                                 content=links, seed=1)

    assert f"needs {MIN_LABELLED_BOOKS}" in result.metrics["language"]["skipped"] and result.predictions == []


def test_a_nearly_constant_field_is_skipped_and_one_with_a_real_second_class_is_not():
    vectors, group, _, _, _, links = clustered_books(per_group=30)
    n = len(group)
    # 95.7 % English (the most frequent value at MAX_MAJORITY_SHARE or more): nearly constant, not predicted.
    constant = [["French"] if i < round(0.04 * n) else ["English"] for i in range(n - 5)] + [[""]] * 5
    # One cluster French: a second class of a quarter of the books.
    varied = FieldLabels.from_values("language", [["French" if group[i] == 0 else "English"] for i in range(n - 5)]
                                     + [[""]] * 5, multi_label=False)

    result = predict_book_fields(book_vectors=vectors, sources=["wikipedia"] * n, content=links, seed=1,
                                 fields=[FieldLabels.from_values("language", constant, multi_label=False)])

    assert result.metrics["language"]["skipped"].startswith("nearly constant: 95.7% of 115 labelled books are English")
    assert result.predictions == [] and MAX_MAJORITY_SHARE == 0.95
    assert skipped_because(varied, np.flatnonzero(varied.given)) == ""  # predicted (the fitting is tested above)


# --- In the product: the pipeline stage, storing, serving, reviewing -----------------------------------------------


def catalogue_with_missing_genres():
    """The planted catalogue (its groups a genre each, from the vocabulary), 15 books a group; the last 3 books of
    each group have no genre."""
    catalogue = planted_catalogue(books_per_group=15)
    missing = []
    for group in range(4):
        books = catalogue.books_of_group(group)
        Book.objects.filter(pk__in=[b.pk for b in books]).update(genre=GROUPS[group])
        Book.objects.filter(pk__in=[b.pk for b in books[-3:]]).update(genre="")
        missing += books[-3:]
    return catalogue, list(Book.objects.filter(pk__in=[b.pk for b in missing]).order_by("pk"))


def train() -> TrainingRun:
    run = training_run_request(trigger="command", params={**FAST_PARAMS, "epochs": 30}, enqueue=False)
    return training_run_execute(run_id=run.pk)


@pytest.mark.django_db
@pytest.mark.slow
def test_a_run_stores_predictions_with_its_version_and_they_are_served_from_the_active_one():
    catalogue, missing = catalogue_with_missing_genres()

    run = train()

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = active_version()
    figures = run.metrics["predictions"]
    assert figures["genre"]["labelled_books"] == 48 and figures["stored"] == version.predictions.count() > 0
    assert {"model", "majority", "knn", "logreg"} <= set(figures["genre"]) and "predict" in run.timings
    assert set(version.predictions.filter(field="genre").values_list("book_id", flat=True)) == {b.pk for b in missing}
    shown = {book.pk: book_predictions(book=book).get("genre", []) for book in missing}
    right = [shown[book.pk][0].value == GROUPS[catalogue.group_of_book[book.pk]] for book in missing if shown[book.pk]]
    assert len(right) >= 8 and sum(right) >= 0.75 * len(right)

    # The next run replaces them: only the active version's predictions are served.
    Book.objects.filter(pk=missing[0].pk).update(genre="Fantasy")
    missing[0].refresh_from_db()
    second = train()

    assert second.status == TrainingRun.Status.SUCCEEDED and active_version().pk != version.pk
    assert not active_version().predictions.filter(book=missing[0]).exists()
    assert version.predictions.filter(book=missing[0]).exists()  # the old version keeps its own, unserved
    assert book_predictions(book=missing[0]) == {}


@pytest.mark.django_db
@pytest.mark.slow
def test_a_failing_prediction_stage_is_recorded_and_the_run_still_publishes(monkeypatch, staff_user):
    catalogue_with_missing_genres()

    def fail(**kwargs):
        raise RuntimeError("the supervised model ran out of luck")

    monkeypatch.setattr("recommender.services.predictions.predict_book_fields", fail)  # a fault, injected

    run = train()

    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert active_version().training_run_id == run.pk and not BookPrediction.objects.exists()
    assert run.metrics["predictions"] == {"error": "RuntimeError: the supervised model ran out of luck"}
    staff_user.is_superuser = True
    staff_user.save()
    page = client_for_admin(staff_user).get(reverse("admin:recommender_trainingrun_change", args=[run.pk]))
    assert "The prediction stage failed" in page.content.decode()
    assert "sources centred none" in page.content.decode()  # one source: nothing centred, and the list is shown


@pytest.fixture
def predicted(db):
    """An active planted version with predictions stored by hand: book 0 probably Fantasy (87 %) and Horror (64 %),
    book 1 probably Romance below the shown confidence, book 2 probably from France."""
    catalogue = planted_catalogue()
    Book.objects.filter(pk__in=[b.pk for b in catalogue.books[:3]]).update(genre="", country="")
    Genre.objects.get_or_create(name="Fantasy")[0].books.add(*catalogue.books[3:6])
    Book.objects.filter(pk__in=[b.pk for b in catalogue.books[3:6]]).update(genre="Fantasy")
    version = publish_planted_version(catalogue)
    book0, book1, book2 = (Book.objects.get(pk=b.pk) for b in catalogue.books[:3])
    rows = [(book0, "genre", "Fantasy", 0.87), (book0, "genre", "Horror", 0.64),
            (book1, "genre", "Romance", SHOWN_CONFIDENCE - 0.01), (book2, "country", "France", 0.9)]
    BookPrediction.objects.bulk_create([BookPrediction(version=version, book=book, field=field, value=value,
                                                       confidence=confidence) for book, field, value, confidence in rows])
    return version, book0, book1, book2


def test_only_predictions_at_the_shown_confidence_or_more_are_shown(predicted):
    _, book0, book1, book2 = predicted

    assert [(p.value, p.percent) for p in book_predictions(book=book0)["genre"]] == [("Fantasy", 87), ("Horror", 64)]
    assert book_predictions(book=book1) == {}
    assert BookPrediction.objects.filter(book=book1).exists()  # stored all the same: staff see it
    assert list(genre_books_predicted(name="Romance")) == []
    assert [b.pk for b in genre_books_predicted(name="Fantasy")] == [book0.pk]


def test_the_book_page_and_the_api_mark_predictions_apart_from_the_sources_values(predicted, client):
    _, book0, book1, book2 = predicted

    page = client.get(reverse("book", args=[book0.pk])).content.decode()
    assert 'data-testid="predicted-genre"' in page and "probably:" in page
    assert "Fantasy · 87 %" in page and "Horror · 64 %" in page
    assert "Romance" not in client.get(reverse("book", args=[book1.pk])).content.decode()

    record = client_for().get(f"/api/v1/books/{book0.pk}/").json()
    assert record["genre"] == "" and record["predicted"]["genre"] == [
        {"value": "Fantasy", "confidence": 0.87}, {"value": "Horror", "confidence": 0.64}]
    assert client_for().get(f"/api/v1/books/{book1.pk}/").json()["predicted"] == {
        "genre": [], "country": [], "language": []}
    assert client_for().get(f"/api/v1/books/{book2.pk}/").json()["predicted"]["country"] == [
        {"value": "France", "confidence": 0.9}]


def test_browsing_a_genre_lists_the_predicted_books_after_the_given_ones(predicted, client):
    _, book0, _, _ = predicted

    page = client.get(reverse("genre", args=["Fantasy"])).content.decode()

    assert page.index('data-testid="predicted-books"') > page.index("book-grid")
    predicted_part = page[page.index('data-testid="predicted-books"'):]
    assert reverse("book", args=[book0.pk]) in predicted_part and "probably · 87%" in predicted_part


def test_the_map_colours_books_without_a_genre_by_their_prediction_only_when_asked(predicted, client):
    version, book0, book1, _ = predicted

    data = client.get(reverse("map_points")).json()

    names = data["genre_names"]
    at = {book_id: i for i, book_id in enumerate(data["ids"])}
    assert names[data["genre"][at[book0.pk]]] == "Not given"
    assert names[data["genre_with_predictions"][at[book0.pk]]] == "Fantasy"
    assert names[data["genre_with_predictions"][at[book1.pk]]] == "Not given"  # below the shown confidence
    assert 'id="with-predictions"' in client.get(reverse("map")).content.decode()


def test_staff_accept_a_prediction_into_the_catalogue_as_staff_given(predicted, staff_user):
    version, book0, _, book2 = predicted
    staff_user.is_superuser = True
    staff_user.save()
    admin = client_for_admin(staff_user)
    fantasy = BookPrediction.objects.get(book=book0, value="Fantasy")
    changelist = reverse("admin:recommender_bookprediction_changelist")
    assert "Fantasy" in admin.get(changelist).content.decode()

    response = admin.post(reverse("admin:recommender_bookprediction_decide", args=[fantasy.pk, "accept"]))
    assert response.status_code == 302

    book0.refresh_from_db()
    assert book0.genre == "Fantasy" and book0.genres.filter(name="Fantasy").exists()
    review = PredictionReview.objects.get(book=book0)
    assert (review.field, review.value, review.accepted, review.reviewed_by, review.version) == (
        "genre", "Fantasy", True, staff_user, version)
    # Given now: neither it nor the rest of the book's genre predictions are shown as predicted.
    assert book_predictions(book=book0) == {}

    # Bulk: the action on several rows.
    country = BookPrediction.objects.get(book=book2)
    horror = BookPrediction.objects.get(book=book0, value="Horror")
    admin.post(changelist, {"action": "accept", "_selected_action": [country.pk, horror.pk]})
    book0.refresh_from_db()
    book2.refresh_from_db()
    assert book2.country == "France" and book0.genre == "Fantasy, Horror"
    assert PredictionReview.objects.filter(accepted=True).count() == 3


def test_staff_reject_predictions_which_are_then_never_shown(predicted, staff_user):
    _, book0, book1, book2 = predicted
    staff_user.is_superuser = True
    staff_user.save()
    admin = client_for_admin(staff_user)
    horror = BookPrediction.objects.get(book=book0, value="Horror")
    others = BookPrediction.objects.filter(book__in=[book1, book2])

    admin.post(reverse("admin:recommender_bookprediction_decide", args=[horror.pk, "reject"]))
    admin.post(reverse("admin:recommender_bookprediction_changelist"),
               {"action": "reject", "_selected_action": [p.pk for p in others]})

    assert [p.value for p in book_predictions(book=book0)["genre"]] == ["Fantasy"]
    assert book_predictions(book=book2) == {}
    assert PredictionReview.objects.filter(accepted=False).count() == 3
    book0.refresh_from_db()
    assert book0.genre == "" and not book0.genres.exists()

    # A later version predicting the same again: still not shown; another value is.
    later = PublishedVersionFactory()
    BookPrediction.objects.bulk_create([BookPrediction(version=later, book=book0, field="genre", value=value,
                                                       confidence=0.9) for value in ("Horror", "Romance")])
    assert active_version() == later
    assert [p.value for p in book_predictions(book=book0)["genre"]] == ["Romance"]


def test_a_reader_cannot_review_predictions(predicted, user):
    _, book0, _, _ = predicted
    prediction = BookPrediction.objects.filter(book=book0).first()
    reader = client_for_admin(user)

    response = reader.post(reverse("admin:recommender_bookprediction_decide", args=[prediction.pk, "accept"]))

    assert response.status_code == 302 and "/login/" in response.url
    assert not PredictionReview.objects.exists()


def test_the_staff_pages_show_a_runs_figures_against_the_three_baselines(staff_user):
    by_method = {"model": {"micro_f1": 0.77, "macro_f1": 0.46, "top1_accuracy": 0.81, "shown_precision": 0.89},
                 "majority": {"micro_f1": 0.21, "macro_f1": 0.01, "top1_accuracy": 0.25},
                 "knn": {"micro_f1": 0.70, "macro_f1": 0.46, "top1_accuracy": 0.73},
                 "logreg": {"micro_f1": 0.72, "macro_f1": 0.42, "top1_accuracy": 0.79}}
    figures = {"shown_confidence": 0.5, "stored": 1234,
               "genre": {"labelled_books": 1054, "heldout_books": 211, **by_method,
                         "model_minus_knn": {"difference": 0.07, "ci95": [0.03, 0.11]},
                         "model_minus_logreg": {"difference": 0.047, "ci95": [0.0, 0.09]}},
               "language": {"skipped": "12 labelled books of 1 classes (needs 45 of 2 or more)"}}
    run = TrainingRun.objects.create(trigger="command", status="succeeded", metrics={"predictions": figures})
    staff_user.is_superuser = True
    staff_user.save()
    admin = client_for_admin(staff_user)

    for url in (reverse("admin:recommender_trainingrun_change", args=[run.pk]), reverse("training_status")):
        page = admin.get(url).content.decode()
        assert "(c) logistic regression, TF-IDF links" in page and "(b) 10-NN vote, same vectors" in page, url
        assert "genre · micro F1 (all, 211 held out)" in page and "0.770" in page and "0.210" in page
        assert "+0.047 [+0.000, +0.090]" in page and "not predicted: 12 labelled books" in page
        assert "1,234 predictions stored" in page


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def import_sources(wikipedia: Path, goodbooks: Path) -> None:
    call_command("import_wikipedia_books", str(wikipedia), verbosity=0, stdout=StringIO(), stderr=StringIO())
    call_command("import_goodbooks", str(goodbooks), verbosity=0, stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_an_accepted_value_is_staff_given_and_survives_re_imports_of_either_source(tmp_path, staff_user):
    wikipedia = tmp_path / "wikipedia_books.ndjson"
    shutil.copy(FIXTURES / "wikipedia_books.ndjson", wikipedia)
    goodbooks = Path(shutil.copytree(FIXTURES / "goodbooks", tmp_path / "goodbooks"))
    import_sources(wikipedia, goodbooks)
    master = Book.objects.get(external_id="wikipedia:The Master and Margarita")  # its infobox names no language
    mockingbird = Book.objects.get(external_id="goodbooks:4")  # tagged to-read only: no genre; goodbooks: no country
    assert master.language == "" and (mockingbird.genre, mockingbird.country) == ("", "")
    version = PublishedVersionFactory()
    rows = [(master, "language", "Russian"), (mockingbird, "genre", "Classics"),
            (mockingbird, "country", "United States")]
    predictions = BookPrediction.objects.bulk_create([
        BookPrediction(version=version, book=book, field=field, value=value, confidence=0.8)
        for book, field, value in rows])

    assert predictions_accept(predictions=predictions, user=staff_user) == 3

    # Re-imported as they were, and the Wikipedia article now naming another language: staff-given beats any source.
    text = wikipedia.read_text(encoding="utf-8")
    wikipedia.write_text(text.replace('"country": "Soviet Union"}', '"country": "Soviet Union", "language": "English"}',
                                      1), encoding="utf-8")
    assert '"language": "English"' in wikipedia.read_text(encoding="utf-8")
    import_sources(wikipedia, goodbooks)

    master.refresh_from_db()
    mockingbird.refresh_from_db()
    assert master.language == "Russian" and master.staff_given == {"language": "Russian"}
    assert (mockingbird.genre, mockingbird.country) == ("Classics", "United States")
    assert mockingbird.staff_given == {"genre": ["Classics"], "country": "United States"}
    assert list(mockingbird.genres.values_list("name", flat=True)) == ["Classics"]
    # Given now: not shown as predicted, and the next run learns from it rather than predicting it.
    assert book_predictions(book=master) == {} and book_predictions(book=mockingbird) == {}
    values = book_field_values(book_ids=np.array([master.pk, mockingbird.pk]))
    assert values.languages[0] == "Russian" and values.genres[1] == ["Classics"]
    assert values.countries[1] == "United States"


@pytest.mark.django_db
def test_the_migration_records_the_values_accepted_before_as_staff_given():
    record_accepted = importlib.import_module("recommender.migrations.0008_predict4").record_accepted
    book = BookFactory(genre="Fantasy, Horror", country="Japan")
    for field, value, accepted in (("genre", "Horror", True), ("genre", "Fantasy", False),
                                   ("country", "France", True)):  # the book's country changed since: not its own
        PredictionReview.objects.create(book=book, field=field, value=value, accepted=accepted, confidence=0.8)

    record_accepted(apps, None)

    assert Book.objects.get(pk=book.pk).staff_given == {"genre": ["Horror"]}
