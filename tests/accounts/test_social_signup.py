"""Signing up with GitHub passes the same invite gate as the form.

The whole allauth flow runs (login POST, the redirect with its state, the
callback, the token exchange, the profile and e-mail reads, the signup);
only GitHub's HTTP is replaced, by a transport adapter mounted on the
requests session allauth asks its adapter for.
"""

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from referrals import services
from referrals.models import Member, Redemption

User = get_user_model()

GITHUB_APP = {"github": {"SCOPE": ["user:email"], "APPS": [{"client_id": "id", "secret": "s"}]}}


class FakeGitHub(requests.adapters.BaseAdapter):
    """GitHub's token, profile and e-mail endpoints, answering one person."""

    def __init__(self, *, uid=4242, login="octocat", email="octo@example.com", verified=True):
        super().__init__()
        self.person = {"id": uid, "login": login, "name": "Octo Cat", "email": email}
        self.emails = [{"email": email, "verified": verified, "primary": True}]
        self.calls = []

    def send(self, request, **kwargs):
        self.calls.append(urlparse(request.url).path)
        path = urlparse(request.url).path
        if path == "/login/oauth/access_token":
            body = {"access_token": "token-1", "token_type": "bearer", "scope": "user:email"}
        elif path == "/user":
            body = self.person
        elif path == "/user/emails":
            body = self.emails
        else:
            return self._answer(request, 404, {"message": "Not Found"})
        return self._answer(request, 200, body)

    def _answer(self, request, status, body):
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def github(settings, monkeypatch):
    settings.SOCIALACCOUNT_PROVIDERS = GITHUB_APP
    fake = FakeGitHub()

    def session(adapter):
        s = requests.Session()
        s.mount("https://", fake)
        return s

    monkeypatch.setattr(DefaultSocialAccountAdapter, "get_requests_session", session)
    return fake


def sign_in_with_github(client):
    """POST the login, follow GitHub's redirect back to the callback: the final response."""
    started = client.post(reverse("github_login"), {"process": "login"})
    assert started.status_code == 302, started.content[:300]
    location = urlparse(started["Location"])
    assert location.netloc == "github.com"
    state = parse_qs(location.query)["state"][0]
    return client.get(reverse("github_callback"), {"code": "abc", "state": state})


def test_without_an_invite_github_signup_is_refused_and_creates_nothing(client, alice, github):
    response = sign_in_with_github(client)
    assert response.status_code == 200
    assert b"You need an invite to join" in response.content
    assert not User.objects.filter(email="octo@example.com").exists()
    assert not SocialAccount.objects.exists()


def test_with_an_invite_link_github_signup_hangs_under_the_code_owner(client, alice, github):
    invite = services.create_invite(member=alice)
    client.get(reverse("invite_landing", args=[invite.code]))
    response = sign_in_with_github(client)
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(email="octo@example.com")
    member = Member.objects.get(user=user)
    assert member.inviter == alice
    assert member.depth == alice.depth + 1
    assert Redemption.objects.get(member=member).invite == invite
    assert SocialAccount.objects.get(user=user).uid == "4242"
    # GitHub said the address is verified: so does the site, and it shows.
    assert user.emailaddress_set.get().verified
    invite.refresh_from_db()
    assert invite.uses == 1
    # The code is spent: the session forgets it.
    assert "invite_code" not in client.session


def someone_else():
    return User.objects.create_user("carol", "carol@example.com", "pw-carol-123")


def test_a_used_up_invite_is_refused_with_its_reason_and_no_account(client, alice, github):
    invite = services.create_invite(member=alice)
    client.get(reverse("invite_landing", args=[invite.code]))
    services.redeem_invite(code=invite.code, user=someone_else())  # taken meanwhile
    response = sign_in_with_github(client)
    assert response.status_code == 400
    assert b"This invite code has already been used." in response.content
    assert not User.objects.filter(email="octo@example.com").exists()
    assert not SocialAccount.objects.exists()


def test_losing_the_last_use_after_the_gate_rolls_the_whole_signup_back(
    client, alice, github, monkeypatch
):
    """The gate checked the code; the use went to someone else before the insert."""
    from accounts.adapter import SocialAccountAdapter

    invite = services.create_invite(member=alice)
    client.get(reverse("invite_landing", args=[invite.code]))
    original = SocialAccountAdapter.is_open_for_signup

    def gate_then_lose_the_race(self, request, sociallogin):
        is_open = original(self, request, sociallogin)
        services.redeem_invite(code=invite.code, user=someone_else())
        return is_open

    monkeypatch.setattr(SocialAccountAdapter, "is_open_for_signup", gate_then_lose_the_race)
    response = sign_in_with_github(client)
    assert response.status_code == 400
    assert not User.objects.filter(email="octo@example.com").exists()
    assert not SocialAccount.objects.exists()
    assert Member.objects.filter(inviter=alice).count() == 1  # carol's, nobody half-made


def test_without_keys_there_is_no_button_and_no_login_url(client, campaign, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"SCOPE": ["user:email"]}}
    page = client.get(reverse("account_signup"))
    assert b"GitHub" not in page.content
    assert client.post(reverse("github_login")).status_code == 404


def test_with_keys_the_signup_and_login_pages_offer_github(client, campaign, github):
    for name in ("account_signup", "account_login"):
        page = client.get(reverse(name))
        assert b"GitHub" in page.content
        assert reverse("github_login").encode() in page.content
