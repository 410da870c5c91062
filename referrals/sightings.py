"""Where an inviter has been seen: the networks of their recent sessions, and their own links.

Two signals of risk-scored credit (referrals.credit) look back at the
inviter rather than at the invitee:

- the networks (/24 or /64) the inviter's signed-in sessions came from in
  the last RECENT days, noted by the visit middleware at most once a day per
  session and network (one upsert), and forgotten after RECENT days;
- the browser: an inviter who opens their own invite link while logged in
  gets a signed cookie naming them, which survives logging out, so a signup
  from that browser with their code is "the inviter redeeming their own link".
"""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.utils import timezone

from .models import SeenNetwork

RECENT = timedelta(days=30)
OWN_LINK_COOKIE = "passalong_own_link"
_SALT = "referrals.sightings.own-link"
_MAX_OPENERS = 8  # a shared family computer, at most


def is_local(network: str) -> bool:
    """The same machine (a dev server, a misconfigured proxy): no place to tell people apart."""
    return network.startswith(("127.", "::1"))


def note_network(*, user, network: str, today: date | None = None) -> bool:
    """Remember that `user` was seen on `network` (networks.network_of) today; False if local."""
    if not network or is_local(network):
        return False
    SeenNetwork.objects.bulk_create(
        [SeenNetwork(user=user, network=network, last_seen_on=today or timezone.localdate())],
        update_conflicts=True,
        unique_fields=["user", "network"],
        update_fields=["last_seen_on"],
    )
    return True


def seen_on(*, user_id: int, network: str, today: date | None = None):
    """The day `user_id` was last seen on `network` within RECENT days, or None."""
    since = (today or timezone.localdate()) - RECENT
    return (
        SeenNetwork.objects.filter(user_id=user_id, network=network, last_seen_on__gte=since)
        .values_list("last_seen_on", flat=True)
        .first()
    )


def forget_old(*, today: date | None = None) -> int:
    """Delete sightings older than RECENT days (they are personal data); how many."""
    since = (today or timezone.localdate()) - RECENT
    deleted, _ = SeenNetwork.objects.filter(last_seen_on__lt=since).delete()
    return deleted


@shared_task(name="referrals.tasks.forget_old_sightings", ignore_result=True)
def forget_old_sightings() -> int:
    """Task (daily): forget_old."""
    return forget_old()


def own_link_openers(request) -> frozenset[int]:
    """The members who opened their own invite link while logged in on this browser."""
    if request is None:
        return frozenset()
    try:
        value = request.get_signed_cookie(OWN_LINK_COOKIE, salt=_SALT, max_age=RECENT)
    except (KeyError, signing.BadSignature):
        return frozenset()
    return frozenset(int(part) for part in value.split(",") if part.isdigit())


def mark_own_link_opened(request, response, *, member_id: int) -> None:
    """Note on this browser that `member_id` opened their own invite link while logged in."""
    openers = own_link_openers(request)
    if member_id in openers:
        return
    kept = sorted(openers | {member_id})[-_MAX_OPENERS:]
    response.set_signed_cookie(
        OWN_LINK_COOKIE,
        ",".join(map(str, kept)),
        salt=_SALT,
        max_age=int(RECENT.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
