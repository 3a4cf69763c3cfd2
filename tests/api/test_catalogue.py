"""/api/v1/books/ and /api/v1/links/: lists, search, filters, details and nearest neighbours."""
import pytest

from books.models import Book

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books/"
LINKS = "/api/v1/links/"


def titles(response) -> list[str]:
    return [book["title"] for book in response.json()["results"]]


# --- Book list ---------------------------------------------------------------------------------------


def test_books_are_paginated_most_popular_first(anonymous, novels):
    response = anonymous.get(BOOKS, {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert body["previous"] is None and "page=2" in body["next"]
    assert titles(response) == ["The Hunger Games", "Catching Fire"]
    assert set(body["results"][0]) >= {"id", "external_id", "source", "title", "author", "genre", "popularity"}


def test_a_page_past_the_end_is_a_json_404(anonymous, novels):
    response = anonymous.get(BOOKS, {"page": 99})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_search_forgives_case_accents_and_prefixes(anonymous, novels):
    assert titles(anonymous.get(BOOKS, {"search": "WAR pea"})) == ["War and Peace"]
    assert titles(anonymous.get(BOOKS, {"search": "tolstóy", "ordering": "title"})) == ["Anna Karenina", "War and Peace"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"author": "leo tolstoy"}, {"War and Peace", "Anna Karenina"}),
        ({"genre": "Historical novel"}, {"War and Peace", "Doctor Zhivago"}),
        ({"genre": "Romance"}, {"Doctor Zhivago"}),
        ({"country": "soviet union"}, {"Doctor Zhivago", "The Master and Margarita"}),
        ({"country": "USA"}, {"The Hunger Games", "Catching Fire", "A New Arrival"}),
        ({"country": "U.S.A."}, {"The Hunger Games", "Catching Fire", "A New Arrival"}),
        ({"country": "USSR"}, {"Doctor Zhivago", "The Master and Margarita"}),
        ({"source": "goodbooks"}, {"The Hunger Games", "Catching Fire", "A New Arrival"}),
        ({"external_id": "goodbooks:2"}, {"Catching Fire"}),
        ({"external_id": "goodbooks:999"}, set()),
        ({"source": "wikipedia", "genre": "Historical novel", "search": "doctor"}, {"Doctor Zhivago"}),
    ],
)
def test_filters(anonymous, novels, params, expected):
    response = anonymous.get(BOOKS, params)
    assert response.status_code == 200
    assert set(titles(response)) == expected


def test_ordering(anonymous, novels):
    assert titles(anonymous.get(BOOKS, {"ordering": "title", "source": "wikipedia"})) == [
        "Anna Karenina", "Doctor Zhivago", "The Master and Margarita", "War and Peace",
    ]
    assert titles(anonymous.get(BOOKS, {"ordering": "-publication_year", "author": "Leo Tolstoy"})) == [
        "Anna Karenina", "War and Peace",
    ]


def test_text_sorts_in_a_language_neutral_order_whatever_its_case_and_accents(anonymous):
    from tests.factories import make_book

    for title, author in (("Zulu Heart", "Steven Barnes"), ("number9dream", "David Mitchell"),
                          ("Germinal", "Émile Zola"), ("apple and the Tree", "Åsne Seierstad"),
                          ("Emma", "Jane Austen"), ("Ørsted's Wager", "Łukasz Orbitowski")):
        make_book(title, author, source="goodbooks")
    assert titles(anonymous.get(BOOKS, {"ordering": "title"})) == [
        "apple and the Tree", "Emma", "Germinal", "number9dream", "Ørsted's Wager", "Zulu Heart"]
    assert titles(anonymous.get(BOOKS, {"ordering": "-title"}))[0] == "Zulu Heart"
    by_author = [book["author"] for book in anonymous.get(BOOKS, {"ordering": "author"}).json()["results"]]
    assert by_author == ["Åsne Seierstad", "David Mitchell", "Émile Zola", "Jane Austen", "Łukasz Orbitowski",
                         "Steven Barnes"]


def test_books_without_the_sort_value_come_last_either_way(anonymous, novels):
    Book.objects.filter(title="War and Peace").update(publication_year=None, author="")
    wikipedia = {"source": "wikipedia"}
    for ordering in ("publication_year", "-publication_year", "author", "-author"):
        assert titles(anonymous.get(BOOKS, {**wikipedia, "ordering": ordering}))[-1] == "War and Peace", ordering


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "secret_field"}, "ordering"), ({"source": "amazon"}, "source"), ({"search": "x" * 201}, "search"),
        ({"search": "war\x00"}, "search"), ({"country": "\x00"}, "country"), ({"genre": "\x00"}, "genre"),
        ({"author": "\x00"}, "author"), ({"external_id": "goodbooks:\x00"}, "external_id"),
        ({"auther": "Leo Tolstoy"}, "auther"), ({"page_size": "-1"}, "page_size"), ({"page_size": "abc"}, "page_size"),
        ({"page": "0"}, "page"), ({"page": "-1"}, "page"), ({"page": "abc"}, "page"), ({"page": "²"}, "page"),
        ({"page": "9" * 5000}, "page"), ({"page_size": "²"}, "page_size"), ({"page_size": "9" * 5000}, "page_size"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(anonymous, novels, params, field):
    response = anonymous.get(BOOKS, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert body["detail"].startswith("Invalid input.") and field in body["detail"]


def test_the_book_list_makes_the_same_few_queries_for_a_full_page(anonymous, novels, django_assert_max_num_queries):
    Book.objects.bulk_create(
        Book(external_id=f"goodbooks:{n}", source="goodbooks", title=f"Book {n}", popularity=n) for n in range(10, 40)
    )
    with django_assert_max_num_queries(2):  # the count and the page
        response = anonymous.get(BOOKS, {"page_size": 30})
    assert len(response.json()["results"]) == 30


# --- Book detail -------------------------------------------------------------------------------------


def test_book_detail_has_external_id_metadata_links_and_vector_status(anonymous, novels, active_version):
    book = novels.books.war_and_peace
    response = anonymous.get(f"{BOOKS}{book.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["external_id"] == "wikipedia:War and Peace"
    assert body["metadata"] == {"pages": "1,225"}
    assert [(link["name"], link["kind"], link["count"]) for link in body["links"]] == [
        ("napoleon", "wikilink", 7), ("russian literature", "category", 1),
    ]
    assert body["has_vector"] is True
    assert anonymous.get(f"{BOOKS}{novels.books.new_arrival.pk}/").json()["has_vector"] is False


def test_unknown_book_is_404(anonymous, novels):
    for url in (f"{BOOKS}999999/", f"{BOOKS}999999/similar/", f"{BOOKS}{2**70}/"):
        response = anonymous.get(url)
        assert response.status_code == 404, url
        assert "detail" in response.json()


# --- Similar books ------------------------------------------------------------------------------------


def test_similar_books_are_nearest_first_and_never_the_book_itself(anonymous, novels, active_version):
    book = novels.books.war_and_peace
    response = anonymous.get(f"{BOOKS}{book.pk}/similar/", {"k": 3})
    assert response.status_code == 200
    body = response.json()
    assert [result["book"]["title"] for result in body["results"]] == [
        "Anna Karenina", "Doctor Zhivago", "The Master and Margarita",
    ]
    similarities = [result["similarity"] for result in body["results"]]
    assert similarities == sorted(similarities, reverse=True) and similarities[0] > 0.99
    assert body["version"] == active_version.pk and body["detail"] is None


def test_similar_books_filtered_by_genre(anonymous, novels, active_version):
    response = anonymous.get(f"{BOOKS}{novels.books.war_and_peace.pk}/similar/", {"genre": "Dystopian", "k": 5})
    assert [result["book"]["title"] for result in response.json()["results"]] == ["Catching Fire", "The Hunger Games"]


@pytest.mark.parametrize("k", ["0", "101", "-1", "ten", "1.5", "99999999999999999999999"])
def test_similar_books_k_is_bounded(anonymous, novels, active_version, k):
    response = anonymous.get(f"{BOOKS}{novels.books.war_and_peace.pk}/similar/", {"k": k})
    assert response.status_code == 400
    assert "k" in response.json()["errors"]


def test_a_book_without_a_vector_has_no_similar_books_and_says_why(anonymous, novels, active_version):
    response = anonymous.get(f"{BOOKS}{novels.books.new_arrival.pk}/similar/")
    assert response.status_code == 200
    body = response.json()
    assert body["results"] == []
    assert "no vector" in body["detail"]


def test_without_an_active_version_similar_books_say_so(anonymous, novels):
    body = anonymous.get(f"{BOOKS}{novels.books.war_and_peace.pk}/similar/").json()
    assert body["results"] == [] and body["version"] is None
    assert "No embedding version is active" in body["detail"]


def test_similar_books_query_count_does_not_grow_with_k(anonymous, novels, active_version,
                                                       django_assert_max_num_queries):
    url = f"{BOOKS}{novels.books.war_and_peace.pk}/similar/"
    with django_assert_max_num_queries(8):
        assert len(anonymous.get(url, {"k": 5}).json()["results"]) == 5


# --- Links ---------------------------------------------------------------------------------------------


def test_links_list_with_book_counts_search_kind_and_ordering(anonymous, novels):
    body = anonymous.get(LINKS).json()
    assert body["count"] == 4
    assert [(link["name"], link["book_count"]) for link in body["results"]] == [
        ("dystopian", 2), ("napoleon", 1), ("russian literature", 4), ("unused", 0),
    ]
    assert [link["name"] for link in anonymous.get(LINKS, {"search": "RUSS"}).json()["results"]] == ["russian literature"]
    assert [link["name"] for link in anonymous.get(LINKS, {"kind": "tag"}).json()["results"]] == ["dystopian", "unused"]
    ordered = anonymous.get(LINKS, {"ordering": "-book_count"}).json()["results"]
    assert [link["name"] for link in ordered] == ["russian literature", "dystopian", "napoleon", "unused"]
    assert anonymous.get(LINKS, {"kind": "hyperlink"}).status_code == 400
    # An empty name in the list is ignored, not a server error.
    assert [link["name"] for link in anonymous.get(LINKS, {"ordering": ",-book_count,"}).json()["results"]] == [
        link["name"] for link in ordered]
    assert titles(anonymous.get(BOOKS, {"ordering": ","})) == titles(anonymous.get(BOOKS))


def test_the_link_list_makes_the_same_few_queries_for_a_full_page(anonymous, novels,
                                                                  django_assert_max_num_queries):
    from books.models import Link

    Link.objects.bulk_create(Link(name=f"link {n}", display_name=f"Link {n}", kind="tag") for n in range(30))
    with django_assert_max_num_queries(2):
        response = anonymous.get(LINKS, {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_link_detail_has_its_most_popular_books(anonymous, novels):
    body = anonymous.get(f"{LINKS}{novels.links.russian.pk}/").json()
    assert body["display_name"] == "Russian literature" and body["book_count"] == 4
    assert [book["title"] for book in body["top_books"]] == [
        "War and Peace", "Anna Karenina", "The Master and Margarita", "Doctor Zhivago",
    ]
    assert anonymous.get(f"{LINKS}999999/").status_code == 404


def test_similar_links(anonymous, novels, active_version):
    response = anonymous.get(f"{LINKS}{novels.links.napoleon.pk}/similar/", {"k": 1})
    assert response.status_code == 200
    assert [result["link"]["name"] for result in response.json()["results"]] == ["russian literature"]
    assert anonymous.get(f"{LINKS}{novels.links.napoleon.pk}/similar/", {"k": 500}).status_code == 400
    assert anonymous.get(f"{LINKS}999999/similar/").status_code == 404
    unused = anonymous.get(f"{LINKS}{novels.links.unused.pk}/similar/").json()
    assert unused["results"] == [] and "no vector" in unused["detail"]


@pytest.mark.parametrize("kind", ["books", "links"])
def test_similar_books_and_links_answer_detail_alike_and_document_it(anonymous, novels, active_version, kind):
    with_vector, without = ((novels.books.war_and_peace, novels.books.new_arrival) if kind == "books"
                            else (novels.links.napoleon, novels.links.unused))

    found = anonymous.get(f"/api/v1/{kind}/{with_vector.pk}/similar/").json()
    empty = anonymous.get(f"/api/v1/{kind}/{without.pk}/similar/").json()

    assert set(found) == set(empty) == {"results", "version", "detail"}
    assert found["results"] and found["detail"] is None
    assert empty["results"] == [] and "has no vector" in empty["detail"]
    component = "SimilarBooks" if kind == "books" else "SimilarLinks"
    schema = anonymous.get("/api/v1/schema/?format=json").json()["components"]["schemas"][component]
    assert schema["properties"]["detail"]["nullable"] is True and "detail" in schema["required"]
    assert "null whenever there are results" in schema["properties"]["detail"]["description"]


def test_unknown_query_parameters_are_400_naming_the_known_ones(anonymous, novels):
    book = Book.objects.get(title="War and Peace")
    listed = anonymous.get(BOOKS, {"auther": "Leo Tolstoy", "page": 1, "format": "json"})
    similar = anonymous.get(f"{BOOKS}{book.pk}/similar/", {"kk": 3})

    assert listed.status_code == similar.status_code == 400
    assert listed.json()["errors"] == {"auther": [
        "Unknown parameter. Known parameters: search, author, genre, country, source, external_id, ordering, page, "
        "page_size."]}
    assert similar.json()["errors"] == {"kk": ["Unknown parameter. Known parameters: k, genre."]}


@pytest.mark.parametrize(("who", "method", "url", "params", "known"), [
    ("staff", "get", "/api/v1/training-runs/", {"status": "failed"}, "Known parameters: page, page_size."),
    ("staff", "get", "/api/v1/embedding-versions/", {"ordering": "id"}, "Known parameters: page, page_size."),
    ("reader", "get", "/api/v1/me/shelves/", {"foo": "1"}, "there are none."),
    ("reader", "get", "/api/v1/me/recommendations/", {"kk": "3"}, "Known parameters: k, collapse."),
    ("anonymous", "get", "/api/v1/links/", {"serach": "war"}, "Known parameters: search, kind, ordering, page, "),
    ("anonymous", "post", "/api/v1/recommendations/?foo=5", {"books": [1]}, "there are none."),
])
def test_every_endpoint_refuses_query_parameters_it_does_not_know(request, novels, who, method, url, params,
                                                                   known):
    client = request.getfixturevalue(who)
    response = (client.get(url, params) if method == "get" else client.post(url, params, format="json"))
    assert response.status_code == 400, response.content
    (name, messages), = response.json()["errors"].items()
    assert name in (set(params) | {"foo"}) and known in messages[0] and messages[0].startswith("Unknown parameter")
    if method == "get":
        assert client.get(url, {"format": "json"}).status_code == 200, "DRF's ?format= is always known"


def test_the_health_check_answers_whatever_query_string_a_monitor_adds(anonymous, novels):
    response = anonymous.get("/api/v1/health/", {"_": "1733170000", "verbose": "1"})
    assert response.status_code in (200, 503) and response.json()["database"]["status"] == "ok"


def test_unknown_query_parameters_are_checked_after_signing_in(anonymous):
    assert anonymous.get("/api/v1/me/shelves/", {"foo": "1"}).status_code == 401


def test_an_unknown_format_is_a_404_naming_the_formats_there_are(anonymous, novels):
    response = anonymous.get("/api/v1/books/", {"format": "xml"})
    assert response.status_code == 404
    assert response.json()["detail"] == "No format 'xml' here: ?format= takes api, json."
    assert anonymous.get("/api/v1/books/", {"format": "json"}).status_code == 200
