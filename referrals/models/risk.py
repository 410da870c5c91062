"""Risk-scored credit: the signals seen at each redemption, and the decisions on held ones."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..fields import PlainTextField
from .invites import Redemption


class RiskSignal(models.Model):
    """One rule that fired for one redemption, with what it saw (referrals.credit)."""

    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="signals")
    rule = models.CharField(max_length=30)
    weight = models.PositiveSmallIntegerField()
    evidence = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["redemption", "rule"], name="one_signal_per_rule")
        ]

    def __str__(self) -> str:
        return f"{self.rule} (+{self.weight})"


class CreditDecision(models.Model):
    """A marketer's decision on a held redemption: once, logged, never edited."""

    class Decision(models.TextChoices):
        APPROVED = "approved"
        REJECTED = "rejected"

    # One decision per redemption, ever: a double click or two marketers at once
    # cannot release the credit twice.
    redemption = models.OneToOneField(Redemption, on_delete=models.PROTECT, related_name="decision")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = PlainTextField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.decision} by {self.decided_by_name} ({self.at:%Y-%m-%d})"


class SeenNetwork(models.Model):
    """A network (a /24 or /64) a signed-in person was seen on, and when last (referrals.sightings).

    One row per person and network, touched at most once a day per session;
    rows older than sightings.RECENT are forgotten by a daily task.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    network = models.CharField(max_length=43)
    last_seen_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "network"], name="one_sighting_per_network")
        ]
        indexes = [models.Index(fields=["last_seen_on"], name="seen_network_age_idx")]

    def __str__(self) -> str:
        return f"{self.network} ({self.last_seen_on})"
