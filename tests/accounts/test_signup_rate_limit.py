"""allauth's own signup limit (20 a minute per address by default) counts visitors, not the
proxy in front of the site: behind it every request comes from the proxy's address."""

import pytest

from referrals import services

PROXY = "10.0.0.2"  # the TLS proxy gunicorn sees as REMOTE_ADDR


@pytest.fixture
def code(campaign) -> str:
    """A code with uses enough for every signup of a test."""
    return services.create_seed_codes(campaign=campaign, count=1, uses=10)[0].code


def signup_from(client, code: str, name: str, forwarded_for: str):
    client.logout()
    return client.post(
        "/accounts/signup/",
        {
            "code": code,
            "email": f"{name}@example.com",
            "username": name,
            "password1": "a long unusual passphrase 42",
            "password2": "a long unusual passphrase 42",
        },
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_the_proxy_each_visitor_has_their_own_signup_limit(client, code, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    statuses = [
        signup_from(client, code, f"visitor{n}", f"198.51.100.{n}").status_code for n in range(1, 5)
    ]
    assert statuses == [302, 302, 302, 302]


def test_one_visitor_behind_the_proxy_is_still_held_to_the_limit(client, code, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    statuses = [
        signup_from(client, code, f"again{n}", "198.51.100.7").status_code for n in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_a_forwarded_address_is_ignored_without_a_trusted_proxy(client, code, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    statuses = [
        signup_from(client, code, f"spoof{n}", f"198.51.100.{n}").status_code for n in range(1, 4)
    ]
    assert statuses == [302, 302, 429]  # a client cannot buy itself new addresses
