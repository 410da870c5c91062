"""Leaked and resold codes: a code redeemed from many unrelated networks in a burst.

A personal invite travels from one person to a few friends; a code posted on
a forum or sold brings in strangers from everywhere at once. The rule (per
campaign, defaults in Campaign): a code with more than one use that takes
`leak_redemptions` redemptions from at least `leak_networks` distinct /24
(IPv6 /64) networks within `leak_window_minutes` is frozen right after the
redemption that trips it. Public codes (`invite_codes --public`, the
dashboard's seed form) are meant to travel and are never frozen.

`freeze_if_leaked` runs inside the redemption's transaction while it holds
the invite's row lock (the claim's UPDATE), so concurrent redemptions of one
code are counted one after another: 40 racers from 40 networks cannot all
slip past the threshold, and the ones after the freeze are refused by the
claim itself (Invite.objects.redeemable() excludes frozen codes).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from . import outbox
from .models import Invite, InviteEvent, Redemption


def freeze_if_leaked(*, invite: Invite, now: datetime) -> bool:
    """Freeze `invite` if its recent redemptions trip the campaign's rule; True if it did."""
    if invite.max_uses <= 1:
        return False  # a personal one-use invite: nothing to count, no query
    campaign = invite.campaign
    if not campaign.leak_redemptions:
        return False
    public, unfrozen_at = Invite.objects.values_list("is_public", "unfrozen_at").get(pk=invite.pk)
    if public:
        return False
    since = now - timedelta(minutes=campaign.leak_window_minutes)
    if unfrozen_at and unfrozen_at > since:
        since = unfrozen_at  # a marketer's unfreeze starts the count afresh
    recent = list(
        Redemption.objects.filter(invite=invite, redeemed_at__gte=since).values_list(
            "signup_network", flat=True
        )
    )
    networks = {n for n in recent if n}
    if len(recent) < campaign.leak_redemptions or len(networks) < campaign.leak_networks:
        return False
    if not Invite.objects.filter(pk=invite.pk, frozen_at__isnull=True).update(frozen_at=now):
        return False
    invite.frozen_at = now
    InviteEvent.objects.create(invite=invite, kind=InviteEvent.Kind.FROZEN, at=now)
    outbox.queue_code_frozen(invite=invite, networks=len(networks), redemptions=len(recent))
    return True


def unfreeze(*, invite: Invite, now: datetime) -> bool:
    """A marketer lets a frozen code take signups again; False if it was not frozen."""
    with transaction.atomic():
        if not Invite.objects.filter(pk=invite.pk, frozen_at__isnull=False).update(
            frozen_at=None, unfrozen_at=now
        ):
            return False
        InviteEvent.objects.create(invite=invite, kind=InviteEvent.Kind.UNFROZEN, at=now)
    invite.frozen_at, invite.unfrozen_at = None, now
    return True


def recent_redemptions(invite: Invite, *, limit: int = 50) -> list[tuple[datetime, str]]:
    """When and from which network the code was redeemed lately, newest first (the evidence)."""
    return list(
        Redemption.objects.filter(invite=invite)
        .order_by("-redeemed_at")
        .values_list("redeemed_at", "signup_network")[:limit]
    )
