"""The site's pages, through Django's test client on the real database: content, forms, privacy, query counts."""
import gzip
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from books.models import Book, BookMerge, Shelf, ShelfEntry
from books.services import shelf_add_book, shelf_create, shelves_ensure_standard
from recommender.models import DismissedBook, TrainingRun
from tests.factories import make_book
from tests.support import BOOKS_PER_GENRE

pytestmark = pytest.mark.django_db


def shelf_of(user, kind):
    shelves_ensure_standard(user=user)
    return Shelf.objects.get(user=user, kind=kind)


# --- Catalogue pages ---------------------------------------------------------------------------------


def test_home_shows_popular_books_and_the_embeddings_state(client, embeddings, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):  # the map teaser: its cache key reads the reviews, its build the predictions, merges
        page = client.get(reverse("home"))
    html = page.content.decode()
    assert "War and Peace" in html, "the most popular book is on the home page"
    assert f"<dd>{embeddings.pk}</dd>" in html and "Explore the map of 41 books" in html
    assert html.count("<circle") == 41, "the map teaser draws the version's books"


def test_home_without_embeddings_says_so(client, genre_catalogue):
    html = client.get(reverse("home")).content.decode()
    assert "No embeddings are trained yet" in html
    assert "The map appears once the first embeddings are trained" in html


@pytest.mark.parametrize("query", ["war and peace", "WAR AND PÉACE", "war and paece", "tolstoi"])
def test_search_forgives_case_accents_and_typos(client, genre_catalogue, query):
    html = client.get(reverse("search"), {"q": query}).content.decode()
    assert f'href="{reverse("book", args=[genre_catalogue["war_and_peace"].pk])}"' in html


def test_search_says_when_it_corrected_the_query(client, genre_catalogue):
    html = client.get(reverse("search"), {"q": "war and paece"}).content.decode()
    assert "showing results for <strong>“war and peace”</strong>" in html


def test_search_does_not_announce_a_correction_that_finds_nothing(client, genre_catalogue):
    html = client.get(reverse("search"), {"q": "<script>peace</script> zzzqqxx"}).content.decode()
    assert "showing results for" not in html and "0 books" in html


def test_search_filters_and_paginates_in_few_queries(client, genre_catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        page = client.get(reverse("search"), {"q": "book", "genre": "Fantasy", "country": "United Kingdom"})
    html = page.content.decode()
    assert f"{BOOKS_PER_GENRE} books with these filters" in html
    assert "Crime book" not in html
    first = client.get(reverse("search")).content.decode()
    assert "Page 1 of 2" in first and "41 books" in first
    second = client.get(reverse("search"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_search_reads_other_names_of_a_country_as_the_catalogues(client, genre_catalogue):
    page = client.get(reverse("search"), {"country": "USA"})
    assert page.context["page_obj"].paginator.count == BOOKS_PER_GENRE
    assert {book.country for book in page.context["page_obj"]} == {"United States"}


def test_search_with_a_nul_byte_finds_nothing_wrong(client, genre_catalogue):
    page = client.get(reverse("search"), {"q": "war\x00", "genre": "\x00", "country": "\x00"})
    assert page.status_code == 200 and page.context["query"] == ""


def test_search_with_no_result_explains_what_to_do(client, genre_catalogue):
    html = client.get(reverse("search"), {"q": "qqqzzzxxx"}).content.decode()
    assert "No books found" in html


def test_book_page_shows_metadata_links_and_similar_books(client, embeddings, genre_catalogue,
                                                          django_assert_max_num_queries):
    book = genre_catalogue["war_and_peace"]
    with django_assert_max_num_queries(11):  # 10, and the book's predictions
        page = client.get(reverse("book", args=[book.pk]))
    html = page.content.decode()
    assert "The Russian Messenger" in html and "1225" in html and "1869" in html
    link = genre_catalogue["links"]["Historical novel"][0]
    assert f'href="{reverse("link", args=[link.pk])}"' in html
    similar = page.context["similar_books"]
    assert len(similar) == 12 and all(item.book.genre == "Historical novel" for item in similar[:10]), \
        "its nearest books are the other historical novels"
    assert "alike" in html and "Historical novel book" in html
    assert "The Wikipedia pages its article links to: what its embedding was learned from." in html
    assert "Log in to shelve this book" in html


def test_book_page_without_vector_says_so_plainly(client, embeddings):
    book = make_book("A Book Added Later", "New Author")
    html = client.get(reverse("book", args=[book.pk])).content.decode()
    assert "This book has no vector yet" in html


def test_book_page_before_any_training(client, genre_catalogue):
    html = client.get(reverse("book", args=[genre_catalogue["war_and_peace"].pk])).content.decode()
    assert "No embeddings are trained yet" in html
    assert "what its embedding was learned from" not in html


def test_search_with_an_invalid_field_shows_the_error_and_finds_nothing(client, genre_catalogue):
    page = client.get(reverse("search"), {"q": "war", "source": "bogus"})
    assert page.context["page_obj"].paginator.count == 0
    assert "Source: Select a valid choice." in page.content.decode()


def test_an_accented_author_letter_is_the_letter_authors_are_filed_under(client, genre_catalogue):
    assert client.get(reverse("author_index"), {"letter": "é"}).context["initial"] == "E"
    assert client.get(reverse("author_index"), {"letter": "ł"}).context["initial"] == "L"


def test_unknown_book_is_a_styled_404(client, genre_catalogue):
    page = client.get(reverse("book", args=[999999]))
    assert page.status_code == 404
    assert "This page is not on any shelf" in page.content.decode()


def test_link_page_lists_its_books_and_nearest_links(client, embeddings, genre_catalogue, django_assert_max_num_queries):
    dragons, magic, quests = genre_catalogue["links"]["Fantasy"]
    with django_assert_max_num_queries(8):
        page = client.get(reverse("link", args=[dragons.pk]))
    html = page.content.decode()
    assert f"{BOOKS_PER_GENRE} books link to it" in html
    nearest = [item.link for item in page.context["nearest_links"]]
    assert set(nearest[:2]) == {magic, quests}, "the links of the same books are nearest"


def test_browse_by_genre_country_and_author(client, genre_catalogue, django_assert_max_num_queries):
    genres = client.get(reverse("genre_index")).content.decode()
    assert f'href="{reverse("genre", args=["Historical novel"])}"' in genres
    with django_assert_max_num_queries(4):
        fantasy = client.get(reverse("genre", args=["Fantasy"]))
    assert fantasy.context["page_obj"].paginator.count == BOOKS_PER_GENRE
    assert client.get(reverse("country", args=["Russia"])).context["page_obj"].paginator.count == 11
    authors = client.get(reverse("author_index"), {"letter": "L"}).content.decode()
    assert "Leo Tolstoy" in authors and "Author A" not in authors
    assert client.get(reverse("author", args=["Leo Tolstoy"])).context["page_obj"].paginator.count == 1
    assert client.get(reverse("genre", args=["No such genre"])).status_code == 404


def test_browsing_a_country_by_another_name_shows_the_catalogues_country(client, genre_catalogue):
    page = client.get(reverse("country", args=["USA"]))
    assert page.context["page_obj"].paginator.count == BOOKS_PER_GENRE
    assert page.context["name"] == "United States"


@pytest.mark.parametrize("url", ["/browse/genres/%00/", "/browse/countries/%00/", "/browse/authors/Leo%00Tolstoy/"])
def test_a_browse_name_with_a_nul_byte_is_a_404(client, genre_catalogue, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/browse/genres/%20/", "/browse/countries/%20%20/", "/browse/authors/%09/"])
def test_a_blank_browse_name_is_a_404_not_the_books_without_one(client, genre_catalogue, url):
    make_book("Untitled Notes", "")  # no genre, country nor author
    assert client.get(url).status_code == 404


# --- Accounts ----------------------------------------------------------------------------------------


def test_sign_up_creates_the_reader_with_standard_shelves_and_logs_in(client, django_user_model):
    page = client.post(reverse("sign_up"), {"username": "newreader", "email": "",
                                            "password1": "a-long-passphrase", "password2": "a-long-passphrase"})
    assert page.status_code == 302
    user = django_user_model.objects.get(username="newreader")
    assert sorted(Shelf.objects.filter(user=user).values_list("kind", flat=True)) == sorted(Shelf.STANDARD_KINDS)
    assert client.get(reverse("shelf_index")).context["user"] == user


def test_sign_up_shows_validation_messages(client, user):
    page = client.post(reverse("sign_up"), {"username": "reader", "password1": "short", "password2": "other"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "A user with that username already exists." in html
    assert "The two password fields didn’t match." in html


def test_sign_up_refuses_the_names_of_imported_goodbooks_readers(client, django_user_model):
    page = client.post(reverse("sign_up"), {"username": "GoodBooks-42", "password1": "a-long-passphrase",
                                            "password2": "a-long-passphrase"})
    assert page.status_code == 200
    assert page.context["form"].errors["username"] == [
        "Names starting with “goodbooks-” are kept for imported goodbooks readers."
    ]
    assert not django_user_model.objects.exists()


def test_sign_up_answers_the_same_whether_or_not_the_email_is_registered(client, django_user_model, mailoutbox):
    """A refusal would tell anyone who is registered: both sign-ups succeed alike, each address gets one mail, and
    the address stays with the account that had it."""
    django_user_model.objects.create_user(username="first", email="Reader@Example.com", password="a-long-passphrase")
    answers = {}
    for username, email in (("second", "reader@example.COM"), ("third", "new-reader@example.com")):
        page = Client().post(reverse("sign_up"), {"username": username, "email": email,
                                                  "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
                             follow=True)
        answers[username] = (page.status_code, [str(m).replace(username, "NAME").replace(email, "EMAIL")
                                                for m in page.context["messages"]])
    assert answers["second"] == answers["third"]
    assert answers["second"][1] == ["Welcome, NAME! Your four standard shelves are ready. We sent a mail to EMAIL."]
    assert django_user_model.objects.get(username="second").email == ""
    assert django_user_model.objects.get(username="third").email == "new-reader@example.com"
    assert django_user_model.objects.filter(email__iexact="reader@example.com").count() == 1
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["reader@example.COM"], "Someone signed up to Bookvec with your email"),
        (["new-reader@example.com"], "Welcome to Bookvec"),
    ]
    assert "already uses it, so it was not added" in mailoutbox[0].body


def test_sign_up_without_an_email_is_allowed_for_every_reader(client, django_user_model):
    django_user_model.objects.create_user(username="first", email="", password="a-long-passphrase")
    page = client.post(reverse("sign_up"), {"username": "second", "email": "",
                                            "password1": "a-long-passphrase", "password2": "a-long-passphrase"})
    assert page.status_code == 302
    assert django_user_model.objects.get(username="second").email == ""


def test_forms_are_csrf_protected(genre_catalogue, user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.post(reverse("shelf_index"), {"name": "Sneaky"})
    assert page.status_code == 403
    assert not Shelf.objects.filter(name="Sneaky").exists()


def test_log_in_and_password_change_pages(client, user):
    assert client.post(reverse("login"), {"username": "reader", "password": "a-long-passphrase"}).status_code == 302
    page = client.post(reverse("password_change"), {"old_password": "a-long-passphrase",
                                                    "new_password1": "another-long-passphrase",
                                                    "new_password2": "another-long-passphrase"})
    assert page.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")


def test_log_in_with_a_wrong_password_says_so(client, user):
    html = client.post(reverse("login"), {"username": "reader", "password": "wrong"}).content.decode()
    assert "Please enter a correct username and password" in html


# --- Shelves -----------------------------------------------------------------------------------------


def test_add_a_book_to_a_shelf_from_its_page(client, user, genre_catalogue):
    client.force_login(user)
    book = genre_catalogue["war_and_peace"]
    reading = shelf_of(user, Shelf.Kind.READING)
    added = client.post(reverse("book_shelve", args=[book.pk]), {"shelf": reading.pk}, follow=True)
    assert ShelfEntry.objects.filter(shelf=reading, book=book).exists()
    html = added.content.decode()
    assert "On your shelves:" in html and "Remove from Reading" in html
    assert "&quot;War and Peace&quot; is on your shelf &quot;Reading&quot;." in html
    again = client.post(reverse("book_shelve", args=[book.pk]), {"shelf": reading.pk}, follow=True)
    assert "&quot;War and Peace&quot; was already on your shelf &quot;Reading&quot;." in again.content.decode()
    assert ShelfEntry.objects.filter(shelf=reading, book=book).count() == 1


def test_removing_a_book_that_is_not_on_the_shelf_says_so(client, user, genre_catalogue):
    client.force_login(user)
    book, reading = genre_catalogue["war_and_peace"], shelf_of(user, Shelf.Kind.READING)
    page = client.post(reverse("shelf_book_remove", args=[reading.pk, book.pk]), follow=True).content.decode()
    assert "&quot;War and Peace&quot; was not on the shelf &quot;Reading&quot;." in page
    assert "is off the shelf" not in page


def test_a_book_cannot_go_on_someone_elses_shelf(client, user, other_user, genre_catalogue):
    client.force_login(user)
    theirs = shelf_of(other_user, Shelf.Kind.READ)
    client.post(reverse("book_shelve", args=[genre_catalogue["war_and_peace"].pk]), {"shelf": theirs.pk})
    assert not ShelfEntry.objects.filter(shelf=theirs).exists()


def test_custom_shelves_are_created_renamed_made_public_and_deleted(client, user):
    client.force_login(user)
    client.post(reverse("shelf_index"), {"name": "Summer reading"})
    shelf = Shelf.objects.get(user=user, name="Summer reading")
    assert not shelf.is_public
    client.post(reverse("shelf_edit", args=[shelf.pk]), {"name": "Beach books", "is_public": "on"})
    shelf.refresh_from_db()
    assert (shelf.name, shelf.is_public) == ("Beach books", True)
    html = client.get(reverse("shelf", args=[shelf.pk])).content.decode()
    assert "Anyone with this link can see this shelf" in html and f"/shelves/{shelf.pk}/" in html
    client.post(reverse("shelf_delete", args=[shelf.pk]))
    assert not Shelf.objects.filter(pk=shelf.pk).exists()


def test_a_duplicate_shelf_name_is_a_form_error(client, user):
    client.force_login(user)
    shelf_create(user=user, name="Poetry")
    html = client.post(reverse("shelf_index"), {"name": "Poetry"}).content.decode()
    assert "You already have a shelf named" in html


def test_shelf_names_differing_only_in_case_are_form_errors(client, user):
    client.force_login(user)
    shelf_create(user=user, name="Summer reads")
    html = client.post(reverse("shelf_index"), {"name": "want to read"}).content.decode()
    assert "You already have a shelf named &quot;Want to read&quot;." in html
    html = client.post(reverse("shelf_index"), {"name": "summer READS"}).content.decode()
    assert "You already have a shelf named &quot;Summer reads&quot;." in html
    autumn = shelf_create(user=user, name="Autumn")
    page = client.post(reverse("shelf_edit", args=[autumn.pk]), {"name": "SUMMER READS"}, follow=True)
    assert 'You already have a shelf named "Summer reads".' in [str(m) for m in page.context["messages"]]
    autumn.refresh_from_db()
    assert autumn.name == "Autumn"
    assert Shelf.objects.filter(user=user, name__iexact="summer reads").count() == 1


def test_standard_shelves_cannot_be_deleted(client, user):
    client.force_login(user)
    read = shelf_of(user, Shelf.Kind.READ)
    client.post(reverse("shelf_delete", args=[read.pk]))
    assert Shelf.objects.filter(pk=read.pk).exists()


def test_move_and_rate_books_on_a_shelf(client, user, genre_catalogue, django_assert_max_num_queries):
    client.force_login(user)
    book = genre_catalogue["war_and_peace"]
    reading, read = shelf_of(user, Shelf.Kind.READING), shelf_of(user, Shelf.Kind.READ)
    shelf_add_book(shelf=reading, book=book)
    client.post(reverse("shelf_book_move", args=[reading.pk, book.pk]), {"shelf": read.pk})
    assert list(read.entries.values_list("book_id", flat=True)) == [book.pk] and not reading.entries.exists()
    client.post(reverse("shelf_entry_rate", args=[read.pk, book.pk]), {"rating": "4"})
    assert read.entries.get().rating == 4
    for other in genre_catalogue["books"][:20]:
        shelf_add_book(shelf=read, book=other)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("shelf", args=[read.pk]))
    assert len(page.context["page_obj"]) == 21


# --- Privacy -----------------------------------------------------------------------------------------


def test_a_private_shelf_is_invisible_to_others(client, user, other_user, genre_catalogue):
    secret = shelf_create(user=other_user, name="Secret")
    shelf_add_book(shelf=secret, book=genre_catalogue["war_and_peace"])
    assert client.get(reverse("shelf", args=[secret.pk])).status_code == 404, "not to anonymous visitors"
    client.force_login(user)
    assert client.get(reverse("shelf", args=[secret.pk])).status_code == 404, "not to other readers"
    for url in (reverse("shelf_index"), reverse("book", args=[genre_catalogue["war_and_peace"].pk]), reverse("for_you"),
                reverse("map")):
        assert "Secret" not in client.get(url).content.decode(), url
    client.post(reverse("shelf_edit", args=[secret.pk]), {"name": "Mine now", "is_public": "on"})
    client.post(reverse("shelf_delete", args=[secret.pk]))
    secret.refresh_from_db()
    assert (secret.name, secret.is_public) == ("Secret", False), "others cannot edit or delete it"


def test_a_public_shelf_has_a_shareable_read_only_page(client, other_user, genre_catalogue):
    shared = shelf_create(user=other_user, name="Favourite Russians", is_public=True)
    shelf_add_book(shelf=shared, book=genre_catalogue["war_and_peace"], rating=5)
    html = client.get(reverse("shelf", args=[shared.pk])).content.decode()
    assert "War and Peace" in html and "other-reader’s shelf" in html
    assert "Shelf settings" not in html and "Remove" not in html


def test_the_map_only_knows_the_viewers_own_shelf(client, user, other_user, embeddings, genre_catalogue):
    mine, theirs = genre_catalogue["books"][0], genre_catalogue["books"][1]
    shelf_add_book(shelf=shelf_of(user, Shelf.Kind.READ), book=mine)
    shelf_add_book(shelf=shelf_of(other_user, Shelf.Kind.READ), book=theirs)
    client.force_login(user)
    assert client.get(reverse("map")).context["shelved_ids"] == [mine.pk]


# --- For you -----------------------------------------------------------------------------------------


def test_for_you_explains_each_recommendation(client, user, embeddings, genre_catalogue, django_assert_max_num_queries):
    client.force_login(user)
    fantasy = [b for b in genre_catalogue["books"] if b.genre == "Fantasy"]
    for book in fantasy[:3]:
        shelf_add_book(shelf=shelf_of(user, Shelf.Kind.FAVOURITES), book=book)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("for_you"))
    recommendations = page.context["recommendations"]
    assert recommendations and all(item.book.genre == "Fantasy" for item in recommendations[:7])
    assert not {item.book.pk for item in recommendations} & {b.pk for b in fantasy[:3]}, "never a shelved book"
    html = page.content.decode()
    assert "Because you shelved" in html and fantasy[0].title in html


def test_not_interested_is_remembered(client, user, embeddings, genre_catalogue):
    client.force_login(user)
    shelf_add_book(shelf=shelf_of(user, Shelf.Kind.READ), book=genre_catalogue["books"][0])
    first = client.get(reverse("for_you")).context["recommendations"][0].book
    client.post(reverse("book_not_interested", args=[first.pk]))
    assert DismissedBook.objects.filter(user=user, book=first).exists()
    shown = [item.book for item in client.get(reverse("for_you")).context["recommendations"]]
    assert first not in shown


def test_for_you_with_empty_shelves_nudges_and_shows_popular_books(client, user, embeddings):
    client.force_login(user)
    page = client.get(reverse("for_you"))
    html = page.content.decode()
    assert page.status_code == 200 and "Your shelves are empty" in html
    assert "War and Peace" in html, "popular books to start from"


def test_for_you_for_anonymous_visitors_invites_to_sign_up(client, genre_catalogue):
    html = client.get(reverse("for_you")).content.decode()
    assert "Tell us what you read" in html and reverse("sign_up") in html


def test_refresh_steps_through_other_recommendations(client, user, embeddings, genre_catalogue):
    client.force_login(user)
    for book in genre_catalogue["books"][:2] + genre_catalogue["books"][10:12] + genre_catalogue["books"][20:22]:
        shelf_add_book(shelf=shelf_of(user, Shelf.Kind.READ), book=book)
    first = client.get(reverse("for_you"))
    assert first.context["next_batch"] == 1
    second = client.get(reverse("for_you"), {"batch": 1})
    assert {i.book.pk for i in first.context["recommendations"]}.isdisjoint(
        {i.book.pk for i in second.context["recommendations"]})


# --- Map and projector ---------------------------------------------------------------------------------


def test_map_points_are_every_placed_book_with_legends(client, embeddings, genre_catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):  # 7, the reviews in the ETag's and the cache's key, the predicted genres, the merges
        data = client.get(reverse("map_points")).json()
    assert len(data["ids"]) == len(data["x"]) == len(data["titles"]) == 41
    assert all(-1 <= value <= 1 for value in data["x"] + data["y"])
    war = data["ids"].index(genre_catalogue["war_and_peace"].pk)
    assert data["genre_names"][data["genre"][war]] == "Historical novel"
    assert data["country_names"][data["country"][war]] == "Russia"


def test_map_points_say_which_sources_describe_each_book(client, embeddings, genre_catalogue):
    wikipedia, goodbooks, merged, undone, own, own_merged = genre_catalogue["books"][:6]
    Book.objects.filter(pk=goodbooks.pk).update(source="goodbooks", external_id="goodbooks:2")
    Book.objects.filter(pk=own.pk).update(source="openlibrary", external_id="openlibrary:OL1W")
    for book, source, undone_at in ((merged, "goodbooks", None), (undone, "goodbooks", timezone.now()),
                                    (own_merged, "openlibrary", None)):
        BookMerge.objects.create(book=book, source=source, external_id=f"{source}:{book.pk}", undone_at=undone_at,
                                 method=BookMerge.Method.TITLE_AUTHOR, reason="same title and author")

    data = client.get(reverse("map_points")).json()
    shown = {book_id: data["source_names"][index] for book_id, index in zip(data["ids"], data["source"], strict=True)}
    assert [shown[book.pk] for book in (wikipedia, goodbooks, merged, undone, own, own_merged)] == [
        "Wikipedia", "goodbooks-10k", "Wikipedia and goodbooks-10k", "Wikipedia", "Own catalogue import",
        "Own catalogue import and others"], "an undone merge no longer counts"
    assert len(data["source"]) == len(data["ids"]) == 41


def test_map_points_go_compressed_as_cached_to_a_client_that_accepts_gzip(client, embeddings):
    plain = client.get(reverse("map_points"))
    compressed = client.get(reverse("map_points"), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert (compressed["Content-Encoding"], plain.get("Content-Encoding")) == ("gzip", None)
    assert "Accept-Encoding" in compressed["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert json.loads(gzip.decompress(compressed.content)) == plain.json() and len(plain.json()["ids"]) == 41
    assert compressed["ETag"] == plain["ETag"] and compressed["ETag"].startswith('W/"'), "one weak ETag for both"


def test_map_points_revalidate_with_an_etag(client, embeddings):
    first = client.get(reverse("map_points"))
    again = client.get(reverse("map_points"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_map_shows_a_book_edited_or_re_imported_since_it_was_drawn(client, embeddings, genre_catalogue):
    first = client.get(reverse("map_points"))
    book = genre_catalogue["war_and_peace"]
    book.title = "War and Peace (Maude translation)"
    book.save()  # as the admin or a re-import does: updated_at moves on

    after = client.get(reverse("map_points"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after["ETag"] != first["ETag"]
    data = after.json()
    assert data["titles"][data["ids"].index(book.pk)] == "War and Peace (Maude translation)"


def test_map_neighbours_of_a_book(client, embeddings, genre_catalogue):
    data = client.get(reverse("map_neighbours", args=[genre_catalogue["war_and_peace"].pk])).json()
    assert len(data["neighbours"]) == 10
    assert all("Historical novel" in n["title"] for n in data["neighbours"])


def test_map_neighbours_of_an_unknown_book_is_a_json_404(client, embeddings):
    response = client.get(reverse("map_neighbours", args=[999999]))
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "No book with id 999999."}


def test_map_before_any_training(client, genre_catalogue):
    assert "The map appears once the first embeddings are trained" in client.get(reverse("map")).content.decode()
    response = client.get(reverse("map_points"))
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "No embedding version is active yet."}


def test_projector_files_have_one_row_per_book_in_the_same_order(client, embeddings, genre_catalogue):
    vectors = b"".join(client.get(reverse("projector_vectors")).streaming_content).decode().splitlines()
    metadata = b"".join(client.get(reverse("projector_metadata")).streaming_content).decode().splitlines()
    assert len(vectors) == 41 and len(metadata) == 42, "metadata has a header line"
    assert all(len(line.split("\t")) == 8 for line in vectors)
    assert metadata[0].split("\t") == ["title", "author", "genre", "country", "source", "id"]
    ids = [int(line.split("\t")[-1]) for line in metadata[1:]]
    assert ids == sorted(b.pk for b in genre_catalogue["books"])


# --- Staff -------------------------------------------------------------------------------------------


def test_training_status_is_for_staff_only(client, user):
    client.force_login(user)
    assert client.get(reverse("training_status")).status_code == 302


def test_training_status_shows_versions_runs_and_the_loss_curve(client, staff_user, embeddings,
                                                                django_assert_max_num_queries):
    run = TrainingRun.objects.create(trigger="admin", status="failed", epochs=3, epoch=3,
                                     loss_history=[0.69, 0.41, 0.30], error="Out of patience")
    client.force_login(staff_user)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("training_status"))
    html = page.content.decode()
    assert "Held-out link AUC" in html and "0.910" in html and "heldout_auc" not in html
    assert "<polyline" in html and "from 0.6900 to 0.3000" in html
    assert f"Latest run ({run.pk})" in html and "Out of patience" in html


def test_retrain_now_queues_one_run_and_refuses_a_second(client, staff_user, embeddings):
    client.force_login(staff_user)
    client.post(reverse("training_retrain"))
    assert TrainingRun.objects.filter(status="queued", trigger="admin").count() == 1
    page = client.post(reverse("training_retrain"), follow=True)
    assert "is already queued" in page.content.decode()
    assert TrainingRun.objects.count() == 1


def test_search_shows_one_corrected_query_or_offers_one(client, genre_catalogue):
    html = client.get(reverse("search"), {"q": "war and epace"}).content.decode()
    assert "showing results for" not in html and "0 books" in html
    assert 'Did you mean <a href="/search/?q=war%20and%20peace">“war and peace”</a>?' in html
    html = client.get(reverse("search"), {"q": "war and paece"}).content.decode()
    assert "No book matches “war and paece”; showing results for <strong>“war and peace”</strong>." in html
