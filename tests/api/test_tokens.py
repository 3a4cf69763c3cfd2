"""/api/v1/me/tokens/: a client gets a token with its password, uses it, and revokes it; sessions need CSRF."""
import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/me/tokens/"
MY_SHELVES = "/api/v1/me/shelves/"


def signed_in_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_client_gets_a_token_with_its_password_and_uses_it(anonymous, user):
    response = anonymous.post(TOKENS, {"username": "reader", "password": "a-long-passphrase"}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    assert signed_in_with(token).get(MY_SHELVES).status_code == 200


def test_a_new_token_revokes_the_previous_one(anonymous, user):
    credentials = {"username": "reader", "password": "a-long-passphrase"}
    first = anonymous.post(TOKENS, credentials, format="json").json()["token"]
    second = signed_in_with(first).post(TOKENS, format="json").json()["token"]
    assert first != second
    assert signed_in_with(first).get(MY_SHELVES).status_code == 401
    assert signed_in_with(second).get(MY_SHELVES).status_code == 200


def test_revoking_the_token_signs_the_client_out(reader):
    assert reader.delete(TOKENS).status_code == 204
    response = reader.get(MY_SHELVES)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_new_password_revokes_the_token_wherever_it_is_set(anonymous, user, client):
    credentials = {"username": "reader", "password": "a-long-passphrase"}
    token = anonymous.post(TOKENS, credentials, format="json").json()["token"]
    client.force_login(user)
    page = client.post("/accounts/password_change/", {"old_password": "a-long-passphrase",
                                                      "new_password1": "another-long-passphrase",
                                                      "new_password2": "another-long-passphrase"})
    assert page.status_code == 302
    assert signed_in_with(token).get(MY_SHELVES).status_code == 401

    token = anonymous.post(TOKENS, {**credentials, "password": "another-long-passphrase"}, format="json").json()["token"]
    user.refresh_from_db()
    user.first_name = "Renamed"
    user.save()  # other changes leave the token alone
    assert signed_in_with(token).get(MY_SHELVES).status_code == 200
    user.set_password("a-third-long-passphrase")
    user.save()  # the admin, ``changepassword`` and the reset link save it so
    assert signed_in_with(token).get(MY_SHELVES).status_code == 401


@pytest.mark.parametrize(
    "body", [{}, {"username": "reader"}, {"username": "reader", "password": "wrong"}, {"username": "nobody", "password": "x"}]
)
def test_no_token_without_the_right_password(anonymous, user, body):
    response = anonymous.post(TOKENS, body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_anonymous_may_not_revoke(anonymous):
    assert anonymous.delete(TOKENS).status_code == 401


def test_the_sites_session_works_and_needs_a_csrf_token_to_write(user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="reader", password="a-long-passphrase")
    assert client.get(MY_SHELVES).status_code == 200
    response = client.post(MY_SHELVES, {"name": "From the page"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.fixture
def tight_throttles(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    cache.clear()
    yield
    cache.clear()


def test_anonymous_and_signed_in_clients_are_throttled_but_not_the_health_check(anonymous, reader, tight_throttles):
    for client, url in ((anonymous, "/api/v1/links/"), (reader, MY_SHELVES)):
        assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
        response = client.get(url)
        assert response.status_code == 429
        assert "throttled" in response.json()["detail"] and int(response["Retry-After"]) > 0
    assert anonymous.get("/api/v1/health/").status_code in (200, 503)


def test_throttle_counts_are_shared_by_every_web_process(anonymous, tight_throttles):
    """gunicorn runs several workers: each must see the others' requests, or each allows the whole rate."""
    assert [anonymous.get("/api/v1/links/").status_code for _ in range(2)] == [200, 200]
    another_process = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.core.cache import cache; "
                               "print(cache.window_hit('throttle_anon_127.0.0.1', limit=2, duration=60)[0])"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}, capture_output=True, text=True,
        timeout=120)
    assert another_process.stdout.strip() == "None", another_process.stderr[-2000:]  # its two hits fill a limit of 2


def test_a_request_one_throttle_refuses_fills_no_other_window(anonymous, monkeypatch):
    """A view's throttles are checked together, all or none: refused by the anonymous rate, a request is not
    counted against the per-client one (DRF's one-by-one checks counted it, so a burst of refused requests could
    take an allowed one's place there)."""
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    cache.clear()
    try:
        assert [anonymous.get("/api/v1/links/").status_code for _ in range(5)] == [200, 200, 429, 429, 429]
        monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "10/minute"})
        assert [anonymous.get("/api/v1/links/").status_code for _ in range(2)] == [200, 429], \
            "the per-client window holds the 2 answered requests, not the 3 refused ones"
    finally:
        cache.clear()


def test_windows_are_counted_all_or_none_and_a_refusal_says_when_there_is_room():
    cache.clear()
    try:
        windows = [("throttle_test_small", 1, 60), ("throttle_test_large", 5, 30)]
        assert cache.windows_hit(windows)[0] is not None
        hit, wait = cache.windows_hit(windows)
        assert hit is None and 59 <= wait <= 60, "the full window's oldest hit leaves it in a minute"
        assert [cache.window_hit("throttle_test_large", limit=2, duration=30)[0] is not None
                for _ in range(2)] == [True, False], "the refused hit was not counted in the window with room"
    finally:
        cache.clear()


def test_a_forwarded_for_header_does_not_make_a_new_client(anonymous, tight_throttles):
    """With no proxy configured (NUM_PROXIES 0) X-Forwarded-For is the client's own word: throttles ignore it."""
    answers = [anonymous.get("/api/v1/links/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]


def test_behind_one_proxy_the_address_it_saw_is_the_client(anonymous, tight_throttles, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    spoofed = [anonymous.get("/api/v1/links/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7").status_code
               for n in range(4)]
    assert spoofed == [200, 200, 200, 429]  # the proxy appended 203.0.113.7: what the client wrote before is not used
    assert anonymous.get("/api/v1/links/", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


@pytest.mark.parametrize(("broker", "cache"), [
    ("redis://redis:6379/0", "redis://redis:6379/1"),
    ("rediss://user:secret@host:6380/0?ssl_cert_reqs=none", "rediss://user:secret@host:6380/1?ssl_cert_reqs=none"),
    ("redis://redis:6379", "redis://redis:6379/1"),
    ("redis://redis:6379/1", "redis://redis:6379/2"),  # never the broker's own database
    ("redis+socket:///run/redis.sock", "unix:///run/redis.sock?db=1"),  # Celery's socket URL, redis-py's for the cache
])
def test_the_shared_cache_is_the_database_after_the_brokers(broker, cache):
    from config.cache import cache_url_of_broker

    assert cache_url_of_broker(broker) == cache


def test_a_broker_that_is_no_redis_asks_for_cache_url():
    from django.core.exceptions import ImproperlyConfigured

    from config.cache import cache_url_of_broker

    with pytest.raises(ImproperlyConfigured, match="set CACHE_URL"):
        cache_url_of_broker("amqp://guest@rabbit//")


def test_password_tries_for_a_token_have_their_own_tighter_limit(anonymous, user, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"tokens": "2/minute"})
    cache.clear()
    wrong = {"username": "reader", "password": "wrong"}
    assert [anonymous.post(TOKENS, wrong, format="json").status_code for _ in range(3)] == [400, 400, 429]
    assert anonymous.get("/api/v1/books/").status_code == 200
    cache.clear()


def test_a_forged_session_cookie_is_just_signed_out(anonymous):
    anonymous.cookies["sessionid"] = "forged\x00key"
    assert anonymous.get("/api/v1/books/").status_code == 200
    assert anonymous.get(MY_SHELVES).status_code == 401


@pytest.mark.parametrize(("method", "url"), [("get", "/api/v1/nowhere/"), ("post", "/api/v1/books/-1/similar/"),
                                             ("delete", "/api/v2/books/"), ("get", "/api/v1/me/shelves/null/")])
def test_an_address_under_api_that_names_no_endpoint_is_a_json_404(anonymous, method, url):
    response = getattr(anonymous, method)(url)
    assert response.status_code == 404
    assert "No API endpoint" in response.json()["detail"]


def test_an_endpoint_asked_for_without_its_slash_says_so(anonymous):
    response = anonymous.get("/api/v1/books")
    assert response.status_code == 404
    assert response.json()["detail"] == "No API endpoint at this address; did you mean /api/v1/books/ (with a slash)?"


def test_a_broker_database_that_is_no_number_is_refused_by_name():
    from django.core.exceptions import ImproperlyConfigured

    from config.cache import cache_url_of_broker

    with pytest.raises(ImproperlyConfigured, match="database 'abc' is not a number"):
        cache_url_of_broker("redis://redis:6379/abc")
