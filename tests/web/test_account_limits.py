"""The site's sign-in and password-reset forms are limited per account (or address) and per client address."""
import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

RIGHT = {"username": "reader", "password": "a-long-passphrase"}
WRONG = {"username": "reader", "password": "a-wrong-guess"}


@pytest.fixture
def tight_limits(settings):
    settings.ACCOUNT_LIMITS = {"sign_in_account": (3, 60), "sign_in_client": (5, 60),
                               "password_reset_address": (2, 60), "password_reset_client": (3, 60)}
    cache.clear()
    yield settings.ACCOUNT_LIMITS
    cache.clear()


def sign_in(data, address="192.0.2.1", **headers):
    return Client(REMOTE_ADDR=address, **headers).post(reverse("login"), data)


def test_failed_sign_ins_to_one_account_are_limited_then_the_owner_gets_back_in(user, tight_limits):
    assert [sign_in(WRONG).status_code for _ in range(3)] == [200, 200, 200]
    refused = sign_in(WRONG, address="192.0.2.2")  # another client, the same account
    assert "Too many failed sign-ins for this account or from your address" in refused.content.decode()
    assert sign_in(RIGHT, address="192.0.2.3").status_code == 200  # refused while the window is full

    cache.clear()  # the window has passed (the cool-off is the window's length, never for good)
    assert sign_in(RIGHT).status_code == 302


def test_failed_sign_ins_from_one_client_are_limited_whatever_the_account(user, tight_limits):
    answers = [sign_in({"username": f"reader-{n}", "password": "guess"}).content.decode() for n in range(6)]
    assert ["Too many failed sign-ins" in answer for answer in answers] == [False] * 5 + [True]
    spoofed = sign_in(WRONG, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert "Too many failed sign-ins" in spoofed.content.decode()  # no proxy configured: the header is ignored


def test_successful_sign_ins_do_not_count(user, tight_limits):
    assert [sign_in(RIGHT).status_code for _ in range(5)] == [302] * 5
    assert sign_in(WRONG).status_code == 200 and "Too many" not in sign_in(WRONG).content.decode()


def test_password_reset_mails_are_limited_per_address_and_per_client(user, tight_limits):
    user.email = "reader@example.com"
    user.save()

    def reset(email, address="192.0.2.1"):
        return Client(REMOTE_ADDR=address).post(reverse("password_reset"), {"email": email})

    assert [reset("Reader@example.com", f"192.0.2.{n}").status_code for n in range(1, 3)] == [302, 302]
    refused = reset("reader@example.com", "192.0.2.9")
    assert "Too many password reset mails" in refused.content.decode()
    assert len(mail.outbox) == 2

    # The refused one was not counted against the client: two more pass, the next is refused.
    assert [reset(f"nobody-{n}@example.com", "192.0.2.9").status_code for n in range(3)] == [302, 302, 302]
    assert "Too many password reset mails" in reset("someone@example.com", "192.0.2.9").content.decode()
    assert len(mail.outbox) == 2  # unknown addresses get no mail, but are limited all the same


def test_a_sign_in_brute_force_at_the_deployed_limits(user, settings, record_property):
    """92 wrong passwords for one account from one client in a row, at the limits production uses."""
    from config.settings import base

    settings.ACCOUNT_LIMITS = base.ACCOUNT_LIMITS
    cache.clear()
    refused = ["Too many failed sign-ins" in sign_in(WRONG).content.decode() for _ in range(92)]
    owner_meanwhile = sign_in(RIGHT, address="192.0.2.77").status_code
    record_property("92 wrong passwords for one account", f"{refused.count(False)} answered, {refused.count(True)} "
                    f"refused; the owner from another address meanwhile: {owner_meanwhile} (refused until the "
                    f"{base.ACCOUNT_LIMITS['sign_in_account'][1] // 60}-minute window has room)")
    assert refused.count(False) == base.ACCOUNT_LIMITS["sign_in_account"][0]
    cache.clear()
