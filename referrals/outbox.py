"""The e-mail outbox: rows written with their cause, delivered once by a task.

An e-mail is an OutboundEmail row written in the same transaction as its
cause, and a task enqueued on commit delivers it. Delivery claims the row
(pending -> sending, with a lease) with a conditional UPDATE, so a retry or
a second worker never sends it twice; a periodic sweep re-enqueues rows a
lost task left behind (a broker that was down, a worker killed mid-task).
The do-not-invite list lives here too: delivery checks it at the last moment.
Invites by e-mail (what a member asks for) are in emails.py.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from config.celery import enqueue_on_commit

from .addresses import normalize_email
from .models import DoNotInvite, InviteEvent, Member, OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=2)
RETRY_FIRST = timedelta(seconds=30)
_OPTOUT_SALT = "passalong.dont-invite"


def lease() -> timedelta:
    """How long a worker holds an e-mail before the sweep may give it to another."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


# --- Do not invite ----------------------------------------------------------------


def is_opted_out(address: str) -> bool:
    return DoNotInvite.objects.filter(email=normalize_email(address)).exists()


def optout_token(address: str) -> str:
    return signing.dumps(normalize_email(address), salt=_OPTOUT_SALT, compress=True)


def optout_address(token: str) -> str | None:
    try:
        return signing.loads(token, salt=_OPTOUT_SALT)
    except signing.BadSignature:
        return None


def opt_out(*, address: str) -> None:
    """Record that nobody may invite `address` again (safe to call twice)."""
    DoNotInvite.objects.get_or_create(email=normalize_email(address))


# --- Notices to inviters ---------------------------------------------------------


def queue_code_frozen(*, invite, networks: int, redemptions: int) -> OutboundEmail | None:
    """Tell a member their code was frozen as leaked (seed codes: marketers see the queue)."""
    owner = invite.owner
    if owner is None or owner.user_id is None or not owner.user.email:
        return None
    try:
        with transaction.atomic():
            row = OutboundEmail.objects.create(
                # Once per freeze: an unfrozen code that leaks again is news again.
                key=f"code_frozen:{invite.pk}:{int(invite.frozen_at.timestamp())}",
                kind=OutboundEmail.Kind.CODE_FROZEN,
                to_email=owner.user.email,
                sender=owner,
                invite=invite,
            )
    except IntegrityError:
        return None
    enqueue_delivery(row.pk)
    return row


def queue_moderation_notice(*, action) -> OutboundEmail | None:
    """Tell a member what a moderator did about them, and why."""
    member = action.target
    if member.user_id is None or not member.user.email:
        return None
    row = OutboundEmail.objects.create(
        key=f"moderation:{action.pk}",
        kind=OutboundEmail.Kind.MODERATION,
        to_email=member.user.email,
        subject_member=member,
        moderation=action,
    )
    enqueue_delivery(row.pk)
    return row


def queue_invitee_banned(*, action) -> OutboundEmail | None:
    """Tell an inviter that a moderator banned one of their direct invitees."""
    inviter = action.target.inviter
    if inviter is None or inviter.user_id is None or not inviter.user.email:
        return None
    row = OutboundEmail.objects.create(
        key=f"invitee_banned:{action.pk}",
        kind=OutboundEmail.Kind.INVITEE_BANNED,
        to_email=inviter.user.email,
        sender=inviter,
        subject_member=action.target,
        moderation=action,
    )
    enqueue_delivery(row.pk)
    return row


def queue_message(*, key: str, kind: str, to_email: str, payload: dict) -> OutboundEmail | None:
    """Queue one e-mail a consumer writes (its template is emails/<kind>); once per `key`.

    Nothing goes to an address on the do-not-invite list. A second call with
    the same key (a form posted twice) queues nothing.
    """
    if is_opted_out(to_email):
        return None
    try:
        with transaction.atomic():
            row = OutboundEmail.objects.create(
                key=key[:80], kind=kind, to_email=to_email, payload=payload
            )
    except IntegrityError:
        return None
    enqueue_delivery(row.pk)
    return row


def queue_notice(*, kind: str, invitee: Member) -> OutboundEmail | None:
    """Tell `invitee`'s inviter that they joined or became active, if the inviter wants that."""
    inviter = invitee.inviter
    if inviter is None or inviter.user_id is None:
        return None
    user = inviter.user
    wanted = (
        user.email_on_join
        if kind == OutboundEmail.Kind.INVITEE_JOINED
        else user.email_on_activation
    )
    if not wanted or not user.email:
        return None
    try:
        with transaction.atomic():
            row = OutboundEmail.objects.create(
                key=f"{kind}:{invitee.pk}",
                kind=kind,
                to_email=user.email,
                sender=inviter,
                subject_member=invitee,
            )
    except IntegrityError:
        return None  # already queued: this notice exists once
    enqueue_delivery(row.pk)
    return row


def enqueue_delivery(outbox_id: int) -> None:
    """Queue delivery of one outbox row once the current transaction commits."""
    enqueue_on_commit(send_outbound_email, outbox_id, what=f"e-mail {outbox_id}")


# --- Delivery -----------------------------------------------------------------


def deliver(outbox_id: int) -> str:
    """Send one outbox e-mail unless someone else is; returns what happened.

    'sent', 'skipped' (opted out or invite no longer open), 'busy' (sent
    already or leased to another worker), 'retry' or 'failed' (gave up).
    """
    now = timezone.now()
    claimed = (
        OutboundEmail.objects.filter(pk=outbox_id)
        .filter(_deliverable(now))
        .update(
            status=OutboundEmail.Status.SENDING,
            locked_until=now + lease(),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return "busy"  # sent already, given up, or another worker holds the lease
    row = OutboundEmail.objects.select_related(
        "invite__campaign", "invite__owner__user", "sender__user", "subject_member__user"
    ).get(pk=outbox_id)
    if row.kind == OutboundEmail.Kind.INVITE and (
        is_opted_out(row.to_email) or row.invite.status != "open"
    ):
        _finish(row, OutboundEmail.Status.SKIPPED)
        return "skipped"
    # Our own connection, so that the row is marked sent between the server's
    # 250 for the message and our QUIT: a worker killed after the hand-off
    # leaves a sent row, which a redelivered task skips (only a kill inside
    # that millisecond can double a message; its stable Message-ID lets the
    # receiving side drop the copy).
    connection = get_connection()
    try:
        message = _message(row)
        message.connection = connection
        connection.open()
        message.send()
    except Exception as exc:  # SMTP and network errors of every kind
        _close_quietly(connection)
        # 4xx and network trouble are worth a retry; a 5xx answer will not change.
        failed = row.attempts >= MAX_ATTEMPTS or is_permanent(exc)
        OutboundEmail.objects.filter(pk=row.pk).update(
            status=OutboundEmail.Status.FAILED if failed else OutboundEmail.Status.PENDING,
            # A pending row's locked_until is "not before": the backoff holds
            # for the sweep and for a stray second task as well as for the retry.
            locked_until=None if failed else now + retry_delay(row.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return "failed" if failed else "retry"
    _finish(row, OutboundEmail.Status.SENT)
    if row.kind == OutboundEmail.Kind.INVITE:
        InviteEvent.objects.create(invite=row.invite, kind=InviteEvent.Kind.SENT)
    _close_quietly(connection)
    return "sent"


def _close_quietly(connection) -> None:
    """QUIT; the message's fate was settled before, so a failing goodbye changes nothing."""
    try:
        connection.close()
    except Exception:
        logger.warning("SMTP QUIT failed after a delivery", exc_info=True)


def is_permanent(error: Exception) -> bool:
    """An SMTP refusal that retrying cannot fix: a 5xx reply (RFC 5321 4.2.1)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def retry_delay(attempts: int) -> timedelta:
    """How long an e-mail waits after its `attempts`-th failed try: 30 s, 60 s, 120 s, ..."""
    return RETRY_FIRST * 2 ** max(attempts - 1, 0)


def seconds_until_retry(outbox_id: int) -> float:
    """When the task should try this row again (its backoff), in seconds from now."""
    due = OutboundEmail.objects.values_list("locked_until", flat=True).get(pk=outbox_id)
    return max((due - timezone.now()).total_seconds(), 0) + 1 if due else 0


def _deliverable(now) -> Q:
    """Rows a worker may claim now: pending and past any backoff, or a lease that ran out."""
    return Q(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
        status=OutboundEmail.Status.PENDING,
    ) | Q(status=OutboundEmail.Status.SENDING, locked_until__lt=now)


def _finish(row: OutboundEmail, status: str) -> None:
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=status, locked_until=None, sent_at=timezone.now(), last_error=""
    )


def _message(row: OutboundEmail) -> EmailMultiAlternatives:
    context = {"row": row, "site_url": settings.SITE_URL}
    if row.kind == OutboundEmail.Kind.INVITE:
        context |= {
            "invite": row.invite,
            "inviter": row.invite.owner,
            "link": row.invite.absolute_link(),
            "optout_link": settings.SITE_URL
            + reverse("dont_invite", args=[optout_token(row.to_email)]),
        }
    elif row.kind in (OutboundEmail.Kind.MODERATION, OutboundEmail.Kind.INVITEE_BANNED):
        context |= {
            "action": row.moderation,
            "member": row.subject_member,
            "invites_link": settings.SITE_URL + reverse("invites"),
        }
    elif row.payload:
        context |= row.payload
    elif row.kind == OutboundEmail.Kind.CODE_FROZEN:
        context |= {
            "invite": row.invite,
            "owner": row.sender,
            "invites_link": settings.SITE_URL + reverse("invites"),
        }
    else:
        context |= {
            "invitee": row.subject_member,
            "inviter": row.sender,
            "network_link": settings.SITE_URL + reverse("network"),
            "settings_link": settings.SITE_URL + reverse("settings"),
        }
    base = f"emails/{row.kind}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{base}.txt", context),
        to=[row.to_email],
        # A stable Message-ID lets receiving servers drop a duplicate if a
        # worker dies between handing the mail over and recording it.
        headers={"Message-ID": f"<outbox-{row.pk}.{row.key.replace(':', '-')}@passalong>"},
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return message


def stuck_ids(now=None) -> list[int]:
    """Outbox rows that no live task will deliver: pending too long, or a lease that ran out."""
    now = now or timezone.now()
    return list(
        OutboundEmail.objects.filter(_deliverable(now))
        .exclude(status=OutboundEmail.Status.PENDING, created_at__gte=now - STUCK_AFTER)
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    )


# --- Tasks (beside what they run; names kept from referrals.tasks for queued messages) ---


@shared_task(
    name="referrals.tasks.send_outbound_email",
    bind=True,
    ignore_result=True,
    max_retries=MAX_ATTEMPTS,
)
def send_outbound_email(self, outbox_id: int) -> str:
    """Deliver one outbox e-mail; retried with exponential backoff on failure."""
    outcome = deliver(outbox_id)
    if outcome == "retry" and not self.request.is_eager:
        # 30 s, 60 s, 120 s, ...: the backoff the row records, which the sweep honours too.
        raise self.retry(countdown=seconds_until_retry(outbox_id))
    return outcome


@shared_task(name="referrals.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Re-enqueue e-mails whose task was lost (broker down, worker killed)."""
    stuck = stuck_ids()
    for outbox_id in stuck:
        send_outbound_email.delay(outbox_id)
    return len(stuck)
