"""`next` and redirect parameters never send anyone off the site."""

from urllib.parse import urlsplit

import pytest

from referrals import services
from tests.helpers import make_user, signup

PAYLOADS = [
    "//evil.tld",
    "/\\evil.tld",
    "https:evil.tld",
    "javascript:alert(1)",
    "%2F%2Fevil.tld",
    "http://127.0.0.1.evil.tld",
    "https://evil.tld/",
    "///evil.tld",
    "\\\\evil.tld",
    " //evil.tld",
]


def stays_on_site(response) -> bool:
    location = response.get("Location", "")
    if not location:
        return True
    parts = urlsplit(location)
    # Relative to our own site: no scheme, no host, and not protocol-relative.
    return (
        parts.scheme in ("", "http", "https")
        and parts.netloc in ("", "testserver")
        and not location.lstrip().startswith(("//", "\\", "/\\"))
        and "evil" not in parts.netloc
    )


@pytest.mark.parametrize("target", PAYLOADS)
def test_logging_in_never_redirects_off_site(client, alice, target):
    response = client.post(
        "/accounts/login/?next=" + target,
        {"login": "alice", "password": "correct horse battery staple", "next": target},
    )
    assert response.status_code == 302
    assert stays_on_site(response), response["Location"]


@pytest.mark.parametrize("target", PAYLOADS)
def test_an_already_logged_in_visitor_is_not_sent_off_site(client, alice, target):
    client.force_login(alice.user)
    response = client.get("/accounts/login/", {"next": target})
    assert stays_on_site(response), response.get("Location")


@pytest.mark.parametrize("target", PAYLOADS)
def test_logging_out_never_redirects_off_site(client, alice, target):
    client.force_login(alice.user)
    response = client.post("/accounts/logout/", {"next": target})
    assert response.status_code == 302
    assert stays_on_site(response), response["Location"]


@pytest.mark.parametrize("target", PAYLOADS)
def test_signing_up_never_redirects_off_site(client, alice, target):
    invite = services.create_invite(member=alice)
    response = signup(client, invite.code, next=target)
    assert response.status_code == 302
    assert stays_on_site(response), response["Location"]


@pytest.mark.parametrize("target", PAYLOADS)
def test_the_invite_pages_never_redirect_off_site(client, alice, target):
    invite = services.create_invite(member=alice)
    client.force_login(make_user("zed"))
    for response in (
        client.get(f"/i/{invite.code}/", {"next": target}),
        client.post(f"/i/{invite.code}/accept/?next={target}", {"next": target}),
        client.get("/", {"code": invite.code, "next": target}),
    ):
        assert stays_on_site(response), response.get("Location")
