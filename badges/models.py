"""Awards of badges to members, and per-campaign badge settings."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from referrals.fields import PlainCharField, PlainTextField
from referrals.models import Campaign, Member

from . import rules

BADGE_CHOICES = [(slug, rules.DEFAULTS[slug].name) for slug in rules.ORDER]


class BadgeSetting(models.Model):
    """A campaign's own name, description, thresholds or colour for one badge."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="badge_settings")
    slug = models.CharField(max_length=30, choices=BADGE_CHOICES)
    name = PlainCharField(max_length=60, blank=True, help_text="Empty: the default name.")
    description = PlainTextField(blank=True)
    thresholds = models.CharField(
        max_length=100, blank=True, help_text="Comma-separated tiers, e.g. 1,5,25. Empty: defaults."
    )
    color = models.CharField(
        max_length=20, blank=True, help_text="A colour name from the badge palette."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slug"], name="one_setting_per_badge")
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.slug}"


def definition(campaign: Campaign, slug: str) -> rules.Definition:
    """The campaign's version of a badge: defaults overlaid with its BadgeSetting."""
    base = rules.DEFAULTS[slug]
    custom = next((s for s in campaign.badge_settings.all() if s.slug == slug), None)
    if custom is None:
        return base
    thresholds = base.thresholds
    if custom.thresholds.strip():
        thresholds = tuple(sorted({int(t) for t in custom.thresholds.split(",") if t.strip()}))
    return rules.Definition(
        slug=slug,
        name=custom.name or base.name,
        description=custom.description or base.description,
        thresholds=thresholds,
        color=custom.color or base.color,
    )


class Award(models.Model):
    """A badge a member earned. Tiers only go up; revocation is a staff decision."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="awards")
    slug = models.CharField(max_length=30, choices=BADGE_CHOICES)
    tier = models.PositiveIntegerField(default=0)
    awarded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    hidden = models.BooleanField(default=False, help_text="The member chose not to show it.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "slug"], name="one_award_per_badge")
        ]
        indexes = [models.Index(fields=["slug", "member"], name="award_slug_idx")]

    def __str__(self) -> str:
        return f"{self.get_slug_display()} for {self.member}"

    def get_absolute_url(self) -> str:
        return reverse("badge_proof", args=[self.username(), self.slug])

    @property
    def is_public(self) -> bool:
        return not self.hidden and not self.revoked_at

    def username(self) -> str:
        return self.member.user.username if self.member.user_id else ""

    def absolute_url(self) -> str:
        return settings.SITE_URL + self.get_absolute_url()

    def image_url(self, ext: str = "svg") -> str:
        return settings.SITE_URL + reverse(f"badge_{ext}", args=[self.username(), self.slug])

    def assertion_id(self) -> str:
        return settings.SITE_URL + reverse("openbadges_assertion", args=[self.pk])


def recipient_hash(email: str, salt: str) -> str:
    """Open Badges hashed recipient identity: sha256$hex(email + salt)."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


class AwardCursor(models.Model):
    """How far the join-award sweep has got through members, by id."""

    name = models.CharField(max_length=40, unique=True)
    last_member_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_member_id}"


class InviteRequest(models.Model):
    """A visitor who came through a badge asking its member for an invite."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        IGNORED = "ignored"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="invite_requests")
    name = PlainCharField(max_length=80)
    email = models.EmailField()
    message = PlainTextField(blank=True, max_length=500)
    source_page = models.URLField(
        blank=True, max_length=500, help_text="Where the visitor came from."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invite = models.ForeignKey(
        "referrals.Invite", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Asking twice while the first request waits changes nothing.
            models.UniqueConstraint(
                fields=["member", "email"],
                condition=models.Q(status="pending"),
                name="one_pending_request_per_address",
            )
        ]
        indexes = [
            models.Index(fields=["member", "status", "-created_at"], name="request_member_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} asks {self.member}"


class BadgeReferral(models.Model):
    """Visits to a member's badge pages from one outside page (a blog post, a forum)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="badge_referrals")
    page_url = models.URLField(max_length=500)
    visits = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "page_url"], name="one_referral_row_per_page")
        ]

    def __str__(self) -> str:
        return f"{self.page_url} → {self.member}"
