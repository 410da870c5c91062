"""Campaigns and the member tree.

The tree is stored as a materialized path (`Member.ancestry`) plus counters
that a batch job folds in after signups commit, so that no signup has to
lock a shared row. docs/architecture.md has the design and its numbers.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from ..fields import PlainCharField, PlainTextField


class Campaign(models.Model):
    class Activation(models.TextChoices):
        VERIFIED_AND_RETURNED = "verified_returned", "E-mail verified and came back on a later day"
        VERIFIED = "verified", "E-mail verified"
        REPORTED = "reported", "Reported by the host product (API)"

    slug = models.SlugField(unique=True)
    name = PlainCharField(max_length=120)
    pitch = PlainTextField(blank=True, help_text="Shown to invitees on the invite page.")
    is_default = models.BooleanField(default=False)
    is_open = models.BooleanField(default=True, help_text="Closed campaigns accept no signups.")
    code_required = models.BooleanField(default=True)
    default_quota = models.PositiveIntegerField(
        default=3, help_text="Invites every new member receives to pass along."
    )
    uses_per_code = models.PositiveIntegerField(
        default=1, help_text="How many people one member invite can bring in."
    )
    code_expiry_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Member invites expire after this many days; empty: never."
    )
    activation_rule = models.CharField(
        max_length=20, choices=Activation.choices, default=Activation.VERIFIED_AND_RETURNED
    )
    reward_every = models.PositiveIntegerField(
        default=3, help_text="Reward the inviter for every this many activated invitees; 0: never."
    )
    reward_invites = models.PositiveIntegerField(default=2, help_text="Invites granted per reward.")
    daily_email_limit = models.PositiveIntegerField(
        default=10,
        db_default=10,
        help_text="Invite e-mails one member may send per 24 hours (anti-bullhorn).",
    )
    # Leaked codes (referrals.leaks): a code that takes this many redemptions
    # from at least `leak_networks` distinct /24 (IPv6 /64) networks within
    # `leak_window_minutes` is frozen after the one that trips it. 0: off.
    leak_redemptions = models.PositiveIntegerField(
        default=10, db_default=10, help_text="Redemptions in the window that freeze a code; 0: off."
    )
    leak_networks = models.PositiveIntegerField(
        default=5, db_default=5, help_text="Distinct /24 (IPv6 /64) networks among them."
    )
    leak_window_minutes = models.PositiveIntegerField(default=60, db_default=60)
    # Risk-scored credit (referrals.credit): at or above this score an
    # invitee's credit is held for review; 0: never held.
    risk_threshold = models.PositiveSmallIntegerField(default=60, db_default=60)
    risk_weights = models.JSONField(
        default=dict, blank=True, help_text="Per-rule weights; empty: the defaults."
    )
    tell_inviter_of_ban = models.BooleanField(
        default=False,
        db_default=False,
        help_text="E-mail an inviter when a moderator bans one of their direct invitees.",
    )
    marketers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="marketed_campaigns",
        help_text="Who may run this campaign on /dashboard/ (superusers may run every campaign).",
    )
    # Bookkeeping of the tree fold (tree.fold_new_members): the last join
    # number handed out. Only the fold writes it, never a signup.
    members_counted = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_campaign"
            ),
            models.CheckConstraint(condition=Q(uses_per_code__gte=1), name="campaign_uses_min_1"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> Campaign:
        return cls.objects.get(is_default=True)

    def code_expiry(self) -> timedelta | None:
        return timedelta(days=self.code_expiry_days) if self.code_expiry_days else None


class MemberQuerySet(models.QuerySet):
    def downline_of(self, member: Member) -> MemberQuerySet:
        """Everyone below `member`: an index range scan on the ancestry prefix."""
        return self.filter(
            campaign_id=member.campaign_id, ancestry__startswith=member.subtree_prefix
        )

    def of_campaign(self, campaign: Campaign) -> MemberQuerySet:
        """A campaign's members, for reads in id (joining) order.

        Bounded below by the campaign's first member's id (join number 1, one
        probe of a unique index): a campaign that started after others holds
        the table's later ids, and PostgreSQL, taking the campaign's rows to be
        spread over the table, would otherwise walk the primary key from the
        start through every other campaign's rows (0.4 s at 10M members behind
        1.1M; benchmarks/growth.py). Join numbers follow ids, so no member of
        the campaign sits below its first.
        """
        members = self.filter(campaign=campaign)
        first = self.filter(campaign=campaign, join_number=1).values_list("id", flat=True).first()
        return members.filter(id__gte=first) if first is not None else members

    def top_by_downline(self, campaign: Campaign) -> MemberQuerySet:
        return self.filter(campaign=campaign).order_by("-downline_size", "id")


class Member(models.Model):
    """A user's place in one campaign's referral tree."""

    # Indexed with the id (member_campaign_idx) rather than alone.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="members", db_index=False
    )
    # SET_NULL: deleting a user leaves a tombstone so the tree stays whole.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    inviter = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="invitees"
    )
    depth = models.PositiveIntegerField(default=0, help_text="Generation: 0 for a seed member.")
    # Ids of the ancestors from the root down, each followed by "/"; "" for
    # a root. A member's downline is every row whose ancestry starts with
    # its own ancestry + "<id>/".
    ancestry = models.TextField(blank=True, default="", editable=False)
    joined_at = models.DateTimeField(default=timezone.now)
    invites_left = models.IntegerField(default=0)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Moderation (referrals.moderation): a member whose right to invite was
    # revoked keeps their place and their frozen quota; a banned member too.
    can_invite = models.BooleanField(default=True, db_default=True)
    # Who probably reads the member's mail (addresses.mailbox_of), for the
    # "another member's address" signal at redemption; "" for old rows.
    mailbox = models.CharField(max_length=254, blank=True, default="", db_default="")
    banned_at = models.DateTimeField(null=True, blank=True)
    # The host product reported this member active (the API) before their
    # e-mail was verified: they activate the moment it is.
    activation_reported_at = models.DateTimeField(null=True, blank=True)
    last_seen_on = models.DateField(null=True, blank=True)
    activated_invitee_count = models.PositiveIntegerField(default=0)

    # Folded in by tree.fold_new_members after the signup commits.
    join_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    invitee_count = models.PositiveIntegerField(default=0, editable=False)
    downline_size = models.PositiveIntegerField(default=0, editable=False)
    tree_counted = models.BooleanField(default=False, editable=False)

    # The dashboard's figures (referrals.figures): what this member adds to them
    # now, and a version every change to it bumps. The figures fold counts rows
    # whose version is ahead of the one counted, so nothing is read twice.
    figures_version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    figures_counted = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    fig_depth = models.PositiveIntegerField(null=True, blank=True, editable=False)
    fig_seed = models.BooleanField(default=False, db_default=False, editable=False)
    fig_activated = models.BooleanField(default=False, db_default=False, editable=False)
    fig_cycle_ms = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = MemberQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="one_member_per_campaign"),
            models.UniqueConstraint(fields=["campaign", "join_number"], name="unique_join_number"),
            models.CheckConstraint(
                condition=Q(invites_left__gte=0), name="invites_left_not_negative"
            ),
        ]
        indexes = [
            # varchar_pattern_ops makes LIKE 'prefix%' an index range scan on
            # PostgreSQL whatever the collation; other databases ignore it.
            models.Index(
                fields=["ancestry", "depth"],
                name="member_ancestry_idx",
                opclasses=["text_pattern_ops", "int4_ops"],
            ),
            models.Index(fields=["inviter", "id"], name="member_inviter_idx"),
            # A campaign's members in joining order (the API's list, the exports): without
            # it, a small campaign's first page scans past every bigger campaign's ids.
            models.Index(fields=["campaign", "id"], name="member_campaign_idx"),
            # Top members: id breaks ties, so ORDER BY ... LIMIT reads the index in order.
            models.Index(fields=["campaign", "-downline_size", "id"], name="member_top_idx"),
            # A generation's members in joining order (API ?depth=, deepest generation).
            models.Index(fields=["campaign", "depth", "id"], name="member_generation_idx"),
            # The dashboard's top connectors: ranked by activated invitees.
            models.Index(
                fields=["campaign", "-activated_invitee_count", "id"], name="member_connector_idx"
            ),
            models.Index(
                fields=["campaign", "mailbox"], condition=~Q(mailbox=""), name="member_mailbox_idx"
            ),
            models.Index(
                fields=["id"], condition=Q(tree_counted=False), name="member_uncounted_idx"
            ),
            # What the figures fold has yet to count, per campaign in id order.
            models.Index(
                fields=["campaign", "id"],
                condition=~Q(figures_version=F("figures_counted")) & Q(tree_counted=True),
                name="member_figures_due_idx",
            ),
            # The biggest seed branches (the dashboard's branch list).
            models.Index(
                fields=["campaign", "-downline_size", "id"],
                condition=Q(inviter__isnull=True),
                name="member_top_seed_idx",
            ),
        ]

    def __str__(self) -> str:
        number = f"#{self.join_number:,}" if self.join_number else "#…"
        return f"{self.name} {number}"

    @property
    def name(self) -> str:
        return self.user.public_name() if self.user_id else "a former member"

    @property
    def is_seed(self) -> bool:
        return self.inviter_id is None

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def subtree_prefix(self) -> str:
        return f"{self.ancestry}{self.pk}/"

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the inviter."""
        return [int(part) for part in self.ancestry.split("/") if part]
