"""Invites by e-mail: what a member sends (with a note) and resends, within daily limits.

Each e-mail is an outbox row written in the same transaction as its invite;
outbox.py delivers it once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import errors, outbox, services
from .addresses import normalize_email
from .models import Invite, Member, OutboundEmail

logger = logging.getLogger(__name__)

RESEND_AFTER = timedelta(hours=24)
MAX_SENDS_PER_INVITE = 3


class EmailRefused(Exception):
    """An invite e-mail we will not send; `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def invites_sent_today(member: Member) -> int:
    since = timezone.now() - timedelta(hours=24)
    return OutboundEmail.objects.filter(
        sender=member, kind=OutboundEmail.Kind.INVITE, created_at__gte=since
    ).count()


def invite_by_email(*, member: Member, address: str, note: str = "") -> Invite:
    """Create an invite for one address and queue its e-mail, in one transaction."""
    address = normalize_email(address)
    if outbox.is_opted_out(address):
        raise EmailRefused("This person has asked not to receive invites.")
    with transaction.atomic():
        # The member's own row: serializes this member's sends, nobody else's.
        locked = Member.objects.select_for_update().select_related("campaign").get(pk=member.pk)
        if invites_sent_today(locked) >= locked.campaign.daily_email_limit:
            raise EmailRefused(
                "You've sent as many invite e-mails as you can today. "
                "Personal invites work best a few at a time: try again tomorrow."
            )
        # A form posted twice (or two tabs) must not send the same person two invites.
        if locked.invites.redeemable().filter(recipient_email=address).exists():
            raise EmailRefused(
                f"You've already invited {address}. "
                "To remind them, resend that invite from your list."
            )
        try:
            invite = services.create_invite(member=locked, recipient_email=address, note=note)
        except errors.NoInvitesLeft as refused:
            raise EmailRefused(refused.message) from None
        _queue_invite_email(invite, sender=locked, number=1)
    member.invites_left = locked.invites_left
    return invite


def resend_invite(*, invite: Invite) -> OutboundEmail:
    """Queue the invite e-mail again, at most once a day and three times in all."""
    if not invite.recipient_email:
        raise EmailRefused("This invite has no e-mail address to send to.")
    if invite.status != "open":
        raise EmailRefused(f"This invite is {invite.status}; only open invites can be resent.")
    if outbox.is_opted_out(invite.recipient_email):
        raise EmailRefused("This person has asked not to receive invites.")
    with transaction.atomic():
        Invite.objects.select_for_update().get(pk=invite.pk)
        sender = None
        if invite.owner_id:  # a member's invite; a seed invite (an import's) has no sender
            sender = (
                Member.objects.select_for_update()
                .select_related("campaign")
                .get(pk=invite.owner_id)
            )
            if invites_sent_today(sender) >= sender.campaign.daily_email_limit:
                raise EmailRefused(
                    "You've sent as many invite e-mails as you can today. Try again tomorrow."
                )
        previous = list(invite.emails.filter(kind=OutboundEmail.Kind.INVITE).order_by("created_at"))
        if len(previous) >= MAX_SENDS_PER_INVITE:
            raise EmailRefused("This invite has been sent three times already.")
        if previous and previous[-1].created_at > timezone.now() - RESEND_AFTER:
            raise EmailRefused("You can resend an invite once a day. Try again tomorrow.")
        return _queue_invite_email(invite, sender=sender, number=len(previous) + 1)


def _queue_invite_email(invite: Invite, *, sender: Member | None, number: int) -> OutboundEmail:
    row = OutboundEmail.objects.create(
        key=f"invite:{invite.pk}:{number}",
        kind=OutboundEmail.Kind.INVITE,
        to_email=invite.recipient_email,
        sender=sender,
        invite=invite,
    )
    outbox.enqueue_delivery(row.pk)
    return row
