"""The door for people without an invite: a campaign's waitlist and its settings."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referrals.fields import PlainTextField
from referrals.models import Campaign, Invite, Member


def new_token() -> str:
    """The key to a requester's own page: 256 random bits."""
    return secrets.token_urlsafe(32)


def new_ref_code() -> str:
    """A public, shareable code for referral links (it opens nothing by itself)."""
    return secrets.token_urlsafe(8)


class WaitlistSettings(models.Model):
    """A campaign's waitlist rules, and the counter that orders confirmations."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="waitlist_settings"
    )
    is_open = models.BooleanField(default=True, help_text="Take new requests.")
    places_per_referral = models.PositiveIntegerField(
        default=5, help_text="Places a requester moves up per confirmed referral."
    )
    places_per_vouch = models.PositiveIntegerField(
        default=10, help_text="Places a requester moves up per member who vouches for them."
    )
    max_boost = models.PositiveIntegerField(
        default=100, help_text="At most this many places up through referrals and vouches, in all."
    )
    unconfirmed_days = models.PositiveIntegerField(
        default=7, help_text="Unconfirmed requests are deleted, with their data, after this long."
    )
    daily_email_limit = models.PositiveIntegerField(
        default=500, help_text="Waitlist e-mails this campaign sends per 24 hours."
    )
    # The last confirmation's number: claimed under this row's lock, so the
    # queue's numbers have no duplicates and no gaps.
    last_sequence = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name_plural = "waitlist settings"

    def __str__(self) -> str:
        return f"Waitlist of {self.campaign}"

    @classmethod
    def of(cls, campaign: Campaign) -> WaitlistSettings:
        found, _ = cls.objects.get_or_create(campaign=campaign)
        return found


class EntryQuerySet(models.QuerySet):
    def waiting(self):
        """Confirmed and not yet admitted: the queue."""
        return self.filter(sequence__isnull=False, admitted_at__isnull=True)


class Entry(models.Model):
    """One person asking for an invite to one campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="waitlist")
    email = models.EmailField(max_length=254)  # referrals.addresses.normalize_email
    note = PlainTextField(max_length=500, blank=True)
    blog_url = models.URLField(max_length=300, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    ref_code = models.CharField(max_length=16, unique=True, default=new_ref_code, editable=False)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # 1, 2, 3, ... in the order addresses were confirmed (per campaign).
    sequence = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    confirmed_referrals = models.PositiveIntegerField(default=0, editable=False)
    vouches = models.PositiveIntegerField(default=0, editable=False)
    boost = models.PositiveIntegerField(default=0, editable=False)  # places gained, in all
    # The queue's order: (rank, boost descending, sequence); rank = sequence - boost.
    rank = models.BigIntegerField(null=True, blank=True, editable=False)
    admitted_at = models.DateTimeField(null=True, blank=True)
    # How they were let in: the wave, the one-use code e-mailed to them, and
    # (through the pool) the member whose donated invite it is.
    wave = models.ForeignKey(
        "Wave", null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    invite = models.OneToOneField(
        Invite, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_entry"
    )

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="one_request_per_address"),
            models.UniqueConstraint(fields=["campaign", "sequence"], name="one_place_per_number"),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "rank", "boost", "sequence"],
                condition=Q(sequence__isnull=False, admitted_at__isnull=True),
                name="waitlist_queue_idx",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(confirmed_at__isnull=True),
                name="waitlist_unconfirmed_idx",
            ),
            models.Index(fields=["campaign", "confirm_sent_at"], name="waitlist_sent_idx"),
            models.Index(fields=["campaign", "admitted_at"], name="waitlist_admitted_idx"),
            models.Index(fields=["wave", "admitted_at"], name="waitlist_wave_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.campaign})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Wave(models.Model):
    """A marketer's release of invites to the waitlist: how many, in what order, at what pace."""

    class Order(models.TextChoices):
        POSITION = "position", "By place in line"
        REFERRALS = "referrals", "By confirmed referrals"
        PICKED = "picked", "Hand-picked"

    class Source(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign codes (they join as seed members)"
        POOL = "pool", "Members' donated invites (the donor becomes their inviter)"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="waves")
    size = models.PositiveIntegerField()
    order = models.CharField(max_length=10, choices=Order.choices, default=Order.POSITION)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CAMPAIGN)
    picked = models.JSONField(default=list, blank=True)  # entry ids, for a hand-picked wave
    per_day = models.PositiveIntegerField(default=0, help_text="0: all at once.")
    admitted = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(admitted__lte=models.F("size")), name="wave_admits_at_most_its_size"
            )
        ]

    def __str__(self) -> str:
        return f"Wave of {self.size} ({self.admitted} admitted)"


class Donation(models.Model):
    """Invites a member gave to their campaign's waitlist pool; what is left can be taken back."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="pool_donations")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pool")
    seats = models.PositiveIntegerField()
    seats_left = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(seats_left__lte=models.F("seats")), name="donation_left_within_seats"
            )
        ]
        indexes = [
            models.Index(
                fields=["campaign", "created_at", "id"],
                condition=Q(seats_left__gt=0),
                name="pool_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.seats_left} of {self.seats} from {self.member}"


class Nomination(models.Model):
    """A member vouching for someone on their campaign's waitlist."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="nominations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="nominations")
    show_name = models.BooleanField(
        default=False, help_text="The nominee may see that this member vouched for them."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "member"], name="one_vouch_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.member} vouches for {self.entry}"
