"""Importing and exporting a reader's library (books.library, /api/v1/me/library-…): the real database; the import's
run is called directly here (tests/books/test_library_worker.py runs it in a real Celery worker)."""
import csv
import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection

from books.library.selectors import library_export, library_export_goodreads_csv
from books.library.services import LibraryImportBusy, library_import_run, library_import_start
from books.models import Author, BookIdentifier, Contribution, LibraryImport, Shelf, ShelfEntry
from books.services import CUSTOM_SHELVES_MAX
from tests.books.test_library_formats import GOODREADS, STORYGRAPH
from tests.factories import BookFactory, ReaderFactory
from tests.support import client_for

IMPORTS = "/api/v1/me/library-imports/"


@pytest.fixture
def catalogue(db):
    hunger = BookFactory(external_id="goodbooks:1", source="goodbooks", title="The Hunger Games (The Hunger Games, #1)",
                         author="Suzanne Collins", popularity=4000)
    for scheme, value in (("goodreads", "2767052"), ("isbn10", "0439023483"), ("isbn13", "9780439023481")):
        BookIdentifier.objects.create(book=hunger, scheme=scheme, value=value)
    catching = BookFactory(external_id="goodbooks:2", source="goodbooks", title="Catching Fire (The Hunger Games, #2)",
                           author="Suzanne Collins", popularity=3000)
    war = BookFactory(external_id="wikipedia:War and Peace", source="wikipedia", title="War and Peace",
                      author="Leo Tolstoy", popularity=900)
    tolstoy = Author.objects.create(name="Leo Tolstoy", key="leo tolstoy", aliases=["Lev Tolstoj"])
    Contribution.objects.create(book=war, author=tolstoy)
    anna = BookFactory(external_id="wikipedia:Anna Karenina", source="wikipedia", title="Anna Karenina",
                       author="Leo Tolstoy", popularity=800)
    Contribution.objects.create(book=anna, author=tolstoy)
    return SimpleNamespace(hunger=hunger, catching=catching, war=war, anna=anna)


def run_import(user, text: str) -> LibraryImport:
    return library_import_run(library_import_start(user=user, file_name="export.csv", data=text.encode()).pk)


def shelves_of(user) -> set[tuple]:
    return set(ShelfEntry.objects.filter(shelf__user=user).values_list("shelf__name", "book_id", "rating",
                                                                         "added_at__date", "read_at"))


def test_goodreads_export_fills_the_standard_and_own_shelves(user, catalogue):
    done = run_import(user, GOODREADS)
    assert (done.status, done.rows, done.matched, done.unmatched, done.skipped) == ("succeeded", 2, 2, 0, 0)
    entries = {(name, book, rating, str(day), read and str(read)) for name, book, rating, day, read in shelves_of(user)}
    assert entries == {("Read", catalogue.hunger.pk, 5, "2018-12-24", "2019-03-02"),
                       ("dystopia", catalogue.hunger.pk, 5, "2018-12-24", "2019-03-02"),
                       ("Favourites", catalogue.hunger.pk, 5, "2018-12-24", "2019-03-02"),
                       ("Want to read", catalogue.catching.pk, None, "2020-01-05", None)}
    assert Shelf.objects.get(user=user, name="dystopia").is_public is False


def test_storygraph_matches_by_isbn_or_title_and_author_and_lists_the_rest(user, catalogue):
    done = run_import(user, STORYGRAPH + "Unheard Of Book,Nobody Known,,,,read,2020/01/01,,,,,,,,,,,,,,,,\n")
    assert (done.matched, done.unmatched) == (2, 1)  # War and Peace's ISBN is not in the catalogue: by title
    assert {(name, book) for name, book, *_ in shelves_of(user)} == {
        ("did-not-finish", catalogue.war.pk), ("classics", catalogue.war.pk), ("russia", catalogue.war.pk),
        ("Reading", catalogue.anna.pk)}
    row = done.unmatched_rows.get()
    assert (row.row_number, row.title, row.reason) == (4, "Unheard Of Book", "no book of the catalogue has this title")


def test_an_author_alias_matches_and_a_wrong_author_lists_candidates(user, catalogue):
    header = GOODREADS.splitlines()[0]
    done = run_import(user, f"{header}\n,War and Peace,Lev Tolstoj,,,,,,,,,,,,,,,,read,,,,,\n"
                            ",Anna Karenina,Someone Else,,,,,,,,,,,,,,,,read,,,,,\n")
    assert (done.matched, done.unmatched) == (1, 1)
    row = done.unmatched_rows.get()
    assert row.reason == "no book has both this title and this author"
    assert row.candidates[0] == {"book_id": catalogue.anna.pk, "score": 70}


def test_re_importing_changes_nothing_and_a_newer_export_updates_without_losing_shelves(user, catalogue):
    run_import(user, GOODREADS)
    before = shelves_of(user)
    again = run_import(user, GOODREADS)
    assert again.matched == 2 and shelves_of(user) == before
    newer = GOODREADS.replace("2020/01/05,to-read,to-read (#4),to-read", "2020/01/05,read,read (#4),read")
    newer = newer.replace('"dystopia, favorites"', "favorites")
    run_import(user, newer)
    names = {(name, book) for name, book, *_ in shelves_of(user)}
    assert ("Read", catalogue.catching.pk) in names and ("Want to read", catalogue.catching.pk) not in names
    assert ("dystopia", catalogue.hunger.pk) in names  # a shelf of the reader's own keeps its books


def test_round_trip_export_into_a_new_reader_gives_the_same_shelves_ratings_and_dates(user, catalogue):
    run_import(user, GOODREADS)
    run_import(user, STORYGRAPH)
    exported = library_export_goodreads_csv(library_export(user=user))
    newcomer = ReaderFactory(username="newcomer")
    done = run_import(newcomer, exported)
    assert (done.matched, done.unmatched) == (4, 0)
    assert shelves_of(newcomer) == shelves_of(user)
    read = {book: str(day) for _, book, _, _, day in shelves_of(newcomer) if day}
    assert read == {catalogue.hunger.pk: "2019-03-02", catalogue.anna.pk: "2021-11-30"}  # Date Read, Last Date Read
    json_records = {record["bookvec_id"]: record for record in library_export(user=newcomer)}
    assert (json_records[catalogue.anna.pk]["date_read"], json_records[catalogue.anna.pk]["date_added"]) == (
        "2021-11-30", "2022-05-06")
    assert json_records[catalogue.war.pk]["date_read"] is None


def test_a_failure_mid_import_leaves_the_shelves_as_before(user, catalogue):
    run_import(user, STORYGRAPH)
    before = shelves_of(user)
    with connection.cursor() as cursor:  # the database itself refuses line 3's book, after line 2 was shelved
        cursor.execute(f"""CREATE FUNCTION refuse_catching_fire() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.book_id = {int(catalogue.catching.pk)} THEN RAISE EXCEPTION 'the disk is full'; END IF;
            RETURN NEW; END $$""")
        cursor.execute("CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON books_shelfentry FOR EACH ROW "
                       "EXECUTE FUNCTION refuse_catching_fire()")
    with pytest.raises(DatabaseError, match="the disk is full"):
        run_import(user, GOODREADS)
    failed = LibraryImport.objects.latest("pk")
    assert failed.status == "failed" and "the disk is full" in failed.error
    assert shelves_of(user) == before
    assert not Shelf.objects.filter(user=user, name="dystopia").exists()
    assert not failed.unmatched_rows.exists()


def test_shelves_past_the_limit_are_listed_and_their_books_shelved_on_the_standard_shelves(client, user, catalogue):
    Shelf.objects.bulk_create([Shelf(user=user, name=f"mine {n}") for n in range(CUSTOM_SHELVES_MAX - 1)])
    text = GOODREADS.replace("2020/01/05,to-read,", '2020/01/05,"to-read, later, someday",')
    text += ',Unheard Of,Suzanne Collins,,,,,0,,,,,,,,,"read, elsewhere",,read,,,,,\n'
    done = run_import(user, text)
    # Line 2's "dystopia" is the last shelf allowed; "later" and "someday" (line 3) are not made.
    assert (done.status, done.matched, done.unmatched) == ("succeeded", 2, 1)
    limit = f"A reader can have at most {CUSTOM_SHELVES_MAX} shelves of their own; delete one first."
    assert done.shelves_not_created == [{"name": "later", "reason": limit}, {"name": "someday", "reason": limit}]
    assert Shelf.objects.filter(user=user, name="dystopia").exists()
    assert not Shelf.objects.filter(user=user, name__in=["later", "someday"]).exists()
    assert {name for name, book, *_ in shelves_of(user) if book == catalogue.catching.pk} == {"Want to read"}
    reader = client_for(user)
    url = f"{IMPORTS}{done.pk}/"
    assert reader.get(url).json()["shelves_not_created"] == done.shelves_not_created
    row = done.unmatched_rows.get()
    assert reader.post(f"{url}rows/{row.pk}/resolve/", {"book_id": catalogue.war.pk}, format="json").status_code == 200
    assert [shelf["name"] for shelf in reader.get(url).json()["shelves_not_created"]] == ["later", "someday",
                                                                                         "elsewhere"]
    assert {name for name, book, *_ in shelves_of(user) if book == catalogue.war.pk} == {"Read"}
    client.force_login(user)
    page = client.get(f"/shelves/import/{done.pk}/").content.decode()
    assert "3 shelves of your file could not be made" in page and "<strong>elsewhere</strong>" in page


def test_the_api_queues_shows_resolves_and_hides_from_others(user, other_user, catalogue):
    reader = client_for(user)
    text = GOODREADS + ',Unheard Of,Suzanne Collins,,,,,4,,,,,,,,2021/02/02,"to-read, later",,to-read,,,,,\n'
    response = reader.post(IMPORTS, {"file": SimpleUploadedFile("goodreads.csv", text.encode())}, format="multipart")
    assert response.status_code == 202, response.content
    url = response.json()["url"]
    assert response.json()["status"] == "queued" and url == f"{IMPORTS}{response.json()['id']}/"
    busy = reader.post(IMPORTS, {"file": SimpleUploadedFile("again.csv", text.encode())}, format="multipart")
    assert busy.status_code == 409 and "already queued or running" in busy.json()["detail"]
    library_import_run(response.json()["id"])
    result = reader.get(url).json()
    assert (result["status"], result["matched"], result["unmatched"]) == ("succeeded", 2, 1)
    row = result["unmatched_rows"][0]
    assert (row["title"], row["row_number"]) == ("Unheard Of", 4)
    assert client_for(other_user).get(url).status_code == 404
    resolve = f"{url}rows/{row['id']}/resolve/"
    assert client_for(other_user).post(resolve, {"book_id": catalogue.war.pk}, format="json").status_code == 404
    assert reader.post(resolve, {"book_id": 10**9}, format="json").status_code == 400
    resolved = reader.post(resolve, {"book_id": catalogue.war.pk}, format="json")
    assert resolved.status_code == 200 and resolved.json()["resolved_book"] == catalogue.war.pk
    assert {name for name, book, *_ in shelves_of(user) if book == catalogue.war.pk} == {"Want to read", "later"}


@pytest.mark.parametrize(("data", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ("Title,Authors,Read Status\nL\xe9a,X,read\n".encode("latin-1"), "not UTF-8"),
    (b"name,email\n", "not a library export"),
    (b"x" * (5 * 1024 * 1024 + 1), "at most 5 MB"),
])
def test_the_api_refuses_a_bad_file_before_writing_anything(user, data, message):
    response = client_for(user).post(IMPORTS, {"file": SimpleUploadedFile("f.csv", data)}, format="multipart")
    assert response.status_code == 400 and message in response.json()["detail"]
    assert "file" in response.json()["errors"]
    assert not LibraryImport.objects.exists()


def test_the_api_wants_a_file_and_a_reader(user):
    assert client_for(user).post(IMPORTS, {}, format="multipart").status_code == 400
    assert client_for().post(IMPORTS, {}, format="multipart").status_code == 401


def test_export_in_goodreads_layout_neutralises_formulas_and_json(user, catalogue):
    evil = BookFactory(title="=HYPERLINK(\"http://x\")", author="@Someone")
    run_import(user, GOODREADS)
    shelf = Shelf.objects.get(user=user, kind="read")
    ShelfEntry.objects.create(shelf=shelf, book=evil, added_at="2020-02-02T00:00:00Z")
    reader = client_for(user)
    response = reader.get("/api/v1/me/library-export/?format=goodreads")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_title = {row["Title"]: row for row in rows}
    assert by_title["'=HYPERLINK(\"http://x\")"]["Author"] == "'@Someone"
    hunger = by_title["The Hunger Games (The Hunger Games, #1)"]
    assert (hunger["Book Id"], hunger["ISBN"], hunger["My Rating"], hunger["Exclusive Shelf"]) == (
        "2767052", '="0439023483"', "5", "read")
    assert hunger["Bookshelves"] == "read, favorites, dystopia" and hunger["Date Added"] == "2018/12/24"
    assert (hunger["Date Read"], by_title["Catching Fire (The Hunger Games, #2)"]["Date Read"]) == ("2019/03/02", "")
    records = reader.get("/api/v1/me/library-export/?format=json").json()
    assert {record["title"] for record in records} == {"=HYPERLINK(\"http://x\")", hunger["Title"], "Catching Fire "
                                                       "(The Hunger Games, #2)"}
    assert client_for().get("/api/v1/me/library-export/").status_code == 401


def test_the_import_is_in_the_api_schema(user):
    paths = client_for(user).get("/api/v1/schema/?format=json").json()["paths"]
    for path in (IMPORTS, IMPORTS + "{id}/", IMPORTS + "{id}/rows/{row_id}/resolve/", "/api/v1/me/library-export/"):
        assert path in paths


def test_the_pages_show_only_the_readers_own_import_and_the_export_link_works_signed_in(client, user, other_user,
                                                                                        catalogue):
    done = run_import(user, GOODREADS)
    client.force_login(other_user)
    assert client.get(f"/shelves/import/{done.pk}/").status_code == 404
    client.force_login(user)
    page = client.get(f"/shelves/import/{done.pk}/").content.decode()
    assert "Done: 2 of 2 books are on your shelves" in page and 'http-equiv="refresh"' not in page
    shelves = client.get("/shelves/").content.decode()
    assert 'href="/shelves/import/"' in shelves and 'href="/api/v1/me/library-export/?format=goodreads"' in shelves
    export = client.get("/api/v1/me/library-export/?format=goodreads")
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    assert "Catching Fire (The Hunger Games, #2)" in export.content.decode()


def test_a_queued_import_refreshes_its_page_and_blocks_a_second_one(client, user, catalogue):
    queued = library_import_start(user=user, file_name="a.csv", data=GOODREADS.encode())
    client.force_login(user)
    assert 'http-equiv="refresh"' in client.get(f"/shelves/import/{queued.pk}/").content.decode()
    with pytest.raises(LibraryImportBusy):
        library_import_start(user=user, file_name="b.csv", data=GOODREADS.encode())
    refused = client.post("/shelves/import/", {"file": SimpleUploadedFile("b.csv", GOODREADS.encode())})
    assert refused.status_code == 400 and "already queued or running" in refused.content.decode()


def test_an_import_lost_for_an_hour_no_longer_blocks_the_next(user, catalogue):
    lost = library_import_start(user=user, file_name="a.csv", data=GOODREADS.encode())
    LibraryImport.objects.filter(pk=lost.pk).update(status="running", created_at="2020-01-01T00:00:00Z")
    done = run_import(user, GOODREADS)
    assert done.status == "succeeded"
    lost.refresh_from_db()
    assert lost.status == "failed" and "did not finish within an hour" in lost.error


def test_a_title_with_an_ampersand_is_found_by_title_and_author(user, catalogue):
    eleanor = BookFactory(title="Eleanor & Park", author="Rainbow Rowell")
    header = GOODREADS.splitlines()[0]
    done = run_import(user, f"{header}\n,Eleanor & Park,Rainbow Rowell,,,,,,,,,,,,,,,,read,,,,,\n")
    assert (done.matched, done.unmatched) == (1, 0)
    assert {book for _, book, *_ in shelves_of(user)} == {eleanor.pk}


def goodreads_file(*rows: dict) -> str:
    """A Goodreads export of ``rows`` (cells by column name; the rest blank), in the fixture's columns."""
    out = io.StringIO()
    writer = csv.DictWriter(out, GOODREADS.splitlines()[0].split(","), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_book_twice_in_a_file_ends_as_its_last_row_says(user, catalogue):
    hunger = {"Book Id": "2767052", "Title": "The Hunger Games", "Author": "Suzanne Collins"}
    done = run_import(user, goodreads_file(
        {**hunger, "My Rating": "3", "Date Added": "2020/01/01", "Bookshelves": "to-read, dystopia",
         "Exclusive Shelf": "to-read"},
        {**hunger, "My Rating": "5", "Date Added": "2020/02/02", "Date Read": "2021/03/04", "Exclusive Shelf": "read"}))
    assert (done.rows, done.matched) == (2, 2)
    assert {(name, rating, str(day), read and str(read)) for name, _, rating, day, read in shelves_of(user)} == {
        ("Read", 5, "2020-02-02", "2021-03-04"), ("dystopia", 3, "2020-01-01", None)}
    again = run_import(user, goodreads_file({**hunger, "Exclusive Shelf": "read"}))  # no rating, no dates: kept
    assert again.matched == 1
    assert {(name, rating, str(day)) for name, _, rating, day, _ in shelves_of(user)} == {
        ("Read", 5, "2020-02-02"), ("dystopia", 3, "2020-01-01")}
    assert ShelfEntry.objects.filter(shelf__user=user).count() == 2
