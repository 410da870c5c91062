"""Throttling of invite-code guesses: codes that name no invite, per client and per code.

django-ratelimit keeps the counters in the cache with atomic increments
(Redis in production). Two counters: one per client network (IPv6 grouped
by /64; INVITE_GUESS_RATE_CLIENT, generous, for an office or a campus) and
one per client and code prefix (INVITE_GUESS_RATE: someone retyping one
code). Only unknown codes count, and past a limit only unknown codes get
HTTP 429: a code that names an invite is always answered, so one person's
typos never lock their colleagues out.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from . import codes

GROUP = "invite-code-guess"
PREFIX = 5  # symbols of a code that name "the same code, retyped"


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


def _usage(request: HttpRequest, *, code: str, increment: bool):
    """The client's and the (client, code prefix) counters of unknown codes."""
    from django_ratelimit.core import _SIMPLE_KEYS

    network = _SIMPLE_KEYS["ip"](request)  # the client's /64 for IPv6 (RATELIMIT_IPV6_MASK)
    client = get_usage(
        request, group=GROUP, key="ip", rate=settings.INVITE_GUESS_RATE_CLIENT, increment=increment
    )
    prefix = codes.normalize(code)[:PREFIX] or "-"
    per_code = get_usage(
        request,
        group=f"{GROUP}-prefix",
        key=lambda group, request: f"{network}:{prefix}",
        rate=settings.INVITE_GUESS_RATE,
        increment=increment,
    )
    return client, per_code


def _over(usage, *, counted: bool) -> bool:
    if not usage:
        return False
    return usage["count"] > usage["limit"] if counted else usage["count"] >= usage["limit"]


def is_throttled(request: HttpRequest, code: str = "") -> bool:
    """Has this client (or this client retyping this code) used up its unknown codes for now?"""
    client, per_code = _usage(request, code=code, increment=False)
    return _over(client, counted=False) or _over(per_code, counted=False)


def record_unknown_code(request: HttpRequest, code: str = "") -> bool:
    """Count one code that names no invite; True when that took this client past a limit.

    Only unknown codes count: a used-up, expired, revoked or frozen code is a
    real invite with its own message, and a valid code is always accepted,
    throttled or not (a code has 75 random bits, so answering "it exists"
    helps no guesser; what the limit stops is noise and load).
    """
    client, per_code = _usage(request, code=code, increment=True)
    return _over(client, counted=True) or _over(per_code, counted=True)


PROBE_GROUP = "signup-address-probe"


def _probe_usage(request: HttpRequest, increment: bool):
    return get_usage(
        request, group=PROBE_GROUP, key="ip", rate=settings.SIGNUP_PROBE_RATE, increment=increment
    )


def record_address_probe(request: HttpRequest) -> None:
    """Count a signup with an address that already has an account (it made nothing)."""
    _probe_usage(request, increment=True)


def probes_exceeded(request: HttpRequest) -> bool:
    """Has this client tried too many registered addresses? Then every signup waits: answering
    only those would tell which addresses are registered."""
    usage = _probe_usage(request, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])
