"""Throttling of invite-code guesses, per client (IPv6 clients grouped by /64).

django-ratelimit keeps the counters in the cache with atomic increments
(Redis in production). Only failed guesses count; a client past the limit
gets HTTP 429 for every code until the window passes.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

GROUP = "invite-code-guess"


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies saw, from X-Forwarded-For."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [
            h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()
        ]
        if len(hops) >= proxies and _is_address(hops[-proxies]):
            return hops[-proxies]
    # No (or a mangled) forwarded address: the peer we see, never a 500 downstream.
    return request.META["REMOTE_ADDR"]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _usage(request: HttpRequest, increment: bool):
    return get_usage(
        request, group=GROUP, key="ip", rate=settings.INVITE_GUESS_RATE, increment=increment
    )


def is_throttled(request: HttpRequest) -> bool:
    """True when this client has used up its failed guesses for now."""
    usage = _usage(request, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])


def record_failed_guess(request: HttpRequest) -> None:
    _usage(request, increment=True)
