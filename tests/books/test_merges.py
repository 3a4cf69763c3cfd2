"""Staff correct merges in the admin: undo a wrong one (the merged book is made again, with its identifiers, links,
people, shelf entries and staff-given values), or merge two books by hand (the merged book's staff-given values go to
the kept one); both are logged."""
import json
import shutil
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command

from books.models import Book, BookIdentifier, BookLink, BookMerge, Contribution, Shelf, ShelfEntry, StaffEdit
from books.staff_given import book_value_give, book_values_edited

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def merged(tmp_path):
    folder = Path(shutil.copytree(FIXTURES / "goodbooks", tmp_path / "goodbooks"))
    call_command("import_goodbooks", str(folder), verbosity=0, stdout=StringIO(), stderr=StringIO())
    path = tmp_path / "a.ndjson"
    path.write_text(json.dumps(["The Hunger Games (novel)", {"author": "Suzanne Collins"}, ["Panem"], [],
                                "2018-01-02T03:04:05Z", 100]) + "\n", encoding="utf-8")
    call_command("import_wikipedia_books", str(path), verbosity=0, stdout=StringIO(), stderr=StringIO())
    return {"goodbooks": folder, "wikipedia": path}


def act(client, model: str, action: str, ids) -> None:
    response = client.post(f"/admin/books/{model}/", {"action": action, "_selected_action": [str(i) for i in ids]},
                           follow=True)
    assert response.status_code == 200


def test_staff_undo_a_merge_and_the_book_is_made_again_and_stays_apart_on_reimport(merged, admin_client):
    book = Book.objects.get(identifiers__scheme="goodbooks", identifiers__value="1")
    tags = set(BookLink.objects.filter(book=book, source="goodbooks").values_list("link_id", flat=True))
    merge = BookMerge.objects.get(book=book)

    act(admin_client, "bookmerge", "undo_merges", [merge.pk])

    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by.is_superuser
    article = Book.objects.get(identifiers__scheme="wikipedia", identifiers__value="The Hunger Games (novel)")
    assert article != book and article.title == "The Hunger Games (novel)" and article.source == "wikipedia"
    assert set(BookLink.objects.filter(book=book).values_list("link_id", flat=True)) == tags
    assert BookLink.objects.filter(book=article, link__name="panem").exists()
    assert Contribution.objects.filter(book=article, author__name="Suzanne Collins").exists()
    assert "wikipedia" not in Book.objects.get(pk=book.pk).metadata
    assert LogEntry.objects.filter(object_id=str(merge.pk), change_message__contains="Undone").exists()

    for command, source in (("import_goodbooks", merged["goodbooks"]), ("import_wikipedia_books", merged["wikipedia"])):
        call_command(command, str(source), verbosity=0, stdout=StringIO(), stderr=StringIO())
    assert BookMerge.objects.filter(undone_at__isnull=True).count() == 0, "re-imports keep the books apart"
    act(admin_client, "bookmerge", "undo_merges", [merge.pk])  # twice: refused, nothing changes
    assert Book.objects.filter(title="The Hunger Games (novel)").count() == 1


def test_staff_merge_two_books_by_hand_shelves_kept_and_undo_it(merged, admin_client, django_user_model):
    reader = django_user_model.objects.create_user("reader", password="x")
    shelf = Shelf.objects.create(user=reader, name="Mine")
    one = Book.objects.create(external_id="wikipedia:Catching Fire", source="wikipedia", title="Catching Fire")
    other = Book.objects.get(identifiers__scheme="goodbooks", identifiers__value="2")
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    first, second = sorted([one, other], key=lambda book: (book.created_at, book.pk))
    entry = ShelfEntry.objects.create(shelf=shelf, book=second, added_at=moment)

    act(admin_client, "book", "merge_books", [one.pk, other.pk])

    assert not Book.objects.filter(pk=second.pk).exists()
    merge = BookMerge.objects.get(method=BookMerge.Method.STAFF)
    assert merge.book_id == first.pk and merge.merged_by.is_superuser and merge.external_id == second.external_id
    assert ShelfEntry.objects.get(pk=entry.pk).book_id == first.pk, "the reader's shelf keeps the book"
    assert BookIdentifier.objects.filter(book=first, scheme=second.source).exists()
    assert LogEntry.objects.filter(object_id=str(first.pk), change_message__contains="Merged").exists()

    act(admin_client, "bookmerge", "undo_merges", [merge.pk])
    again = Book.objects.get(external_id=second.external_id)
    assert ShelfEntry.objects.get(pk=entry.pk).book_id == again.pk


def test_merging_needs_exactly_two_books(merged, admin_client):
    books = Book.objects.count()
    act(admin_client, "book", "merge_books", list(Book.objects.values_list("pk", flat=True)[:3]))
    assert Book.objects.count() == books


def test_a_merge_by_hand_carries_the_merged_books_staff_given_values_and_undoing_it_gives_them_back(
        merged, admin_client, admin_user):
    article = Book.objects.create(external_id="wikipedia:Catching Fire", source="wikipedia", title="Catching Fire",
                                  genre="Young adult", country="United States")
    other = Book.objects.get(identifiers__scheme="goodbooks", identifiers__value="2")
    keep, gone = sorted([article, other], key=lambda book: (book.created_at, book.pk))
    Book.objects.filter(pk=keep.pk).update(genre="Young adult", country="United States", language="English")
    Book.objects.filter(pk=gone.pk).update(genre="Romance", country="", language="")
    book_values_edited(book_id=keep.pk, before={"genre": "Young adult, Romance"}, by=admin_user)  # took off Romance
    book_value_give(book_id=gone.pk, field="genre", value="Dystopian & apocalyptic", by=admin_user)
    Book.objects.filter(pk=gone.pk).update(country="Canada")
    book_values_edited(book_id=gone.pk, before={"country": ""}, by=admin_user)
    keep_before = Book.objects.get(pk=keep.pk)

    act(admin_client, "book", "merge_books", [keep.pk, gone.pk])

    kept = Book.objects.get(pk=keep.pk)
    assert kept.staff_given == {"genre": ["Young adult", "Dystopian & apocalyptic"], "country": "Canada",
                                "genre_removed": ["Romance"]}
    assert (kept.genre, kept.country) == ("Young adult, Dystopian & apocalyptic", "Canada"), "staff-given beats sources"
    assert "Dystopian & apocalyptic" in kept.genres.values_list("name", flat=True)
    assert StaffEdit.objects.filter(book=kept).count() == 3, "who gave them comes along"

    for command, source in (("import_goodbooks", merged["goodbooks"]), ("import_wikipedia_books", merged["wikipedia"])):
        call_command(command, str(source), verbosity=0, stdout=StringIO(), stderr=StringIO())
    kept = Book.objects.get(pk=keep.pk)
    assert kept.genre.startswith("Young adult, Dystopian & apocalyptic") and kept.country == "Canada", "re-imported"
    assert "Romance" not in kept.genre

    Book.objects.filter(pk=keep.pk).update(language="French")  # changed since the merge: stays
    merge = BookMerge.objects.get(method=BookMerge.Method.STAFF)
    act(admin_client, "bookmerge", "undo_merges", [merge.pk])

    again, kept = Book.objects.get(external_id=gone.external_id), Book.objects.get(pk=keep.pk)
    assert again.staff_given == {"genre": ["Dystopian & apocalyptic"], "country": "Canada"}
    assert (again.genre, again.country) == ("Dystopian & apocalyptic, Romance", "Canada")
    assert StaffEdit.objects.filter(book=again).count() == 2 and StaffEdit.objects.filter(book=kept).count() == 1
    assert kept.staff_given == keep_before.staff_given == {"genre": ["Young adult"], "genre_removed": ["Romance"]}
    # Its genres as the re-import wrote them (its goodbooks tags say Fantasy) less the merged book's staff gave.
    assert (kept.genre, kept.country, kept.language) == ("Young adult, Fantasy", "United States", "French")
    assert "Dystopian & apocalyptic" not in kept.genres.values_list("name", flat=True)
