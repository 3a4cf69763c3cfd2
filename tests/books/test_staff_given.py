"""Values staff give a book — by hand in the admin, or accepting a prediction: written into the book and recorded
as staff-given with who gave them and when, a one-value field the book has meanwhile kept; written back over what an
import has just written (staff-given beats any source)."""
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from books.models import Book, StaffEdit
from books.staff_given import book_value_give, staff_given_reapply
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def test_a_given_genre_is_added_and_a_country_set_where_the_book_has_none():
    book = BookFactory(genre="Fantasy", country="")

    assert book_value_give(book_id=book.pk, field="genre", value="Horror")
    assert book_value_give(book_id=book.pk, field="country", value="France")

    book.refresh_from_db()
    assert (book.genre, book.country) == ("Horror, Fantasy", "France")  # staff-given first, as imports write it
    assert list(book.genres.values_list("name", flat=True)) == ["Horror"]  # the source's relation is the import's
    assert book.staff_given == {"genre": ["Horror"], "country": "France"}


def test_a_country_the_book_has_meanwhile_is_kept_and_nothing_recorded():
    book = BookFactory(country="Japan")

    assert not book_value_give(book_id=book.pk, field="country", value="France")

    book.refresh_from_db()
    assert (book.country, book.staff_given) == ("Japan", {})
    with pytest.raises(ValueError, match="'title' is not a field staff give"):
        book_value_give(book_id=book.pk, field="title", value="Another")


def test_after_an_import_staff_values_come_first_and_beat_the_sources():
    given = BookFactory(genre="Romance, Horror", language="English",
                        staff_given={"genre": ["Horror", "Fantasy"], "language": "French"})
    untouched = BookFactory(genre="Travel")

    with connection.cursor() as cursor:
        changed = staff_given_reapply(cursor, [given.pk, untouched.pk])

    given.refresh_from_db()
    assert changed == 1 and (given.genre, given.language) == ("Horror, Fantasy, Romance", "French")
    assert Book.objects.get(pk=untouched.pk).genre == "Travel"



def test_a_genre_staff_took_off_stays_off_and_a_cleared_country_stays_cleared():
    given = BookFactory(genre="Romance, Horror", country="France", language="French",
                        staff_given={"genre": ["Fantasy"], "genre_removed": ["Romance"], "country": ""})

    with connection.cursor() as cursor:
        staff_given_reapply(cursor, [given.pk])

    given.refresh_from_db()
    assert (given.genre, given.country, given.language) == ("Fantasy, Horror", "", "French")


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def imported(tmp_path):
    wikipedia = tmp_path / "wikipedia_books.ndjson"
    shutil.copy(FIXTURES / "wikipedia_books.ndjson", wikipedia)
    goodbooks = Path(shutil.copytree(FIXTURES / "goodbooks", tmp_path / "goodbooks"))
    import_sources(wikipedia, goodbooks)
    return wikipedia, goodbooks


def import_sources(wikipedia: Path, goodbooks: Path) -> None:
    call_command("import_wikipedia_books", str(wikipedia), verbosity=0, stdout=StringIO(), stderr=StringIO())
    call_command("import_goodbooks", str(goodbooks), verbosity=0, stdout=StringIO(), stderr=StringIO())


def edit_in_admin(client, book: Book, **changes) -> str:
    """Posts the book's admin form as the page gives it, with ``changes``; returns the page answered."""
    url = reverse("admin:books_book_change", args=[book.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    for formset in (inline.formset for inline in page.context["inline_admin_formsets"]):
        data |= {field.html_name: field.value() for field in formset.management_form}
        for row in formset.forms:
            data |= {row[name].html_name: row[name].value() or "" for name in row.fields}
    response = client.post(url, data | changes, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_values_staff_edit_by_hand_are_staff_given_with_who_and_when_and_survive_re_imports(imported, admin_client,
                                                                                             admin_user):
    master = Book.objects.get(external_id="wikipedia:The Master and Margarita")
    assert (master.genre, master.country, master.language) == ("Fantasy, Humour & satire", "Soviet Union", "")
    anna = Book.objects.get(external_id="wikipedia:Anna Karenina")

    edit_in_admin(admin_client, master, genre="horror, Fantasy", country="Russia", language="eng")
    edit_in_admin(admin_client, anna, language="")  # cleared by hand
    edit_in_admin(admin_client, anna, title="Anna Karenina (novel)")  # no genre, country or language: nothing given

    master.refresh_from_db()
    assert (master.genre, master.country, master.language) == ("Horror, Fantasy", "Russia", "English")
    assert master.staff_given == {"genre": ["Horror", "Fantasy"], "genre_removed": ["Humour & satire"],
                                  "country": "Russia", "language": "English"}
    assert set(master.genres.values_list("name", flat=True)) == {"Horror", "Fantasy"}
    edits = {(e.field, e.value, e.previous, e.how, e.given_by) for e in StaffEdit.objects.filter(book=master)}
    assert edits == {("genre", "Horror, Fantasy", "Fantasy, Humour & satire", "edited", admin_user),
                     ("country", "Russia", "Soviet Union", "edited", admin_user),
                     ("language", "English", "", "edited", admin_user)}
    assert all(e.given_at is not None for e in StaffEdit.objects.all())
    assert Book.objects.get(pk=anna.pk).staff_given == {"language": ""}
    assert StaffEdit.objects.filter(book=anna).count() == 1
    page = admin_client.get(reverse("admin:books_book_change", args=[master.pk])).content.decode()
    assert "Staff-given values" in page and "edited by hand" in page and admin_user.username in page
    listed = admin_client.get(reverse("admin:books_book_changelist"), {"staff_given": "yes"}).context["cl"].result_list
    assert {book.pk for book in listed} == {master.pk, anna.pk}

    import_sources(*imported)  # the sources still say Fantasy, Humour & satire, Soviet Union; Anna: Russian

    master.refresh_from_db()
    assert (master.genre, master.country, master.language) == ("Horror, Fantasy", "Russia", "English")
    assert set(master.genres.values_list("name", flat=True)) == {"Horror", "Fantasy"}
    assert Book.objects.get(pk=anna.pk).language == ""


def test_a_genre_not_of_the_vocabulary_is_refused_and_nothing_is_written(imported, admin_client):
    master = Book.objects.get(external_id="wikipedia:The Master and Margarita")

    page = edit_in_admin(admin_client, master, genre="Fantasy, Magic realism", country="France")

    assert "Not a genre of the catalogue: Magic realism" in page
    master.refresh_from_db()
    assert (master.genre, master.country, master.staff_given) == ("Fantasy, Humour & satire", "Soviet Union", {})
    assert not StaffEdit.objects.exists()


def test_accepting_a_prediction_records_who_gave_the_value(staff_user):
    book = BookFactory(country="")

    assert book_value_give(book_id=book.pk, field="country", value="France", by=staff_user)

    edit = StaffEdit.objects.get(book=book)
    assert (edit.field, edit.value, edit.previous, edit.how, edit.given_by) == ("country", "France", "", "accepted",
                                                                                 staff_user)
