"""The catalogue's database constraints hold whatever writes the rows."""
import pytest
from django.db import IntegrityError

from books.models import Book, BookLink, Link

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    return Book.objects.create(external_id="wikipedia:Dune", source="wikipedia", title="Dune")


@pytest.fixture
def link():
    return Link.objects.create(name="science fiction", display_name="Science fiction", kind=Link.Kind.WIKILINK)


def test_external_ids_are_unique(book):
    with pytest.raises(IntegrityError):
        Book.objects.create(external_id="wikipedia:Dune", source="wikipedia", title="Dune again")


def test_an_external_id_starts_with_its_source():
    with pytest.raises(IntegrityError):
        Book.objects.create(external_id="goodbooks:1", source="wikipedia", title="Dune")


def test_a_book_has_a_title():
    with pytest.raises(IntegrityError):
        Book.objects.create(external_id="wikipedia:", source="wikipedia", title="")


def test_link_names_are_unique(link):
    with pytest.raises(IntegrityError):
        Link.objects.create(name="science fiction", display_name="Science Fiction", kind=Link.Kind.WIKILINK)


def test_a_link_name_is_not_empty():
    with pytest.raises(IntegrityError):
        Link.objects.create(name="", display_name="", kind=Link.Kind.TAG)


def test_a_book_has_a_link_once(book, link):
    BookLink.objects.create(book=book, link=link, count=2)
    with pytest.raises(IntegrityError):
        BookLink.objects.create(book=book, link=link, count=1)


def test_a_book_link_counts_at_least_one(book, link):
    with pytest.raises(IntegrityError):
        BookLink.objects.create(book=book, link=link, count=0)


def test_a_links_book_count_follows_its_pairs_whatever_writes_them(book, link):
    from django.db import ProgrammingError, transaction

    other = Link.objects.create(name="desert", display_name="Desert", kind=Link.Kind.WIKILINK)
    books = [book, *Book.objects.bulk_create(
        [Book(external_id=f"wikipedia:Sequel {n}", source="wikipedia", title=f"Sequel {n}") for n in range(3)])]
    BookLink.objects.bulk_create([BookLink(book=b, link=link) for b in books] + [BookLink(book=book, link=other)])

    def counts():
        return dict(Link.objects.values_list("name", "book_count"))

    assert counts() == {"science fiction": 4, "desert": 1}
    books[1].delete()  # as the admin deletes a book: its pairs go with it
    BookLink.objects.filter(book=book, link=other).delete()
    assert counts() == {"science fiction": 3, "desert": 0}
    BookLink.objects.filter(link=link).update(count=5)  # a re-import's new counts change no book count
    assert counts() == {"science fiction": 3, "desert": 0}
    with pytest.raises(ProgrammingError, match="never changes its book or link"), transaction.atomic():
        BookLink.objects.filter(book=book).update(link=other)
    assert counts() == {"science fiction": 3, "desert": 0}


@pytest.mark.django_db(transaction=True)
def test_an_import_waits_for_other_writers_of_pairs_so_its_recount_loses_no_change():
    """A book deleted in the admin (its pairs' trigger counts the change) while an import runs: the import's
    absolute recount must not overwrite that change with a count read before it was committed."""
    import threading
    import time

    import psycopg
    from django.db import connection, transaction

    from books.importers.report import ImportReport
    from books.importers.writing import BookRecord, catalogue_write

    dune, sequel = (Book.objects.create(external_id=f"wikipedia:{title}", source="wikipedia", title=title)
                    for title in ("Dune", "Dune Messiah"))
    desert, spice = (Link.objects.create(name=name, display_name=name, kind=Link.Kind.WIKILINK)
                     for name in ("desert", "spice"))
    BookLink.objects.bulk_create([BookLink(book=dune, link=desert), BookLink(book=dune, link=spice),
                                  BookLink(book=sequel, link=spice)])
    # Dune re-imported without its "spice" link, while Dune Messiah (the other book with it) is deleted.
    record = BookRecord(external_id="wikipedia:Dune", source="wikipedia", title="Dune",
                        links={"desert": ("desert", Link.Kind.WIKILINK, 1)})

    failures = []

    def import_one_book():
        try:
            with transaction.atomic():
                catalogue_write(books=[record], report=ImportReport(), batch_size=10, stream=None)
        except Exception as error:  # noqa: BLE001 — reported by the test below
            failures.append(error)
        finally:
            connection.close()

    params = connection.get_connection_params()
    with psycopg.connect(**params) as other_writer, psycopg.connect(**params, autocommit=True) as observer:
        other_writer.execute("DELETE FROM books_booklink WHERE book_id = %s", [sequel.pk])  # not committed yet
        importing = threading.Thread(target=import_one_book)
        importing.start()
        # Commit only once the import waits on a lock (for the delete's transaction): with the import's own lock
        # it waits at its start; without it, its recount would wait on the link's row and then lose the delete.
        # (Watched from a connection of its own: inside a transaction pg_stat_activity keeps its first snapshot.)
        waiting_for_a_lock = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                              "AND datname = current_database()")
        deadline = time.monotonic() + 30
        while not observer.execute(waiting_for_a_lock).fetchone()[0]:
            assert not failures, failures
            assert time.monotonic() < deadline, "the import never waited for the delete's transaction"
            time.sleep(0.05)
        other_writer.commit()
    importing.join(timeout=30)

    assert not importing.is_alive() and not failures, failures
    assert dict(Link.objects.values_list("name", "book_count")) == {"desert": 1, "spice": 0}
    assert not BookLink.objects.filter(link=spice).exists()


def test_an_import_dates_its_changes_when_it_writes_them_not_when_its_transaction_began():
    """The map's and the search vocabulary's caches notice a change by the newest updated_at: a long import's books
    must not look older than an admin edit committed while it ran."""
    import time

    from django.db import connection, transaction

    from books.importers.report import ImportReport
    from books.importers.writing import BookRecord, catalogue_write

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            began = cursor.fetchone()[0]
        time.sleep(0.05)
        catalogue_write(books=[BookRecord(external_id="wikipedia:Dune", source="wikipedia", title="Dune")],
                        report=ImportReport(), batch_size=10, stream=None)
        assert Book.objects.get(external_id="wikipedia:Dune").updated_at > began
