"""A forged session cookie never turns a page into a server error: the visitor is simply signed out."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("forged", ["forged\x00key", "../../etc/passwd", "ABC" * 20])
def test_pages_treat_a_forged_session_cookie_as_signed_out(client, forged):
    client.cookies["sessionid"] = forged
    response = client.get("/")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
