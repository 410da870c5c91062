"""Webhook endpoints marketers register, the events they receive, and each delivery.

The same outbox pattern as referrals.emails: an Event row is written in the
transaction that causes it (unique `key`: once per cause however often it is
retried), one Delivery per subscribed endpoint, delivered by a task enqueued
on commit that claims the row with a lease.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from referrals.models import Campaign


class EventType(models.TextChoices):
    MEMBER_JOINED = "member.joined", "A member joined"
    MEMBER_ACTIVATED = "member.activated", "A member became active"
    BADGE_AWARDED = "badge.awarded", "A badge was awarded or raised a tier"
    PING = "ping", "A test event sent on request"


# What an endpoint can subscribe to (a ping goes to the one endpoint asked).
SUBSCRIBABLE = [EventType.MEMBER_JOINED, EventType.MEMBER_ACTIVATED, EventType.BADGE_AWARDED]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Endpoint(models.Model):
    """A marketer's URL that receives a campaign's events, signed with `secret`."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    # A list of EventType values; read in Python from the campaign's few endpoints.
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80, default=new_secret)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "webhook endpoint"
        # The emit on every signup: "does this campaign have active endpoints?"
        indexes = [models.Index(fields=["campaign", "is_active"], name="webhook_endpoint_idx")]
        constraints = [
            # An "add" posted twice must not make every event arrive twice.
            models.UniqueConstraint(fields=["campaign", "url"], name="one_endpoint_per_url")
        ]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.events


class Event(models.Model):
    """Something that happened, once: `event_id` is what receivers deduplicate on."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # One event per cause (e.g. "member.joined:42"), however often the cause is retried.
    key = models.CharField(max_length=120, unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=30, choices=EventType.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "webhook event"

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Delivery(models.Model):
    """One event for one endpoint: its attempts and the receiver's last answer."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"
        SKIPPED = "skipped"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint} ({self.status})"
