"""Which address we believe: a spoofed X-Forwarded-For changes nothing unless a proxy is trusted."""

import pytest

from referrals import services
from referrals.models import Redemption


def signup_ip(client, alice, **headers) -> str | None:
    invite = services.create_invite(member=alice)
    client.post(
        "/accounts/signup/",
        {
            "code": invite.code,
            "email": "zed@example.com",
            "username": "zed",
            "password1": "a long unusual passphrase 42",
            "password2": "a long unusual passphrase 42",
        },
        REMOTE_ADDR="203.0.113.9",
        **headers,
    )
    return str(Redemption.objects.get(invite=invite).signup_ip)


def test_without_a_trusted_proxy_a_forwarded_for_header_is_ignored(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert signup_ip(client, alice, HTTP_X_FORWARDED_FOR="198.51.100.1") == "203.0.113.9"


def test_behind_one_proxy_only_the_last_hop_is_believed(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    spoofed = "10.0.0.1, 192.0.2.77, 198.51.100.20"  # the client wrote the first two
    assert signup_ip(client, alice, HTTP_X_FORWARDED_FOR=spoofed) == "198.51.100.20"


@pytest.mark.parametrize("header", ["", "not an address", "1.2.3.4.5"])
def test_a_mangled_header_behind_a_proxy_never_fails_the_signup(client, alice, settings, header):
    settings.TRUSTED_PROXY_COUNT = 1
    ip = signup_ip(client, alice, HTTP_X_FORWARDED_FOR=header)
    assert ip in ("203.0.113.9", "None")  # REMOTE_ADDR, or nothing recorded: never a 500
