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
        if not address.is_global or address.is_multicast:
            raise UnsafeTarget(
                f"{parts.hostname} resolves to a private or local address ({address}); "
                "webhooks only go to public hosts."
            )
