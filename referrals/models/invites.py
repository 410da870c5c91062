"""Invites, their history, redemptions and the rewards active invitees earn."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from .. import codes
from ..fields import PlainCharField, PlainTextField
from .tree import Campaign, Member


class InviteQuerySet(models.QuerySet):
    def redeemable(self, now=None) -> InviteQuerySet:
        """Invites that can take one more use right now (campaign openness aside).

        Only this table's columns: PostgreSQL re-checks these conditions on
        the newest row version when a concurrent UPDATE wins the row lock.
        """
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            revoked_at__isnull=True,
            frozen_at__isnull=True,
            uses__lt=F("max_uses"),
        )


class Invite(models.Model):
    """A code owned by a member (or by the campaign, for seed codes)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="invites")
    owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="invites"
    )
    code = models.CharField(max_length=codes.LENGTH, unique=True, default=codes.new_code)
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    recipient_email = models.EmailField(blank=True)
    # Whom the invite e-mail greets (a seed import's `name` column); db_default
    # for bulk loaders that leave it out.
    recipient_name = PlainCharField(max_length=80, blank=True, default="", db_default="")
    note = PlainTextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Leaked-code detection (referrals.leaks): a code redeemed from many networks
    # in a burst is frozen until a marketer unfreezes it; public codes (a
    # conference code, meant to travel) are exempt.
    is_public = models.BooleanField(default=False, db_default=False)
    frozen_at = models.DateTimeField(null=True, blank=True)
    unfrozen_at = models.DateTimeField(null=True, blank=True)
    # The page form this invite came from: a form posted twice makes one invite.
    submission = models.CharField(max_length=36, blank=True, default="", db_default="")
    # The seed import that made this invite, for its follow-up (who opened, who joined).
    import_job = models.ForeignKey(
        "referrals.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invites",
        editable=False,
    )

    # The dashboard's figures (referrals.figures), as on Member: the funnel
    # stage this invite adds to them (at its owner's counted generation).
    figures_version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    figures_counted = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    fig_stage = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)

    objects = InviteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="invite_max_uses_min_1"),
            # The database itself refuses an over-used code, whatever the code path.
            models.CheckConstraint(
                condition=Q(uses__lte=F("max_uses")), name="invite_uses_within_max"
            ),
            models.UniqueConstraint(
                fields=["owner", "submission"],
                condition=~Q(submission=""),
                name="one_invite_per_submission",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="invite_owner_idx"),
            models.Index(
                fields=["campaign", "id"],
                condition=~Q(figures_version=F("figures_counted")),
                name="invite_figures_due_idx",
            ),
            models.Index(
                fields=["import_job", "id"],
                condition=Q(import_job__isnull=False),
                name="invite_import_idx",
            ),
            # The review queue's frozen codes: a handful among a million invites.
            models.Index(
                fields=["campaign", "frozen_at"],
                condition=Q(frozen_at__isnull=False),
                name="invite_frozen_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_code

    def get_absolute_url(self) -> str:
        return reverse("invite_landing", args=[self.code])

    def timeline(self) -> list[tuple[str, object]]:
        """(step, when) pairs, oldest first: created, sent, opened, joined, activated, ...

        Reads `events` and `redemptions__member` through prefetch_related.
        """
        steps: list[tuple[str, object]] = []
        opened = [e for e in self.events.all() if e.kind == InviteEvent.Kind.OPENED]
        for event in self.events.all():
            if event.kind == InviteEvent.Kind.OPENED:
                if event is opened[0]:
                    label = "opened" if len(opened) == 1 else f"opened by {len(opened)} visitors"
                    steps.append((label, event.at))
            elif event.kind != InviteEvent.Kind.REDEEMED:
                steps.append((event.get_kind_display(), event.at))
        for redemption in self.redemptions.all():
            steps.append((f"{redemption.member.name} joined", redemption.redeemed_at))
            if redemption.member.activated_at:
                steps.append(
                    (f"{redemption.member.name} is active", redemption.member.activated_at)
                )
        if self.expires_at and self.is_expired() and not self.revoked_at:
            steps.append(("expired", self.expires_at))
        return sorted(steps, key=lambda step: step[1])

    def progress(self) -> str:
        """The furthest step reached, for the status pill (uses the same prefetches)."""
        if self.revoked_at:
            return "revoked"
        if self.frozen_at:
            return "frozen"
        redeemed = list(self.redemptions.all())
        if any(r.member.activated_at for r in redeemed):
            return "activated"
        if redeemed:
            return "joined"
        if self.is_expired():
            return "expired"
        kinds = {e.kind for e in self.events.all()}
        for kind in (InviteEvent.Kind.OPENED, InviteEvent.Kind.SENT):
            if kind in kinds:
                return kind
        return "created"

    def absolute_link(self) -> str:
        return settings.SITE_URL + self.get_absolute_url()

    @property
    def display_code(self) -> str:
        return codes.display(self.code)

    @property
    def is_seed_code(self) -> bool:
        return self.owner_id is None

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def is_used_up(self) -> bool:
        return self.uses >= self.max_uses

    @property
    def status(self) -> str:
        return invite_status(
            uses=self.uses,
            max_uses=self.max_uses,
            expires_at=self.expires_at,
            revoked_at=self.revoked_at,
            now=timezone.now(),
            frozen_at=self.frozen_at,
        )


def invite_status(*, uses: int, max_uses: int, expires_at, revoked_at, now, frozen_at=None) -> str:
    """An invite's status from its values: exports use it without building models."""
    if revoked_at:
        return "revoked"
    if frozen_at and uses < max_uses:
        return "frozen"
    if uses >= max_uses:
        return "redeemed"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "open"


class InviteEvent(models.Model):
    """One step in an invite's history."""

    class Kind(models.TextChoices):
        CREATED = "created"
        SENT = "sent"
        OPENED = "opened"
        REDEEMED = "redeemed"
        REVOKED = "revoked"
        EXPIRED = "expired"
        FROZEN = "frozen"
        UNFROZEN = "unfrozen"

    invite = models.ForeignKey(Invite, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    # For "opened": a hash of the visitor's session, so each visitor counts once.
    visitor = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        indexes = [models.Index(fields=["invite", "at"], name="invite_event_idx")]
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invite", "visitor"],
                condition=Q(kind="opened"),
                name="invite_opened_once_per_visitor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Redemption(models.Model):
    """One use of an invite that created one member; written with the signup."""

    invite = models.ForeignKey(Invite, on_delete=models.PROTECT, related_name="redemptions")
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="redemption")
    redeemed_at = models.DateTimeField(default=timezone.now)
    # The client's address at signup, for the review queue's "many signups
    # from one network" rule (dashboard.suspicious); empty for old rows.
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    # Its /24 (IPv6 /64), for counting the networks a code is redeemed from.
    signup_network = models.CharField(max_length=43, blank=True, default="", db_default="")

    class Credit(models.TextChoices):
        COUNTED = "counted"  # below the campaign's risk threshold
        HELD = "held"  # at or above it: waits for a marketer
        APPROVED = "approved"
        REJECTED = "rejected"

    # Risk-scored credit (referrals.credit): the sum of the signals' weights.
    risk_score = models.PositiveSmallIntegerField(default=0, db_default=0)
    credit = models.CharField(
        max_length=8, choices=Credit.choices, default=Credit.COUNTED, db_default=Credit.COUNTED
    )

    class Meta:
        indexes = [
            # A code's recent redemptions, read under its row lock (leaked-code rule).
            models.Index(fields=["invite", "redeemed_at"], name="redemption_invite_at_idx"),
            # The risk signal "several of one inviter's codes from one network within
            # an hour": a network's last hour is a few rows, whoever the inviter.
            models.Index(fields=["signup_network", "redeemed_at"], name="redemption_network_idx"),
            # The review queue: the few held ones, oldest first.
            models.Index(fields=["id"], condition=Q(credit="held"), name="redemption_held_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invite} → {self.member}"


class Reward(models.Model):
    """Invites granted to a member for reaching a number of activated invitees."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="rewards")
    activated_invitees = models.PositiveIntegerField()
    invites_granted = models.PositiveIntegerField()
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One reward per milestone, however often activation is retried.
            models.UniqueConstraint(
                fields=["member", "activated_invitees"], name="one_reward_per_milestone"
            )
        ]

    def __str__(self) -> str:
        return f"+{self.invites_granted} at {self.activated_invitees} activated invitees"
