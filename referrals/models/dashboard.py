"""What the marketers' dashboard keeps: figures, imports and grants."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .tree import Campaign, Member


class CampaignStats(models.Model):
    """A campaign's headline figures, rebuilt by `dashboard.stats.refresh` (Celery beat).

    Pages read this one row instead of scanning a million members per view.
    """

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="stats")
    members = models.PositiveIntegerField(default=0)
    seed_members = models.PositiveIntegerField(default=0)
    activated_members = models.PositiveIntegerField(default=0)
    deepest_generation = models.PositiveIntegerField(default=0)
    # The funnel over member invites (seed codes left out), each stage a
    # subset of the one before: see dashboard.stats for the definitions.
    invites_created = models.PositiveIntegerField(default=0)
    invites_sent = models.PositiveIntegerField(default=0)
    invites_opened = models.PositiveIntegerField(default=0)
    invites_redeemed = models.PositiveIntegerField(default=0)
    invites_activated = models.PositiveIntegerField(default=0)
    invited_members = models.PositiveIntegerField(default=0)
    avg_cycle_seconds = models.FloatField(null=True, blank=True)
    # Kept by the figures fold (referrals.figures), which adds what changed; the
    # average cycle time is their quotient (in whole milliseconds: a total in
    # microseconds would overflow a bigint past a few million members with
    # month-long cycles). `folded`: built by a rebuild and kept since (a row
    # from before incremental figures, or before milliseconds, is rebuilt first).
    cycle_total_ms = models.BigIntegerField(default=0, db_default=0)
    cycle_count = models.PositiveIntegerField(default=0, db_default=0)
    folded = models.BooleanField(default=False, db_default=False)
    # {"0": members at depth 0, "1": ...}: the members-per-generation chart.
    generations = models.JSONField(default=dict)
    # Conversion by generation: {"<depth>": {members, activated, invites_sent,
    # invites_redeemed}} (invites by their owner's generation).
    generation_figures = models.JSONField(default=dict)
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


class BranchFigures(models.Model):
    """A branch's funnel: a member and everyone below them, kept by the figures fold.

    invites_sent, invites_redeemed: member invites of the branch's members;
    activated: its activated members (credit counted or approved), itself
    included; cycle_*: the joins of the members strictly below (their invite's
    creation to its redemption), in milliseconds, and how many.
    """

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="branch_figures"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    invites_sent = models.IntegerField(default=0)
    invites_redeemed = models.IntegerField(default=0)
    activated = models.IntegerField(default=0)
    cycle_total_ms = models.BigIntegerField(default=0)
    cycle_count = models.IntegerField(default=0)
    # The member's own counted invites (not its branch's): they sit at its generation.
    own_invites_sent = models.IntegerField(default=0)
    own_invites_redeemed = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "branch figures"

    def __str__(self) -> str:
        return f"branch of {self.member_id}"
