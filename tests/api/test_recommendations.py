"""/api/v1/recommendations/ (any list of books, no account) and /api/v1/me/recommendations/ (from shelves)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from books.models import Book, Series
from books.services import shelf_add_book, shelf_create
from recommender.api.serializers import MAX_INPUT_BOOKS, MAX_INPUT_ENTRIES, RecommendationsSerializer
from recommender.selectors import NoRecommendations, book_recommendations
from recommender.services.dismissals import book_dismiss

pytestmark = pytest.mark.django_db

RECOMMENDATIONS = "/api/v1/recommendations/"
MINE = "/api/v1/me/recommendations/"


def test_recommendations_for_a_list_of_books_never_contain_them(anonymous, novels, active_version):
    b = novels.books
    response = anonymous.post(RECOMMENDATIONS, {"books": [b.war_and_peace.pk, b.anna_karenina.pk], "k": 3},
                              format="json")
    assert response.status_code == 200
    body = response.json()
    results = body["results"]
    assert len(results) == 3
    recommended = {result["book"]["id"] for result in results}
    assert not recommended & {b.war_and_peace.pk, b.anna_karenina.pk}
    assert results[0]["book"]["title"] in {"Doctor Zhivago", "The Master and Margarita"}
    assert set(results[0]["because"]) <= {b.war_and_peace.pk, b.anna_karenina.pk} and results[0]["because"]
    scores = [result["score"] for result in results]
    assert scores == sorted(scores, reverse=True)
    assert body["version"] == active_version.pk and body["detail"] is None


def test_k_defaults_to_20_and_repeated_ids_count_once(anonymous, novels, active_version):
    book = novels.books.hunger_games
    response = anonymous.post(RECOMMENDATIONS, {"books": [book.pk, book.pk]}, format="json")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5  # every other book with a vector
    # Repeats do not count against the limit of MAX_INPUT_BOOKS books, up to MAX_INPUT_ENTRIES entries.
    many = anonymous.post(RECOMMENDATIONS, {"books": [book.pk] * MAX_INPUT_ENTRIES}, format="json")
    assert many.status_code == 200 and many.json()["results"] == response.json()["results"]
    too_many = anonymous.post(RECOMMENDATIONS, {"books": [book.pk] * (MAX_INPUT_ENTRIES + 1)}, format="json")
    assert too_many.status_code == 400 and "books" in too_many.json()["errors"]
    different = anonymous.post(RECOMMENDATIONS, {"books": list(range(1, MAX_INPUT_BOOKS + 2))}, format="json")
    assert different.json()["errors"] == {"books": [f"At most {MAX_INPUT_BOOKS} different books, got 501."]}, \
        "counted before any id is looked up (most of these ids name no book)"


def test_unknown_book_ids_are_400_naming_them(anonymous, novels, active_version):
    response = anonymous.post(RECOMMENDATIONS, {"books": [novels.books.zhivago.pk, 999998, 999999]}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "999998, 999999" in body["detail"]
    assert body["errors"] == {"books": ["No books with ids 999998, 999999."]}


def test_books_can_be_given_by_their_sources_ids(anonymous, novels, active_version):
    b = novels.books
    by_id = anonymous.post(RECOMMENDATIONS, {"books": [b.war_and_peace.pk, b.anna_karenina.pk], "k": 3}, format="json")
    by_source = anonymous.post(RECOMMENDATIONS, {"external_ids": [b.war_and_peace.external_id,
                                                                  b.anna_karenina.external_id], "k": 3}, format="json")
    mixed = anonymous.post(RECOMMENDATIONS, {"books": [b.war_and_peace.pk], "k": 3,
                                             "external_ids": [b.anna_karenina.external_id, b.war_and_peace.external_id]},
                           format="json")
    assert by_id.status_code == by_source.status_code == mixed.status_code == 200
    assert by_id.json()["results"] == by_source.json()["results"] == mixed.json()["results"]


def test_unknown_external_ids_are_400_naming_them(anonymous, novels, active_version):
    response = anonymous.post(RECOMMENDATIONS, {"external_ids": [novels.books.zhivago.external_id, "goodbooks:0",
                                                                 "wikipedia:No Such Book"]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "external_ids": ["No books with external ids goodbooks:0, wikipedia:No Such Book."]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "books"),
        ({"books": []}, "books"),
        ({"books": list(range(1, MAX_INPUT_BOOKS + 2))}, "books"),
        ({"external_ids": []}, "books"),
        ({"external_ids": "goodbooks:1"}, "external_ids"),
        ({"external_ids": [1]}, "external_ids"),
        ({"external_ids": ["x" * 601]}, "external_ids"),
        ({"books": "1,2"}, "books"),
        ({"books": ["War and Peace"]}, "books"),
        ({"books": [0]}, "books"),
        ({"books": [2**64]}, "books"),
        ({"books": [1.5]}, "books"),
        ({"books": [None]}, "books"),
        ({"books": [1], "k": 0}, "k"),
        ({"books": [1], "k": 101}, "k"),
        ({"books": [1], "k": "many"}, "k"),
        ({"books": [1], "k": None}, "k"),
        # One rule for ids and counts everywhere (as the shelf endpoints): whole numbers in ASCII digits only.
        ({"books": [1], "k": "\uff13"}, "k"),
        ({"books": [1], "k": "\u0663"}, "k"),
        ({"books": [1], "k": "3.0"}, "k"),
        ({"books": [1], "k": 3.0}, "k"),
        ({"books": [1], "k": ""}, "k"),
    ],
)
def test_bad_requests_are_400_naming_the_field(anonymous, novels, body, field):
    response = anonymous.post(RECOMMENDATIONS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("raw", ['{"books": [1,', "[1, 2]", "null", '"books"', "\x00"])
def test_malformed_or_non_object_json_is_400(anonymous, raw):
    response = anonymous.post(RECOMMENDATIONS, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_books_without_vectors_get_no_recommendations_and_are_told_why(anonymous, novels, active_version):
    response = anonymous.post(RECOMMENDATIONS, {"books": [novels.books.new_arrival.pk]}, format="json")
    assert response.status_code == 200 and response.json()["results"] == []
    assert response.json()["detail"] == ("None of these books has a vector in the active embedding version: too few "
                                         "links or readers to place them.")


def test_without_an_active_version_recommendations_are_empty_and_say_why(anonymous, novels):
    response = anonymous.post(RECOMMENDATIONS, {"books": [novels.books.war_and_peace.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert "No embedding version is active" in response.json()["detail"]


def test_my_recommendations_come_from_my_shelves_and_skip_shelved_books(reader, user, novels, active_version):
    b = novels.books
    shelf = shelf_create(user=user, name="Dystopias")
    shelf_add_book(shelf=shelf, book=b.hunger_games, rating=5)
    response = reader.get(MINE, {"k": 2})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["book"]["title"] == "Catching Fire"
    assert results[0]["because"] == [b.hunger_games.pk]
    assert all(result["book"]["id"] != b.hunger_games.pk for result in results)


def test_my_recommendations_with_empty_shelves_say_what_to_do(reader, novels, active_version):
    body = reader.get(MINE).json()
    assert body["results"] == [] and body["detail"] == NoRecommendations.EMPTY_SHELVES.value
    assert body["detail"] == "Put books on your shelves to get recommendations."


def test_my_recommendations_from_books_without_vectors_say_so(reader, user, novels, active_version):
    shelf_add_book(shelf=shelf_create(user=user, name="New"), book=novels.books.new_arrival)
    body = reader.get(MINE).json()
    assert body["results"] == [] and body["detail"] == NoRecommendations.NO_SHELVED_BOOK_WITH_VECTOR.value
    assert "put books that have vectors on your shelves" in body["detail"]


def test_my_recommendations_when_every_neighbour_is_shelved_or_dismissed_say_so(reader, user, novels,
                                                                                active_version):
    b = novels.books
    shelf = shelf_create(user=user, name="Mine")
    for book in (b.hunger_games, b.catching_fire, b.new_arrival):
        shelf_add_book(shelf=shelf, book=book)
    for book in (b.war_and_peace, b.anna_karenina, b.zhivago, b.master):
        book_dismiss(user=user, book=book)
    body = reader.get(MINE).json()
    assert body["results"] == [] and body["detail"] == NoRecommendations.ALL_NEIGHBOURS_TAKEN.value


def test_my_recommendations_without_an_active_version_say_so(reader, user, novels):
    shelf_add_book(shelf=shelf_create(user=user, name="Mine"), book=novels.books.hunger_games)
    body = reader.get(MINE).json()
    assert body == {"results": [], "version": None, "detail": NoRecommendations.NO_ACTIVE_VERSION.value}


def test_my_recommendations_need_a_reader_and_a_bounded_k(anonymous, reader):
    assert anonymous.get(MINE).status_code == 401
    assert reader.get(MINE, {"k": 1000}).status_code == 400


@pytest.mark.parametrize("k", ["", "\uff13", "\u0663", "3.0"])
def test_an_empty_or_lenient_k_in_the_query_is_an_error_not_the_default(reader, novels, active_version, k):
    response = reader.get(MINE, {"k": k})
    assert response.status_code == 400 and "k" in response.json()["errors"]


def test_the_schema_documents_the_page_minimums(anonymous):
    schema = anonymous.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/books/"]["get"]["parameters"]}
    assert parameters["page"]["minimum"] == 1
    assert parameters["page_size"]["minimum"] == 1 and parameters["page_size"]["maximum"] == 100


@pytest.mark.parametrize("spell", [
    lambda n: str(n).translate(str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")),
    lambda n: str(n).translate(str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")),
    lambda n: f"{n}.0",
    float,
], ids=["full-width", "arabic-indic", "string 1.0", "number 1.0"])
def test_book_ids_are_whole_numbers_in_ascii_digits_as_on_shelves(anonymous, novels, active_version, spell):
    book = novels.books.war_and_peace.pk
    response = anonymous.post(RECOMMENDATIONS, {"books": [spell(book)], "k": 3}, format="json")
    assert response.status_code == 400
    assert "Expected a whole number" in str(response.json()["errors"]["books"])


def _answer(response) -> list[tuple[int, float, list[int]]]:
    assert response.status_code == 200, response.content
    return [(r["book"]["id"], round(r["score"], 6), r["because"]) for r in response.json()["results"]]


@pytest.mark.parametrize("collapse", [False, True])
def test_the_same_books_and_ratings_posted_get_what_the_reader_gets(reader, user, anonymous, novels, active_version,
                                                                    collapse):
    b = novels.books
    shelf = shelf_create(user=user, name="Mixed")
    shelf_add_book(shelf=shelf, book=b.war_and_peace, rating=5)
    shelf_add_book(shelf=shelf, book=b.hunger_games, rating=1)
    shelf_add_book(shelf=shelf, book=b.anna_karenina)
    mine = _answer(reader.get(MINE, {"k": 5, "collapse": collapse}))

    # For you starts from the most recently shelved book first.
    posted = _answer(anonymous.post(RECOMMENDATIONS, {
        "books": [b.anna_karenina.pk, b.hunger_games.pk, b.war_and_peace.pk],
        "ratings": {str(b.war_and_peace.pk): 5, "goodbooks:1": 1}, "k": 5, "collapse": collapse,
    }, format="json"))

    assert posted == mine and mine


def test_the_answer_is_what_its_declared_fields_make_of_it_and_reads_nothing_more(novels, active_version):
    """The answer is written out from plain values (``RecommendationsSerializer.to_representation``): byte for byte
    what the serializer's declared fields, which document it, make of the same recommendations, whatever the books'
    values (a series or none, a box set, a cover URL or none, no year, non-ASCII text), without a query (the
    selector read every field shown)."""
    b = novels.books
    series = Series.objects.create(name="Русские романы", key="русские романы")
    Book.objects.filter(pk=b.zhivago.pk).update(series=series, series_position=1, series_position_end=3,
                                                cover_url="https://covers.example/zhivago.jpg")
    Book.objects.filter(pk=b.master.pk).update(series=series, series_position=2.5, publication_year=None,
                                               cover_url="", title="Мастер и Маргарита")
    results = book_recommendations(book_ids=[b.war_and_peace.pk, b.hunger_games.pk], k=10,
                                   weights={b.hunger_games.pk: 0.25}, version=active_version)
    answer = {"results": results, "version": active_version.pk, "detail": None}
    assert {item.book.pk for item in results} >= {b.zhivago.pk, b.master.pk, b.catching_fire.pk}

    with CaptureQueriesContext(connection) as queries:
        written_out = JSONRenderer().render(RecommendationsSerializer(answer).data)
    declared = JSONRenderer().render(serializers.Serializer.to_representation(RecommendationsSerializer(), answer))
    assert written_out == declared and len(queries) == 0
    assert f'"series":{{"id":{series.pk},"name":"Русские романы"'.encode() in written_out
    assert b'"cover_url":null' in written_out and b'"publication_year":null' in written_out


def test_ratings_change_what_counts_most(anonymous, novels, active_version):
    b = novels.books
    books = [b.war_and_peace.pk, b.hunger_games.pk]
    russian = _answer(anonymous.post(RECOMMENDATIONS, {
        "books": books, "ratings": {str(b.war_and_peace.pk): 5, "goodbooks:1": 1}, "k": 1}, format="json"))
    dystopian = _answer(anonymous.post(RECOMMENDATIONS, {
        "books": books, "ratings": {str(b.war_and_peace.pk): 1, "goodbooks:1": 5}, "k": 1}, format="json"))

    assert russian[0][0] != dystopian[0][0]
    assert russian[0][2][0] == b.war_and_peace.pk
    assert dystopian[0][2][0] == b.hunger_games.pk


@pytest.mark.parametrize("ratings, message", [
    ({"goodbooks:2": 4}, "not given: goodbooks:2"),
    ({"999999": 4}, "not given: 999999"),
    ({"goodbooks:1": 0}, "greater than or equal to 1"),
    ({"goodbooks:1": 6}, "less than or equal to 5"),
])
def test_ratings_of_books_not_given_or_out_of_range_are_400(anonymous, novels, active_version, ratings, message):
    response = anonymous.post(RECOMMENDATIONS, {"books": [novels.books.hunger_games.pk], "ratings": ratings},
                              format="json")
    assert response.status_code == 400
    assert message in str(response.json())
