"""SSRF: addresses that hide a private IPv4 inside IPv6, and names that change their answer."""

import socket

import pytest

from webhooks import services as webhooks
from webhooks.models import Delivery
from webhooks.targets import UnsafeTarget, check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated, still parsed)
        "http://[64:ff9b::7f00:1]/",  # NAT64 to 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 to the cloud metadata address
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    ],
)
def test_ipv6_addresses_that_carry_a_private_ipv4_address_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeTarget, match="private or local address"):
        check_url(url)


def test_ipv6_addresses_that_carry_a_public_ipv4_address_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    check_url("http://[64:ff9b::5db8:d822]/")  # NAT64 of 93.184.216.34
    check_url("http://[2606:4700:4700::1111]/")


@pytest.mark.parametrize("url", ["http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/"])
def test_the_api_refuses_a_hidden_loopback_url(settings, mara_api, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = mara_api.post(
        "/api/v1/webhooks/",
        {"campaign": "default", "url": url, "events": ["member.joined"]},
        format="json",
    )
    assert response.status_code == 400
    assert "private or local address" in response.json()["url"][0]


def test_a_name_that_turns_private_between_check_and_connect_gets_nothing(
    settings, endpoint, receiver, monkeypatch
):
    """DNS rebinding: the first answer is public, the connection's answer is 127.0.0.1."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    port = receiver.server.server_address[1]
    endpoint.url = f"http://rebind.example:{port}/hooks"
    endpoint.save(update_fields=["url"])
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34"])

    def rebinding_dns(host, *args, **kwargs):  # the outside world: a hostile name server
        if host == "rebind.example":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    webhooks.send_test_event(endpoint=endpoint)
    assert webhooks.deliver(Delivery.objects.get().pk) == "failed"
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert "changed to a private or local one (127.0.0.1)" in delivery.last_error
    assert receiver.requests == []
