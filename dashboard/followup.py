"""After a seed import: where each imported person is, and a resend for those who never opened.

Each person's stage is the furthest they got, read from the rows that
record it (no figure of its own to drift):

    queued → sent → opened → joined → active       (or: not delivered)

- queued: the invite e-mail is waiting in the outbox (or being retried);
- not delivered: the outbox gave up (a permanent SMTP error) or skipped it
  (the address asked for no invites);
- sent: the e-mail went out, nobody opened the invite page or used the code;
- opened: someone opened the invite page (mail scanners too: an "opened"
  without a join is a hint, not a fact);
- joined: the code was used; active: the person who joined became active.

A resend goes to people at "sent" whose invite is still open, by the same
rules as a member's resend (`referrals.emails`: once a day, three e-mails
per invite at most, never to an opted-out address).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone

from referrals import emails, outbox
from referrals.models import (
    DoNotInvite,
    ImportJob,
    Invite,
    InviteEvent,
    OutboundEmail,
    Redemption,
    invite_status,
)

from .exports import csv_lines, iso_time, safe_cell

STAGES = ["queued", "not delivered", "sent", "opened", "joined", "active"]
_UNDELIVERED = {OutboundEmail.Status.FAILED, OutboundEmail.Status.SKIPPED}
_CHUNK = 1000


@dataclass(frozen=True)
class Person:
    invite_id: int
    name: str
    email: str
    stage: str
    invite: str  # the invite's status: open, redeemed, expired, revoked, frozen
    emails_sent: int
    last_email_at: datetime | None
    joined_at: datetime | None
    join_number: int | None
    activated_at: datetime | None

    @property
    def can_resend(self) -> bool:
        return self.stage == "sent" and self.invite == "open"


def _invite_emails():
    return OutboundEmail.objects.filter(invite=OuterRef("pk"), kind=OutboundEmail.Kind.INVITE)


def _annotated(job: ImportJob):
    latest = _invite_emails().order_by("-created_at", "-id")
    redemption = Redemption.objects.filter(invite=OuterRef("pk")).order_by("id")
    return (
        Invite.objects.filter(import_job=job)
        .order_by("id")
        .annotate(
            was_opened=Exists(
                InviteEvent.objects.filter(invite=OuterRef("pk"), kind=InviteEvent.Kind.OPENED)
            ),
            email_status=Subquery(latest.values("status")[:1]),
            was_sent=Exists(_invite_emails().filter(status=OutboundEmail.Status.SENT)),
            last_email_at=Subquery(latest.values("created_at")[:1]),
            emails_sent=Subquery(
                _invite_emails().order_by().values("invite").annotate(n=Count("id")).values("n")
            ),
            joined_at=Subquery(redemption.values("redeemed_at")[:1]),
            join_number=Subquery(redemption.values("member__join_number")[:1]),
            activated_at=Subquery(redemption.values("member__activated_at")[:1]),
        )
    )


def _stage(row: Invite) -> str:
    if row.activated_at:
        return "active"
    if row.uses:
        return "joined"
    if row.was_opened:
        return "opened"
    if row.was_sent:  # a resend still queued does not undo the first e-mail
        return "sent"
    if row.email_status in _UNDELIVERED:
        return "not delivered"
    return "queued"


def people(job: ImportJob, *, stage: str = "") -> Iterator[Person]:
    """Everyone the import invited, in file order; only those at `stage` if given."""
    now = timezone.now()
    last = 0
    while True:
        rows = list(_annotated(job).filter(id__gt=last)[:_CHUNK])
        for row in rows:
            person = Person(
                invite_id=row.pk,
                name=row.recipient_name,
                email=row.recipient_email,
                stage=_stage(row),
                invite=invite_status(
                    uses=row.uses,
                    max_uses=row.max_uses,
                    expires_at=row.expires_at,
                    revoked_at=row.revoked_at,
                    now=now,
                    frozen_at=row.frozen_at,
                ),
                emails_sent=row.emails_sent or 0,
                last_email_at=row.last_email_at,
                joined_at=row.joined_at,
                join_number=row.join_number,
                activated_at=row.activated_at,
            )
            if not stage or person.stage == stage:
                yield person
        if len(rows) < _CHUNK:
            return
        last = rows[-1].pk


@dataclass(frozen=True)
class Summary:
    stages: dict[str, int]  # every stage, in STAGES order, with its count
    resendable: int  # at "sent", open, and may be resent now
    resend_later: int  # at "sent" and open, but e-mailed less than a day ago
    resend_used_up: int  # at "sent" and open, but e-mailed three times already

    @property
    def total(self) -> int:
        return sum(self.stages.values())


def summary(job: ImportJob) -> Summary:
    """How many people are at each stage, and how many a resend would reach now."""
    counts: Counter = Counter()
    resend: Counter = Counter()
    for person in people(job):
        counts[person.stage] += 1
        if person.can_resend:
            resend[_resend_rule(person)] += 1
    return Summary(
        stages={stage: counts[stage] for stage in STAGES},
        resendable=resend["now"],
        resend_later=resend["later"],
        resend_used_up=resend["used up"],
    )


def _resend_rule(person: Person, now=None) -> str:
    if person.emails_sent >= emails.MAX_SENDS_PER_INVITE:
        return "used up"
    now = now or timezone.now()
    if person.last_email_at and person.last_email_at > now - emails.RESEND_AFTER:
        return "later"
    return "now"


def resend_unopened(job: ImportJob) -> int:
    """Queue the invite again for everyone at "sent" whose invite is open; how many.

    The job's row is locked, so a form posted twice (or two marketers) send
    one round: the second finds every e-mail less than a day old.
    """
    with transaction.atomic():
        ImportJob.objects.select_for_update().get(pk=job.pk)
        due = [p for p in people(job, stage="sent") if p.can_resend and _resend_rule(p) == "now"]
        opted_out = set(
            DoNotInvite.objects.filter(email__in=[p.email.lower() for p in due]).values_list(
                "email", flat=True
            )
        )
        rows = OutboundEmail.objects.bulk_create(
            [
                OutboundEmail(
                    key=f"invite:{p.invite_id}:{p.emails_sent + 1}",
                    kind=OutboundEmail.Kind.INVITE,
                    to_email=p.email,
                    invite_id=p.invite_id,
                )
                for p in due
                if p.email.lower() not in opted_out
            ],
            batch_size=500,
        )
        for row in rows:
            outbox.enqueue_delivery(row.pk)
    return len(rows)


def people_csv(job: ImportJob) -> Iterator[str]:
    """Every imported person with their stage, streamed (formulas kept as text)."""
    header = [
        "name",
        "email",
        "status",
        "invite",
        "emails_sent",
        "last_email_at",
        "joined_at",
        "member_number",
        "activated_at",
    ]
    rows = (
        (
            safe_cell(p.name),
            safe_cell(p.email),
            p.stage,
            p.invite,
            p.emails_sent,
            iso_time(p.last_email_at),
            iso_time(p.joined_at),
            p.join_number or "",
            iso_time(p.activated_at),
        )
        for p in people(job)
    )
    return csv_lines(header, rows)
