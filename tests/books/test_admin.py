"""The catalogue admin pages open for staff, without one query per row; so does the API token admin."""
import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from books.models import Book, BookLink, Link, Shelf, ShelfEntry
from books.services import shelves_ensure_standard

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(username="admin", password="a-long-passphrase")
    client.force_login(admin)
    return client


@pytest.fixture
def crowded_catalogue(django_user_model):
    links = Link.objects.bulk_create(
        [Link(name=f"link {n}", display_name=f"Link {n}", kind=Link.Kind.WIKILINK) for n in range(30)])
    books = Book.objects.bulk_create(
        [Book(external_id=f"goodbooks:{n}", source="goodbooks", title=f"Book {n}") for n in range(30)])
    BookLink.objects.bulk_create([BookLink(book=books[0], link=link, count=2) for link in links])
    for n in range(10):
        reader = django_user_model.objects.create_user(username=f"reader-{n}")
        shelf = shelves_ensure_standard(user=reader)[0]
        ShelfEntry.objects.bulk_create([ShelfEntry(shelf=shelf, book=book, added_at="2026-01-01T00:00Z")
                                        for book in books[:25]])
    return books


@pytest.mark.parametrize("model", ["book", "link", "shelf"])
def test_changelists_open_with_a_bounded_number_of_queries(admin_client, crowded_catalogue, model,
                                                           django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse(f"admin:books_{model}_changelist"), {"q": ""})
    assert response.status_code == 200


def test_a_book_page_lists_its_links_read_only(admin_client, crowded_catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = admin_client.get(reverse("admin:books_book_change", args=[crowded_catalogue[0].pk]))
    assert response.status_code == 200
    assert "Link 29" in response.content.decode()
    assert "Book 0 → Link 29 (2)" in response.content.decode() and "BookLink object" not in response.content.decode()


def test_a_shelf_page_lists_its_entries(admin_client, crowded_catalogue, django_assert_max_num_queries):
    shelf = Shelf.objects.filter(entries__isnull=False).first()
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("admin:books_shelf_change", args=[shelf.pk]))
    assert response.status_code == 200
    assert "Book 24" in response.content.decode()


def test_the_token_add_page_asks_for_the_readers_id_instead_of_listing_every_reader(admin_client, django_user_model):
    django_user_model.objects.bulk_create([django_user_model(username=f"reader-{n}") for n in range(50)])
    reader = django_user_model.objects.get(username="reader-7")

    page = admin_client.get(reverse("admin:authtoken_tokenproxy_add"))
    response = admin_client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": reader.pk})

    assert page.status_code == 200
    assert 'class="vForeignKeyRawIdAdminField"' in page.content.decode()
    assert "reader-7" not in page.content.decode()
    assert response.status_code == 302 and Token.objects.filter(user=reader).exists()


def test_shelves_are_called_shelves(admin_client, crowded_catalogue):
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert ">Shelves</a>" in index and "Shelfs" not in index
    changelist = admin_client.get(reverse("admin:books_shelf_changelist")).content.decode()
    assert "shelves" in changelist.lower() and "shelfs" not in changelist.lower()


def test_a_book_edited_in_the_admin_is_found_by_its_new_title_and_author(crowded_catalogue):
    from django.contrib import admin

    from books.admin import BookAdmin
    from books.selectors import book_search

    book = crowded_catalogue[0]
    book.title, book.author = "Crime and Punishment", "Fyodor Dostoïevski"
    BookAdmin(Book, admin.site).save_model(request=None, obj=book, form=None, change=True)

    assert list(book_search(query="dostoievski punishment")) == [book]


def test_staff_edit_shelves_under_the_sites_rules_and_never_delete_a_standard_one(admin_client, django_user_model):
    from books.services import shelf_create

    reader = django_user_model.objects.create_user(username="reader")
    standard = shelves_ensure_standard(user=reader)[0]
    russians = shelf_create(user=reader, name="Russians")
    shelf_create(user=reader, name="Classics")
    change = reverse("admin:books_shelf_change", args=[russians.pk])

    page = admin_client.post(change, {"name": "classics", "is_public": "on", **EMPTY_ENTRIES})
    assert page.status_code == 200 and "already" in str(page.context["adminform"].form.errors["name"])
    page = admin_client.post(change, {"name": "Russian novels", "is_public": "on", **EMPTY_ENTRIES})
    assert page.status_code == 302
    russians.refresh_from_db()
    assert russians.name == "Russian novels" and russians.is_public

    standard_page = admin_client.get(reverse("admin:books_shelf_change", args=[standard.pk])).content.decode()
    assert 'name="name"' not in standard_page  # read-only
    assert admin_client.post(reverse("admin:books_shelf_delete", args=[standard.pk]), {"post": "yes"}).status_code == 403
    assert admin_client.post(reverse("admin:books_shelf_delete", args=[russians.pk]), {"post": "yes"}).status_code == 302
    assert set(Shelf.objects.filter(user=reader).values_list("name", flat=True)) == {
        "Want to read", "Reading", "Read", "Favourites", "Classics"}


EMPTY_ENTRIES = {"entries-TOTAL_FORMS": "0", "entries-INITIAL_FORMS": "0", "entries-MIN_NUM_FORMS": "0",
                 "entries-MAX_NUM_FORMS": "1000"}


@pytest.mark.parametrize("query", [{"q": "war\x00"}, {"source__exact": "\x00"}, {"o\x00": "1"}])
def test_a_nul_character_in_a_changelist_query_is_a_400_naming_the_parameter(admin_client, crowded_catalogue, query):
    response = admin_client.get(reverse("admin:books_book_changelist"), query)
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()
    assert admin_client.get(reverse("admin:books_book_changelist"), {"q": "war"}).status_code == 200


def test_saving_a_link_in_the_admin_keeps_the_book_count_the_database_keeps(admin_client, crowded_catalogue):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    link = Link.objects.get(name="link 0")
    read_with_the_form = Link.objects.get(pk=link.pk)  # book_count 1
    BookLink.objects.create(book=crowded_catalogue[1], link=link)  # meanwhile another book gets the link: 2
    read_with_the_form.display_name = "Link zero"
    link_admin = django_admin.site._registry[Link]
    link_admin.save_model(RequestFactory().post("/"), read_with_the_form, form=None, change=True)

    link.refresh_from_db()
    assert (link.display_name, link.book_count) == ("Link zero", 2)


def test_books_come_from_the_imports_not_from_an_empty_admin_form(admin_client, crowded_catalogue):
    """A book added in the admin had no source or external id: the second one was a 500 (duplicate key)."""
    assert admin_client.get(reverse("admin:books_book_add")).status_code == 403
    assert admin_client.post(reverse("admin:books_book_add"), {"title": "Admin Book"}).status_code == 403
    changelist = admin_client.get(reverse("admin:books_book_changelist")).content.decode()
    assert reverse("admin:books_book_add") not in changelist
    assert not Book.objects.filter(external_id="").exists()
