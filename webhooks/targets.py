"""Which URLs a webhook may post to: http(s) only, and no private addresses (SSRF).

Checked when an endpoint is saved and again before every delivery, since a
name can be pointed somewhere else later. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeTarget(ValueError):
    """A URL webhooks refuse to post to; the message says why."""


def check_url(url: str) -> None:
    """Raise UnsafeTarget unless `url` is http(s) to a public address (or private are allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeTarget("Webhook URLs must start with http:// or https://.")
    if not parts.hostname:
        raise UnsafeTarget("Webhook URLs need a host name.")
    if parts.username or parts.password:
        raise UnsafeTarget("Put credentials in your receiver, not in the URL.")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeTarget("That URL's port is not a number between 0 and 65535.") from None
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"The host {parts.hostname} could not be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not is_public(address):
            raise UnsafeTarget(
                f"{parts.hostname} resolves to a private or local address ({address}); "
                "webhooks only go to public hosts."
            )


# IPv6 ranges whose last 32 bits are an IPv4 address that the network may
# reach: IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (RFC 6052, 8215).
_EMBEDS_IPV4 = [
    ipaddress.ip_network("::/96"),
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address, and so is any IPv4 address an IPv6 one carries inside.

    `is_global` alone passes [::127.0.0.1], [64:ff9b::7f00:1] and [2002:7f00:1::]
    (6to4), each of which can lead back to 127.0.0.1.
    """
    if not address.is_global or address.is_multicast:
        return False
    if address.version == 6:
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo:
            embedded.append(address.teredo[1])
        if any(address in network for network in _EMBEDS_IPV4):
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return all(is_public(inner) for inner in embedded if inner is not None)
    return True


def check_peer(sock: socket.socket) -> None:
    """Raise UnsafeTarget if a connected socket reached a private address.

    check_url resolved the name before; the connection resolves it again, and a
    name can answer differently the second time (DNS rebinding). So the address
    actually connected to is checked before a byte of the request is sent.
    """
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return
    address = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
    if not is_public(address):
        raise UnsafeTarget(
            f"The receiver's address changed to a private or local one ({address}); "
            "webhooks only go to public hosts."
        )
