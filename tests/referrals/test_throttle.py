import pytest

from referrals import services


@pytest.fixture
def tight_limit(settings):
    settings.INVITE_GUESS_RATE = settings.INVITE_GUESS_RATE_CLIENT = "3/h"


def guess(client, n, **extra):
    return [client.get(f"/i/WRONG{i:010d}/", **extra).status_code for i in range(n)]


def test_it_throttles_repeated_wrong_codes_on_the_landing_page(client, alice, tight_limit):
    assert guess(client, 3) == [404, 404, 404]
    assert guess(client, 1) == [429]
    # Throttled, a real code is still answered: only guessing waits (issue 13).
    invite = services.create_invite(member=alice)
    assert client.get(f"/i/{invite.code}/").status_code == 200


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
    assert b"Too many codes that don't exist" in response.content
    assert b"it never blocks a code that works" in response.content


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


# --- Issue 13: one person's typos never lock out the rest of the office ------------


def sign_up(client, code, username):
    return client.post(
        f"/accounts/signup/?code={code}",
        {
            "code": code,
            "email": f"{username}@example.com",
            "username": username,
            "password1": "a long unusual passphrase 42",
            "password2": "a long unusual passphrase 42",
        },
    ).status_code


def test_twenty_five_retypes_of_one_code_then_a_valid_code_from_the_same_office(client, alice):
    """The defaults: 20 unknown codes an hour per client and code, 200 per client."""
    retypes = [client.get(f"/i/ABCDE{i:010d}/").status_code for i in range(25)]
    assert retypes == [404] * 20 + [429] * 5  # the same code, retyped: that one waits
    invite = services.create_invite(member=alice)
    assert client.get(f"/i/{invite.code}/").status_code == 200  # a colleague's invite link
    other = services.create_invite(member=alice)
    assert sign_up(client, other.display_code, "colleague") == 302  # and their typed code
    # Other people's typos of other codes are not throttled by that one.
    assert client.get("/i/ZZZZZ0000000000/").status_code == 404
    # Twenty-five people mistyping twenty-five different codes: all simply "not found".
    office = [
        client.get(f"/i/{i:05d}X000000000/", REMOTE_ADDR="198.51.100.40").status_code
        for i in range(25)
    ]
    assert office == [404] * 25


def test_many_different_wrong_codes_from_one_network_wait_but_valid_ones_pass(
    client, alice, settings
):
    settings.INVITE_GUESS_RATE_CLIENT = "10/h"
    wrong = [client.get(f"/i/{i:05d}0000000000/").status_code for i in range(12)]
    assert wrong == [404] * 10 + [429] * 2
    invite = services.create_invite(member=alice)
    assert client.get(f"/i/{invite.code}/").status_code == 200
    assert sign_up(client, invite.code, "fine") == 302


def test_a_valid_code_is_accepted_by_the_signup_form_while_the_client_is_throttled(
    client, alice, tight_limit
):
    guess(client, 4)
    assert sign_up(client, "AAAAA-BBBBB-CCCCC", "guesser") == 429
    invite = services.create_invite(member=alice)
    assert sign_up(client, invite.code, "real") == 302


def test_used_up_expired_and_revoked_codes_are_real_codes_not_guesses(client, alice, tight_limit):
    invite = services.create_invite(member=alice)
    services.revoke_invite(invite=invite)
    assert [client.get(f"/i/{invite.code}/").status_code for _ in range(6)] == [410] * 6
    assert guess(client, 1) == [404]  # nothing was counted
