"""A burst of anonymous requests on many connections at once, against a real gunicorn with several worker
processes: no more answers than the rate allows (the counter is atomic in the shared Redis)."""
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RATE = 5


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_concurrent_anonymous_burst_gets_exactly_the_rate(start_web_server):
    server = start_web_server(API_ANON_RATE=f"{RATE}/minute", API_USER_RATE=f"{RATE}/minute")
    cache.clear()
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(status_of, [f"{server.url}/api/v1/links/"] * 64))
    assert answers.count(200) == RATE and answers.count(429) == 64 - RATE, answers
