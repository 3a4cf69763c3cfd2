"""Two things at the same moment, on real connections in real threads: two retrain requests (exactly one
is queued), and two clients of one reader editing the same shelves (no entry lost or duplicated)."""
import threading

import pytest
from django.db import connection

from books.models import Book, Shelf, ShelfEntry
from recommender.models import TrainingRun
from recommender.services.training_runs import training_run_cancel
from tests.api.conftest import client_for

API_PARAMS = {"epochs": 3, "embedding_dim": 8}

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls):
    """Runs each call in its own thread, released together by a barrier; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 — returned and asserted by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_retrain_requests_at_once_queue_exactly_one_run(staff_user, django_user_model, broker):
    other_staff = django_user_model.objects.create_user(username="staff-2", password="x" * 12, is_staff=True)
    first, second = client_for(staff_user), client_for(other_staff)

    for round_number in range(3):
        responses = at_once(
            lambda: first.post("/api/v1/training-runs/", {"params": API_PARAMS}, format="json"),
            lambda: second.post("/api/v1/training-runs/", {"params": API_PARAMS}, format="json"),
        )

        assert sorted(r.status_code for r in responses) == [202, 409], [r.content for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert "already" in refused.json()["detail"] or "same moment" in refused.json()["detail"]
        open_runs = TrainingRun.objects.filter(status__in=TrainingRun.OPEN_STATUSES)
        assert open_runs.count() == 1
        assert broker.queue_length("training") == round_number + 1  # one task per accepted request
        training_run_cancel(run=open_runs.get())


def test_two_clients_editing_one_readers_shelves_at_once_lose_and_duplicate_nothing(user):
    books = Book.objects.bulk_create([
        Book(external_id=f"wikipedia:Book {i}", source="wikipedia", title=f"Book {i}") for i in range(24)
    ])
    phone, laptop = client_for(user), client_for(user)
    shelf_id = phone.post("/api/v1/me/shelves/", {"name": "Holiday"}, format="json").json()["id"]

    def add(client, some_books):
        def call():
            return [client.post(f"/api/v1/me/shelves/{shelf_id}/books/", {"book": b.pk}, format="json").status_code
                    for b in some_books]
        return call

    shared = books[:4]  # both clients add these
    statuses = at_once(add(phone, shared + books[4:14]), add(laptop, shared + books[14:24]))

    phone_codes, laptop_codes = statuses
    assert phone_codes[4:] == laptop_codes[4:] == [201] * 10, statuses
    shared_codes = [sorted(pair) for pair in zip(phone_codes[:4], laptop_codes[:4])]
    assert shared_codes == [[200, 201]] * 4, "each book both add: one client adds it, the other finds it there"
    on_shelf = list(ShelfEntry.objects.filter(shelf_id=shelf_id).values_list("book_id", flat=True))
    assert sorted(on_shelf) == sorted(b.pk for b in books)  # all 24, each once

    # Both clients at once: one moves a book away while the other rates it; one removes another book
    # while the other creates a new shelf.
    target = laptop.post("/api/v1/me/shelves/", {"name": "Elsewhere"}, format="json").json()["id"]
    moved, rated = books[0], books[1]
    responses = at_once(
        lambda: phone.post(f"/api/v1/me/shelves/{shelf_id}/books/{moved.pk}/move/", {"shelf": target}, format="json"),
        lambda: laptop.patch(f"/api/v1/me/shelves/{shelf_id}/books/{rated.pk}/", {"rating": 4}, format="json"),
        lambda: phone.delete(f"/api/v1/me/shelves/{shelf_id}/books/{books[2].pk}/"),
        lambda: laptop.post("/api/v1/me/shelves/", {"name": "Later"}, format="json"),
    )

    assert [r.status_code for r in responses] == [200, 200, 204, 201], [r.content for r in responses]
    holiday = dict(ShelfEntry.objects.filter(shelf_id=shelf_id).values_list("book_id", "rating"))
    assert moved.pk not in holiday and books[2].pk not in holiday and len(holiday) == 22
    assert holiday[rated.pk] == 4
    assert ShelfEntry.objects.filter(shelf_id=target, book=moved).count() == 1
    assert Shelf.objects.filter(user=user, name="Later").count() == 1
    assert ShelfEntry.objects.filter(shelf__user=user).count() == 23
