"""Waitlist rules: requests, confirmation, the queue's order, referrals that move you up.

The order is strict: each confirmation claims the next number under the
campaign's settings row lock (no duplicates, no gaps), and a requester's
place is (rank, boost descending, number) with rank = number minus their
referral boost. A
position is counted, never stored, so admitting or boosting one person
moves everyone behind them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone

from referrals import outbox
from referrals.addresses import normalize_email
from referrals.models import Campaign, OutboundEmail

from .models import Entry, Nomination, WaitlistSettings

RESEND_AFTER = timedelta(minutes=10)  # a second request re-sends its e-mail at most this often


@dataclass(frozen=True)
class Requested:
    """What a request did. The page says the same whatever it is; only the e-mail differs."""

    # "queued", "resent", "waiting" (sent recently), "member", "closed", "opted-out", "limit"
    outcome: str
    entry: Entry | None = None


def link(path: str) -> str:
    return settings.SITE_URL + path


def request_invite(
    *, campaign: Campaign, email: str, note: str = "", blog_url: str = "", ref: str = ""
) -> Requested:
    """Ask for an invite to `campaign`; the confirmation link goes out through the outbox."""
    now = timezone.now()
    rules = WaitlistSettings.of(campaign)
    address = normalize_email(email)
    if _has_account(address):
        # Told to log in, by e-mail only: the page answers as for anyone.
        day = now.date().isoformat()
        outbox.queue_message(
            key=f"waitlist_member:{campaign.pk}:{address}:{day}",
            kind=OutboundEmail.Kind.WAITLIST_MEMBER,
            to_email=address,
            payload={"campaign_name": campaign.name, "login_link": link(reverse("account_login"))},
        )
        return Requested("member")
    if not rules.is_open:
        return Requested("closed")
    if outbox.is_opted_out(address):
        return Requested("opted-out")  # never mailed, and nothing kept about them
    referrer = Entry.objects.filter(campaign=campaign, ref_code=ref).first() if ref else None
    try:
        with transaction.atomic():
            entry = Entry.objects.create(
                campaign=campaign,
                email=address,
                note=note,
                blog_url=blog_url,
                referred_by=referrer,
            )
        created = True
    except IntegrityError:  # this address asked before (or at the same moment)
        entry = Entry.objects.get(campaign=campaign, email=address)
        created = False
    if not created and entry.confirm_sent_at and entry.confirm_sent_at > now - RESEND_AFTER:
        return Requested("waiting", entry)
    if not send_confirmation(entry=entry, rules=rules, now=now):
        return Requested("limit", entry)
    return Requested("queued" if created else "resent", entry)


def _has_account(address: str) -> bool:
    return (
        EmailAddress.objects.filter(email__iexact=address).exists()
        or get_user_model().objects.filter(email__iexact=address).exists()
    )


def send_confirmation(*, entry: Entry, rules: WaitlistSettings, now: datetime) -> bool:
    """Queue the e-mail with the confirmation link (or, once confirmed, the page's link).

    False when the campaign's daily waitlist e-mail limit is reached: the
    request stays, and the sweep sends it when the limit allows.
    """
    with transaction.atomic():
        # The settings row's lock counts this campaign's sends one at a time.
        WaitlistSettings.objects.select_for_update().filter(pk=rules.pk).first()
        sent_today = Entry.objects.filter(
            campaign_id=entry.campaign_id, confirm_sent_at__gt=now - timedelta(days=1)
        ).count()
        if sent_today >= rules.daily_email_limit:
            return False
        Entry.objects.filter(pk=entry.pk).update(confirm_sent_at=now)
        entry.confirm_sent_at = now
        path = (
            reverse("waitlist_page", args=[entry.token])
            if entry.is_confirmed
            else reverse("waitlist_confirm", args=[entry.token])
        )
        outbox.queue_message(
            key=f"waitlist_confirm:{entry.pk}:{now.timestamp():.6f}",
            kind=OutboundEmail.Kind.WAITLIST_CONFIRM,
            to_email=entry.email,
            payload={
                "campaign_name": entry.campaign.name,
                "link": link(path),
                "confirmed": entry.is_confirmed,
            },
        )
    return True


def confirm(*, entry: Entry) -> bool:
    """Confirm the address: the next place in the queue; True if this call confirmed it."""
    with transaction.atomic():
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if locked.confirmed_at:
            return False
        rules = WaitlistSettings.of(locked.campaign)
        WaitlistSettings.objects.filter(pk=rules.pk).update(last_sequence=F("last_sequence") + 1)
        # Our UPDATE holds the settings row's lock, so this number is ours alone.
        number = WaitlistSettings.objects.values_list("last_sequence", flat=True).get(pk=rules.pk)
        referrals = locked.referrals.filter(confirmed_at__isnull=False).count()
        now = timezone.now()
        boost = _boost(rules, referrals, locked.vouches)
        Entry.objects.filter(pk=locked.pk).update(
            confirmed_at=now,
            sequence=number,
            confirmed_referrals=referrals,
            boost=boost,
            rank=number - boost,
        )
        if locked.referred_by_id:
            # A confirmed referral moves a confirmed referrer up, within the campaign's limit.
            Entry.objects.filter(pk=locked.referred_by_id).update(
                confirmed_referrals=F("confirmed_referrals") + 1
            )
            rerank(entry_id=locked.referred_by_id, rules=rules)
    entry.refresh_from_db()
    return True


def _boost(rules: WaitlistSettings, referrals: int, vouches: int = 0) -> int:
    gained = referrals * rules.places_per_referral + vouches * rules.places_per_vouch
    return min(gained, rules.max_boost)


def rerank(*, entry_id: int, rules: WaitlistSettings) -> None:
    """Recompute a confirmed entry's boost and rank from its counts (one UPDATE)."""
    gained = Least(
        F("confirmed_referrals") * rules.places_per_referral
        + F("vouches") * rules.places_per_vouch,
        rules.max_boost,
    )
    Entry.objects.filter(pk=entry_id, sequence__isnull=False).update(
        boost=gained, rank=F("sequence") - gained
    )


class CannotVouch(Exception):
    """Why a member may not vouch (in words for them)."""


def vouch(*, member, entry: Entry, show_name: bool = False) -> bool:
    """`member` vouches for `entry`: it moves up; True if this is a new vouch."""
    if member.campaign_id != entry.campaign_id:
        raise CannotVouch("You can vouch only for people waiting for your own campaign.")
    if member.banned_at or member.user_id is None:
        raise CannotVouch("You can't vouch for anyone.")
    if entry.admitted_at:
        raise CannotVouch("They have been let in already.")
    try:
        with transaction.atomic():
            Nomination.objects.create(entry=entry, member=member, show_name=show_name)
            Entry.objects.filter(pk=entry.pk).update(vouches=F("vouches") + 1)
            rerank(entry_id=entry.pk, rules=WaitlistSettings.of(entry.campaign))
    except IntegrityError:
        return False  # vouched before (a double click)
    return True


def vouchers_shown(entry: Entry) -> tuple[list[str], int]:
    """The names of nominators who allow it, and how many others vouched."""
    rows = list(entry.nominations.select_related("member__user").order_by("created_at"))
    names = [n.member.name for n in rows if n.show_name]
    return names, len(rows) - len(names)


def position(entry: Entry) -> int | None:
    """1-based place among the campaign's confirmed, not yet admitted requests; None otherwise."""
    if entry.sequence is None or entry.admitted_at:
        return None
    # The order is (rank, boost first, number): moving up N places puts you
    # ahead of everyone who holds your new place.
    ahead = (
        Entry.objects.waiting()
        .filter(campaign_id=entry.campaign_id)
        .filter(
            Q(rank__lt=entry.rank)
            | Q(rank=entry.rank, boost__gt=entry.boost)
            | Q(rank=entry.rank, boost=entry.boost, sequence__lt=entry.sequence)
        )
        .count()
    )
    return ahead + 1


def forget_unconfirmed(*, now: datetime | None = None) -> int:
    """Delete unconfirmed requests older than their campaign allows, with their data; how many."""
    now = now or timezone.now()
    deleted = 0
    for rules in WaitlistSettings.objects.all():
        gone, _ = Entry.objects.filter(
            campaign_id=rules.campaign_id,
            confirmed_at__isnull=True,
            created_at__lt=now - timedelta(days=rules.unconfirmed_days),
        ).delete()
        deleted += gone
    return deleted


def send_held_confirmations(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Send the confirmations the daily limit held back, as it allows again; how many."""
    now = now or timezone.now()
    sent = 0
    held = Entry.objects.filter(confirmed_at__isnull=True, confirm_sent_at__isnull=True)
    for entry in held.select_related("campaign").order_by("id")[:limit]:
        if not send_confirmation(entry=entry, rules=WaitlistSettings.of(entry.campaign), now=now):
            continue
        sent += 1
    return sent


@shared_task(name="waitlist.tasks.sweep_waitlist", ignore_result=True)
def sweep_waitlist() -> int:
    """Periodic: confirmations the daily limit held back; unconfirmed requests that expired."""
    return send_held_confirmations() + forget_unconfirmed()


WAITING_COUNT_SECONDS = 5


def waiting_count(campaign) -> int:
    """How many confirmed requests wait; counted at most once per 5 s per campaign (cached),
    so any number of open dashboards cost one count."""
    key = f"waitlist:waiting:{campaign.pk}"
    found = cache.get(key)
    if found is None:
        found = Entry.objects.waiting().filter(campaign=campaign).count()
        cache.set(key, found, WAITING_COUNT_SECONDS)
    return found
