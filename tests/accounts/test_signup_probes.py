"""Signing up with an address that already has an account tells the prober nothing.

Same answer (allauth's "verify your e-mail" page, ACCOUNT_PREVENT_ENUMERATION),
same work (one password hash, as a real signup does), throttled like a wrong
code, and the owner is told at most once a day however often it is tried.
"""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from referrals import services
from referrals.models import Member
from tests.helpers import signup


class CountingHasher(MD5PasswordHasher):
    """A real (fast) hasher that counts how often a password is hashed."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def counted_hashing(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def test_a_probe_of_a_registered_address_hashes_a_password_like_a_real_signup(
    client, alice, counted_hashing
):
    first, second = services.create_invite(member=alice), services.create_invite(member=alice)
    signup(client, first.code, username="newbie", email="newbie@example.com")
    real_signup = counted_hashing.calls
    assert real_signup >= 1 and Member.objects.filter(user__username="newbie").exists()

    counted_hashing.calls = 0
    probe = signup(client, second.code, username="prober", email="alice@example.com")
    assert probe.status_code == 302  # the same "check your e-mail" answer
    assert not Member.objects.filter(user__username="prober").exists()
    assert counted_hashing.calls == real_signup


def test_probing_registered_addresses_is_throttled_like_guessing_codes(client, alice, settings):
    settings.SIGNUP_PROBE_RATE = "3/h"
    invite = services.create_invite(member=alice)
    answers = [
        signup(client, invite.code, username=f"probe{i}", email="alice@example.com").status_code
        for i in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    # Past the limit every signup from that client waits, so a 429 tells nothing
    # about whether an address is registered; typos of codes never count here.
    other = services.create_invite(member=alice)
    assert signup(client, other.code, username="n", email="new@example.com").status_code == 429


def test_the_owner_is_told_at_most_once_a_day(client, alice, mailoutbox, settings):
    settings.SIGNUP_PROBE_RATE = "100/h"
    # allauth alone would tell them again every 3 minutes.
    settings.ACCOUNT_RATE_LIMITS = {"confirm_email": "100/m/key"}
    invite = services.create_invite(member=alice)
    for i in range(3):
        signup(client, invite.code, username=f"probe{i}", email="alice@example.com")
    told = [m for m in mailoutbox if m.to == ["alice@example.com"]]
    assert len(told) == 1


def test_the_signup_page_speaks_in_the_sites_voice(client, campaign):
    page = client.get("/accounts/signup/").content.decode()
    assert "<h1>Join with your invite</h1>" in page
    assert "Sign Up" not in page
