"""Letting waitlisted people in: waves a marketer releases, and the pool members donate to.

Each admission is once: the entry's row is locked and its `admitted_at` set
in the transaction that makes its one-use code and queues its e-mail. A
wave is run under its own row lock, so a wave started twice at once (or by
the periodic sweep while a marketer clicks) admits at most its size, and
the database's CHECK says the same. Waitlist e-mails, confirmations and
admissions together, stay within the campaign's daily limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.celery import enqueue_on_commit
from referrals import errors, outbox
from referrals import services as referrals
from referrals.models import Campaign, Invite, Member, OutboundEmail

from .models import Donation, Entry, WaitlistSettings, Wave

DAY = timedelta(days=1)


def emails_sent_today(campaign_id: int, now: datetime) -> int:
    """The campaign's waitlist e-mails in the last 24 hours: confirmations and admissions."""
    since = now - DAY
    return (
        Entry.objects.filter(campaign_id=campaign_id, confirm_sent_at__gt=since).count()
        + Entry.objects.filter(campaign_id=campaign_id, admitted_at__gt=since).count()
    )


def queue(wave: Wave):
    """The entries a wave would admit next, in its order."""
    waiting = Entry.objects.waiting().filter(campaign_id=wave.campaign_id)
    if wave.order == Wave.Order.PICKED:
        waiting = waiting.filter(pk__in=wave.picked or [])
    if wave.order == Wave.Order.REFERRALS:
        return waiting.order_by("-confirmed_referrals", "rank", "-boost", "sequence")
    return waiting.order_by("rank", "-boost", "sequence")


def run_wave(*, wave_id: int, now: datetime | None = None) -> int:
    """Admit what `wave` may admit now (its size, its daily pace, the e-mail limit); how many."""
    now = now or timezone.now()
    with transaction.atomic():
        wave = Wave.objects.select_for_update().select_related("campaign").get(pk=wave_id)
        if wave.finished_at:
            return 0
        budget = wave.size - wave.admitted
        if wave.per_day:
            today = Entry.objects.filter(wave=wave, admitted_at__gt=now - DAY).count()
            budget = min(budget, wave.per_day - today)
        rules = WaitlistSettings.of(wave.campaign)
        budget = min(budget, rules.daily_email_limit - emails_sent_today(wave.campaign_id, now))
        admitted = 0
        if budget > 0:
            for entry_id in queue(wave).values_list("pk", flat=True)[:budget]:
                outcome = _admit(entry_id=entry_id, wave=wave, now=now)
                if outcome == "dry":
                    break  # the pool is empty: the wave waits for donations
                admitted += outcome == "admitted"
        Wave.objects.filter(pk=wave.pk).update(admitted=F("admitted") + admitted)
        wave.admitted += admitted
        nobody_left = not queue(wave).exists()
        if wave.admitted >= wave.size or nobody_left:
            Wave.objects.filter(pk=wave.pk).update(finished_at=now)
    return admitted


def _admit(*, entry_id: int, wave: Wave, now: datetime) -> str:
    """Let one waiting person in with a personal one-use code: "admitted", "skipped"
    (another wave was first) or "dry" (the pool has no seat left)."""
    entry = Entry.objects.select_for_update().get(pk=entry_id)
    if entry.admitted_at:
        return "skipped"
    inviter = None
    if wave.source == Wave.Source.POOL:
        invite = _invite_from_pool(wave.campaign, entry.email)
        if invite is None:
            return "dry"
        inviter = invite.owner
    else:
        invite = _invite_from_nominator(entry)
        if invite is not None:
            inviter = invite.owner
        else:
            [invite] = referrals.create_seed_codes(campaign=wave.campaign, count=1, uses=1)
            Invite.objects.filter(pk=invite.pk).update(recipient_email=entry.email)
    Entry.objects.filter(pk=entry.pk).update(admitted_at=now, wave=wave, invite=invite)
    outbox.queue_message(
        key=f"waitlist_admitted:{entry.pk}",
        kind=OutboundEmail.Kind.WAITLIST_ADMITTED,
        to_email=entry.email,
        payload={
            "campaign_name": wave.campaign.name,
            "link": invite.absolute_link(),
            "code": invite.display_code,
            "inviter_name": inviter.name if inviter else "",
        },
    )
    return "admitted"


def _invite_from_nominator(entry: Entry) -> Invite | None:
    """An invite from the first member who vouched for `entry` and still has one to give."""
    for nomination in entry.nominations.select_related("member__user", "member__campaign").order_by(
        "created_at", "id"
    ):
        try:
            return referrals.create_invite(member=nomination.member, recipient_email=entry.email)
        except (errors.NoInvitesLeft, errors.InvitingRevoked):
            continue
    return None


def _invite_from_pool(campaign: Campaign, email: str) -> Invite | None:
    """One seat from the oldest donation that still has one, as the donor's own invite."""
    for donation in (
        Donation.objects.filter(campaign=campaign, seats_left__gt=0)
        .order_by("created_at", "id")
        .select_related("member__user", "member__campaign")[:20]
    ):
        if not Donation.objects.filter(pk=donation.pk, seats_left__gt=0).update(
            seats_left=F("seats_left") - 1
        ):
            continue  # someone took its last seat
        try:
            return referrals.issue_set_aside_invite(member=donation.member, recipient_email=email)
        except errors.InvitingRevoked:
            # A donor who may no longer invite: the seat stays theirs, frozen with their quota.
            referrals.give_back_seats(member=donation.member, seats=1)
            continue
    return None


def start_wave(
    *, campaign: Campaign, size: int, order: str, source: str, per_day: int, picked, by
) -> Wave:
    """Record a wave and run it (in a task once committed; in-process if the broker is down)."""
    wave = Wave.objects.create(
        campaign=campaign,
        size=size,
        order=order,
        source=source,
        per_day=per_day,
        picked=list(picked or []),
        created_by=by,
    )
    enqueue_on_commit(run_wave_task, wave.pk, what=f"wave {wave.pk}", inline_if_down=True)
    return wave


# --- The pool ----------------------------------------------------------------------


class TooFewInvites(Exception):
    """The member has fewer unused invites than they tried to give."""


def donate(*, member: Member, seats: int) -> Donation:
    """Give `seats` of `member`'s unused invites to their campaign's pool."""
    with transaction.atomic():
        if seats < 1 or not referrals.set_aside_seats(member=member, seats=seats):
            raise TooFewInvites()
        return Donation.objects.create(
            member=member, campaign_id=member.campaign_id, seats=seats, seats_left=seats
        )


def take_back(*, donation: Donation) -> int:
    """Return what is left of a donation to its donor's invites; how many came back."""
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        back = locked.seats_left
        if back:
            Donation.objects.filter(pk=locked.pk).update(seats_left=0)
            referrals.give_back_seats(member=locked.member, seats=back)
    return back


def pool_seats(campaign: Campaign) -> int:
    return sum(
        Donation.objects.filter(campaign=campaign, seats_left__gt=0).values_list(
            "seats_left", flat=True
        )
    )


# --- Tasks -------------------------------------------------------------------------


@shared_task(name="waitlist.tasks.run_wave", ignore_result=True)
def run_wave_task(wave_id: int) -> int:
    return run_wave(wave_id=wave_id)


@shared_task(name="waitlist.tasks.sweep_waves", ignore_result=True)
def sweep_waves() -> int:
    """Periodic: paced waves take their next day's share; waves whose task was lost run."""
    ids = Wave.objects.filter(finished_at__isnull=True).values_list("pk", flat=True)
    return sum(run_wave(wave_id=pk) for pk in ids)
