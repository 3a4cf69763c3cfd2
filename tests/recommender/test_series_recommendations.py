"""Series in recommendations, on the bundled goodbooks books and readers with a shelf model fitted on their shelves:
For you collapses a shelved series to its next book and never offers a box set of it, the API does so on request,
and a suggestion names the shelf books that explain most of it, with their shares."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from books.api.serializers import BookSerializer
from books.models import Book
from books.services import shelf_add_book, shelves_ensure_standard
from recommender.selectors import book_recommendations, reader_recommendations
from tests.recommender.series_catalogue import by_goodbooks_id, goodbooks_with_live_version
from tests.support import client_for

pytestmark = pytest.mark.django_db

FELLOWSHIP, TWO_TOWERS, RETURN_OF_THE_KING, LOTR_BOX, HOBBIT = 19, 155, 161, 189, 7
NARNIA_1, NARNIA_BOX = 37, 219


def reader_with(*goodbooks_ids):
    reader = get_user_model().objects.create_user(username="series-reader", password="a-long-passphrase")
    shelf = shelves_ensure_standard(user=reader)[0]
    for book_id in goodbooks_ids:
        shelf_add_book(shelf=shelf, book=by_goodbooks_id(book_id))
    return reader


def test_for_you_shows_a_shelved_series_next_book_once_and_the_api_on_request(client):
    goodbooks_with_live_version()
    fellowship = by_goodbooks_id(FELLOWSHIP)
    lotr = [by_goodbooks_id(book_id) for book_id in (TWO_TOWERS, RETURN_OF_THE_KING, LOTR_BOX)]
    plain = [r.book for r in book_recommendations(book_ids=[fellowship.pk], k=12)]
    assert set(lotr) <= set(plain), "scored alone, the rest of the series and the box set lead"
    collapsed = [r.book for r in book_recommendations(book_ids=[fellowship.pk], k=12, collapse=True)]
    assert len(collapsed) == 12 and lotr[0] in collapsed and not {lotr[1], lotr[2]} & set(collapsed), \
        "The Two Towers once, not The Return of the King, not the box set"
    assert collapsed.index(lotr[0]) <= plain.index(lotr[0])

    reader = reader_with(FELLOWSHIP, NARNIA_1)
    items = reader_recommendations(user=reader, k=60, collapse=True).items
    books = [item.book for item in items]
    assert by_goodbooks_id(NARNIA_BOX) not in books and lotr[2] not in books and lotr[1] not in books
    series = [book.series_id for book in books if book.series_id]
    assert len(series) == len(set(series)), "each series once"
    for item in items:
        assert 1 <= len(item.reasons) <= 2 and all(0 < share <= 1 for _, share in item.reasons)
        assert item.reasons[0][1] >= 0.5 or len(item.reasons) == 2

    client.force_login(reader)
    html = client.get(reverse("for_you")).content.decode()
    assert "The Two Towers" in html and "The Return of the King" not in html
    assert "because you shelved" in html.lower() and "%)" in html

    answer = client_for().post("/api/v1/recommendations/", {"books": [fellowship.pk], "k": 12}, format="json").json()
    assert LOTR_BOX in {int(r["book"]["external_id"].split(":")[1]) for r in answer["results"]}, "off by default"
    answer = client_for().post("/api/v1/recommendations/", {"books": [fellowship.pk], "k": 12, "collapse": True},
                               format="json").json()
    ids = [r["book"]["id"] for r in answer["results"]]
    assert lotr[0].pk in ids and lotr[1].pk not in ids and lotr[2].pk not in ids
    two_towers = answer["results"][ids.index(lotr[0].pk)]
    assert two_towers["book"]["series"] == {"id": lotr[0].series_id, "name": "The Lord of the Rings", "position": 2.0,
                                            "position_end": None}
    assert two_towers["reasons"] == [{"book": fellowship.pk, "share": 1.0}]
    mine = client_for(reader).get("/api/v1/me/recommendations/", {"collapse": "true", "k": 30}).json()
    assert LOTR_BOX not in {int(r["book"]["external_id"].split(":")[1]) for r in mine["results"]}


def test_the_book_page_and_the_series_page_list_the_series_in_order(client):
    goodbooks_with_live_version()
    fellowship = by_goodbooks_id(FELLOWSHIP)
    html = client.get(reverse("book", args=[fellowship.pk])).content.decode()
    assert "Book 1 of 3 in" in html and "The Lord of the Rings</a>" in html
    block = html[html.index('data-testid="series"'):html.index("</nav>", html.index('data-testid="series"'))]
    order = [block.index(title) for title in ("The Fellowship of the Ring", "1–3", "The Two Towers",
                                              "The Return of the King")]
    assert order == sorted(order)
    assert f'href="{reverse("book", args=[by_goodbooks_id(TWO_TOWERS).pk])}"' in block
    box = client.get(reverse("book", args=[by_goodbooks_id(LOTR_BOX).pk])).content.decode()
    assert "Books 1–3 of 3 in" in box

    page = client.get(reverse("series", args=[fellowship.series_id]))
    assert [book.pk for book in page.context["books"]][:2] == [fellowship.pk, by_goodbooks_id(LOTR_BOX).pk]
    assert "4 books here; the series numbers 3, in order." in page.content.decode()
    record = client_for().get(f"/api/v1/books/{fellowship.pk}/").json()
    assert record["series"]["name"] == "The Lord of the Rings" and record["series"]["position"] == 1.0
    assert client.get(reverse("series", args=[999999])).status_code == 404


def test_the_api_answers_each_book_with_its_series_in_a_number_of_queries_that_does_not_grow_with_k():
    goodbooks_with_live_version()
    fellowship, narnia = by_goodbooks_id(FELLOWSHIP), by_goodbooks_id(NARNIA_1)
    body = {"books": [fellowship.pk, narnia.pk, by_goodbooks_id(HOBBIT).pk], "ratings": {str(narnia.pk): 2}}
    expected = book_recommendations(book_ids=body["books"], k=40, weights={narnia.pk: 0.25})
    assert sum(1 for item in expected if item.book.series_id) >= 3, "the planted answer shows several series"

    answer = client_for().post("/api/v1/recommendations/", {**body, "k": 40}, format="json").json()
    assert answer["results"] == [
        {"book": {**BookSerializer(Book.objects.get(pk=item.book.pk)).data, "series": _series_place(item.book.pk)},
         "score": item.score, "because": [book.pk for book in item.because],
         "reasons": [{"book": book.pk, "share": round(share, 4)} for book, share in item.reasons]}
        for item in expected]

    queries = []
    for k in (5, 40):
        with CaptureQueriesContext(connection) as captured:
            assert client_for().post("/api/v1/recommendations/", {**body, "k": k}, format="json").status_code == 200
        queries.append(len(captured))
    assert queries[0] == queries[1], "the books' series are read with the books, not one query a book"


def _series_place(book_id: int) -> dict | None:
    book = Book.objects.select_related("series").get(pk=book_id)
    return None if book.series is None else {"id": book.series.pk, "name": book.series.name,
                                             "position": book.series_position, "position_end": book.series_position_end}
