import pytest

from referrals import services


@pytest.fixture
def tight_limit(settings):
    settings.INVITE_GUESS_RATE = "3/h"


def guess(client, n, **extra):
    return [client.get(f"/i/WRONG{i:010d}/", **extra).status_code for i in range(n)]


def test_it_throttles_repeated_wrong_codes_on_the_landing_page(client, alice, tight_limit):
    assert guess(client, 3) == [404, 404, 404]
    assert guess(client, 1) == [429]
    # Once throttled, even a real code waits: guessing must not continue.
    invite = services.create_invite(member=alice)
    assert client.get(f"/i/{invite.code}/").status_code == 429


def test_valid_codes_do_not_count_as_guesses(client, alice, tight_limit):
    invite = services.create_invite(member=alice)
    for _ in range(10):
        assert client.get(f"/i/{invite.code}/").status_code == 200


def test_wrong_codes_on_the_signup_form_share_the_limit(client, alice, tight_limit):
    guess(client, 2)
    form = {
        "code": "AAAAA-BBBBB-CCCCC",
        "email": "x@example.com",
        "username": "x",
        "password1": "a long unusual passphrase 42",
        "password2": "a long unusual passphrase 42",
    }
    assert client.post("/accounts/signup/", form).status_code == 200
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 429
    assert b"Too many tries" in response.content


def test_ipv6_clients_in_one_64_network_share_a_counter(client, alice, tight_limit):
    guess(client, 3, REMOTE_ADDR="2001:db8:1:2::1")
    assert guess(client, 1, REMOTE_ADDR="2001:db8:1:2:ffff::9") == [429]
    assert guess(client, 1, REMOTE_ADDR="2001:db8:1:3::1") == [404]


def test_forwarded_for_is_ignored_without_trusted_proxies(client, alice, tight_limit):
    for i in range(3):
        client.get(f"/i/WRONG{i:010d}/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    # Rotating a spoofed header does not escape the limit.
    assert guess(client, 1, HTTP_X_FORWARDED_FOR="198.51.100.77") == [429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(
    client, alice, tight_limit, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    guess(client, 3, HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.7")
    assert guess(client, 1, HTTP_X_FORWARDED_FOR="198.51.100.7") == [429]
    assert guess(client, 1, HTTP_X_FORWARDED_FOR="198.51.100.8") == [404]
