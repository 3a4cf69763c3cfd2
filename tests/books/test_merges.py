"""Staff correct merges in the admin: undo a wrong one (the merged book is made again, with its identifiers, links,
people and shelf entries), or merge two books by hand; both are logged."""
import json
import shutil
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command

from books.models import Book, BookIdentifier, BookLink, BookMerge, Contribution, Shelf, ShelfEntry

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
