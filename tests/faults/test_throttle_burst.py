"""Against a real gunicorn with several worker processes: a burst of anonymous requests on many connections at
once gets no more answers than the rate allows (the counter is atomic in the shared Redis), and password guesses
each with a different X-Forwarded-For are throttled as one client (no proxy configured)."""
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RATE = 5


def status_of(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_concurrent_anonymous_burst_gets_exactly_the_rate(start_web_server, record_property):
    server = start_web_server(API_ANON_RATE=f"{RATE}/minute", API_USER_RATE=f"{RATE}/minute")
    cache.clear()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(status_of, [f"{server.url}/api/v1/links/"] * 64))
    record_property("64 requests on 32 connections, rate 5/minute", f"{answers.count(200)} answered 200, "
                    f"{answers.count(429)} 429, in {time.monotonic() - started:.2f} s (3 gunicorn workers)")
    assert answers.count(200) == RATE and answers.count(429) == 64 - RATE, answers


def test_password_guesses_with_spoofed_forwarded_for_are_throttled_as_one_client(start_web_server, user,
                                                                                 record_property):
    server = start_web_server(API_TOKEN_RATE="20/minute")
    cache.clear()
    wrong = json.dumps({"username": "reader", "password": "a-wrong-guess"}).encode()
    answers = [status_of(f"{server.url}/api/v1/me/tokens/", wrong, {"X-Forwarded-For": f"198.51.100.{n}"})
               for n in range(51)]
    right = json.dumps({"username": "reader", "password": "a-long-passphrase"}).encode()
    with_right_password = status_of(f"{server.url}/api/v1/me/tokens/", right, {"X-Forwarded-For": "203.0.113.1"})
    record_property("51 wrong passwords, each a different X-Forwarded-For, rate 20/minute",
                    f"{answers.count(400)} answered 400, {answers.count(429)} 429; the right password with "
                    f"another spoofed header: {with_right_password}")
    assert answers.count(400) == 20 and answers.count(429) == 31 and with_right_password == 429
