"""The e-mail outbox and the addresses that asked never to be invited."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .invites import Invite
from .tree import Member


class OutboundEmail(models.Model):
    """The outbox: an e-mail recorded with the change that causes it, sent by a task.

    `key` makes each e-mail exist once however often the cause is retried; the
    status claim (pending -> sending, with a lease) lets one worker send it.
    """

    class Kind(models.TextChoices):
        INVITE = "invite"
        INVITEE_JOINED = "invitee_joined"
        INVITEE_ACTIVATED = "invitee_activated"
        CODE_FROZEN = "code_frozen"
        MODERATION = "moderation"
        INVITEE_BANNED = "invitee_banned"
        # Queued by consumers (the waitlist) through outbox.queue_message, with a payload.
        WAITLIST_CONFIRM = "waitlist_confirm"
        WAITLIST_MEMBER = "waitlist_member"
        WAITLIST_ADMITTED = "waitlist_admitted"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    key = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    to_email = models.EmailField()
    sender = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="sent_emails"
    )
    invite = models.ForeignKey(
        Invite, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    subject_member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # For moderation notices: the logged action the e-mail reports.
    moderation = models.ForeignKey(
        "referrals.ModerationAction",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What a consumer's e-mail says beyond the rows above (links, names): its template's context.
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="outbox_status_idx"),
            models.Index(fields=["sender", "kind", "created_at"], name="outbox_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"


class DoNotInvite(models.Model):
    """An address whose owner asked never to be invited again."""

    email = models.EmailField(unique=True, help_text="Stored lower-case.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "do-not-invite address"

    def __str__(self) -> str:
        return self.email
