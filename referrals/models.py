"""Campaigns, the member tree, invites and redemptions.

The tree is stored as a materialized path (`Member.ancestry`) plus counters
that a batch job folds in after signups commit, so that no signup has to
lock a shared row. docs/architecture.md has the design and its numbers.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from . import codes


class Campaign(models.Model):
    class Activation(models.TextChoices):
        VERIFIED_AND_RETURNED = "verified_returned", "E-mail verified and came back on a later day"
        VERIFIED = "verified", "E-mail verified"
        REPORTED = "reported", "Reported by the host product (API)"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    pitch = models.TextField(blank=True, help_text="Shown to invitees on the invite page.")
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

    def top_by_downline(self, campaign: Campaign) -> MemberQuerySet:
        return self.filter(campaign=campaign).order_by("-downline_size", "id")


class Member(models.Model):
    """A user's place in one campaign's referral tree."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="members")
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
    last_seen_on = models.DateField(null=True, blank=True)
    activated_invitee_count = models.PositiveIntegerField(default=0)

    # Folded in by tree.fold_new_members after the signup commits.
    join_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    invitee_count = models.PositiveIntegerField(default=0, editable=False)
    downline_size = models.PositiveIntegerField(default=0, editable=False)
    tree_counted = models.BooleanField(default=False, editable=False)

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
            # Top members: id breaks ties, so ORDER BY ... LIMIT reads the index in order.
            models.Index(fields=["campaign", "-downline_size", "id"], name="member_top_idx"),
            # A generation's members in joining order (API ?depth=, deepest generation).
            models.Index(fields=["campaign", "depth", "id"], name="member_generation_idx"),
            # The dashboard's top connectors: ranked by activated invitees.
            models.Index(
                fields=["campaign", "-activated_invitee_count", "id"], name="member_connector_idx"
            ),
            models.Index(
                fields=["id"], condition=Q(tree_counted=False), name="member_uncounted_idx"
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
    note = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The page form this invite came from: a form posted twice makes one invite.
    submission = models.CharField(max_length=36, blank=True, default="", db_default="")

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
        indexes = [models.Index(fields=["owner", "-created_at"], name="invite_owner_idx")]

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
        )


def invite_status(*, uses: int, max_uses: int, expires_at, revoked_at, now) -> str:
    """An invite's status from its values: exports use it without building models."""
    if revoked_at:
        return "revoked"
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
    # from one network" rule (referrals.suspicious); empty for old rows.
    signup_ip = models.GenericIPAddressField(null=True, blank=True)

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


class OutboundEmail(models.Model):
    """The outbox: an e-mail recorded with the change that causes it, sent by a task.

    `key` makes each e-mail exist once however often the cause is retried; the
    status claim (pending -> sending, with a lease) lets one worker send it.
    """

    class Kind(models.TextChoices):
        INVITE = "invite"
        INVITEE_JOINED = "invitee_joined"
        INVITEE_ACTIVATED = "invitee_activated"

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
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

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


# --- The marketers' dashboard ------------------------------------------------------


class CampaignStats(models.Model):
    """A campaign's headline figures, rebuilt by `referrals.stats.refresh` (Celery beat).

    Pages read this one row instead of scanning a million members per view.
    """

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="stats")
    members = models.PositiveIntegerField(default=0)
    seed_members = models.PositiveIntegerField(default=0)
    activated_members = models.PositiveIntegerField(default=0)
    deepest_generation = models.PositiveIntegerField(default=0)
    # The funnel over member invites (seed codes left out), each stage a
    # subset of the one before: see referrals.stats for the definitions.
    invites_created = models.PositiveIntegerField(default=0)
    invites_sent = models.PositiveIntegerField(default=0)
    invites_opened = models.PositiveIntegerField(default=0)
    invites_redeemed = models.PositiveIntegerField(default=0)
    invites_activated = models.PositiveIntegerField(default=0)
    invited_members = models.PositiveIntegerField(default=0)
    avg_cycle_seconds = models.FloatField(null=True, blank=True)
    # {"0": members at depth 0, "1": ...}: the members-per-generation chart.
    generations = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField(default=timezone.now)
    refresh_seconds = models.FloatField(default=0)

    class Meta:
        verbose_name_plural = "campaign stats"

    def __str__(self) -> str:
        return f"{self.campaign} as of {self.refreshed_at:%Y-%m-%d %H:%M}"

    @property
    def invites_per_member(self) -> float:
        return self.invites_sent / self.members if self.members else 0.0

    @property
    def redemption_rate(self) -> float:
        return self.invites_redeemed / self.invites_sent if self.invites_sent else 0.0

    @property
    def activation_rate(self) -> float:
        return self.activated_members / self.members if self.members else 0.0

    @property
    def k_factor(self) -> float:
        """Viral coefficient: invites sent per member times the redemption rate."""
        return self.invites_per_member * self.redemption_rate

    @property
    def avg_cycle_time(self) -> timedelta | None:
        if self.avg_cycle_seconds is None:
            return None
        return timedelta(seconds=self.avg_cycle_seconds)


class DailyStat(models.Model):
    """Members who joined and members activated on one day, for the dashboard's chart."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    joined = models.PositiveIntegerField(default=0)
    activated = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "day"], name="one_daily_stat_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.day}: +{self.joined}"


class ImportJob(models.Model):
    """One uploaded CSV of seed invitees: validated whole, imported all at once, by a task."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=200, blank=True)
    content = models.TextField(help_text="The uploaded CSV, decoded; cleared once imported.")
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"line": 3, "email": "...", "name": "...", "reason": "..."}, ...]
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="A file-level error: nothing was imported.")
    created_at = models.DateTimeField(default=timezone.now)
    # The running worker's lease: it renews locked_until as it goes, so a job
    # whose lease ran out lost its worker and the sweep hands it to another.
    # `attempts` counts claims; it is also the token a worker checks before
    # committing, so a worker that lost its lease cannot import a second time.
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "-created_at"], name="import_job_idx")]

    def __str__(self) -> str:
        return f"{self.filename or 'import'} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class InviteGrant(models.Model):
    """Invites a marketer gave a member by hand (e.g. a top connector): who, how many, when."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invite_grants")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="invite_grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    invites = models.PositiveIntegerField()
    granted_at = models.DateTimeField(default=timezone.now)
    # The form submission this grant came from: a form posted twice grants once.
    submission = models.CharField(max_length=36, blank=True, default="", db_default="")

    class Meta:
        indexes = [models.Index(fields=["campaign", "-granted_at"], name="invite_grant_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(invites__gte=1), name="invite_grant_min_1"),
            models.UniqueConstraint(
                fields=["member", "submission"],
                condition=~Q(submission=""),
                name="one_grant_per_submission",
            ),
        ]

    def __str__(self) -> str:
        return f"+{self.invites} to {self.member_id}"
