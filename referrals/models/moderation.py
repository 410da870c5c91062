"""Moderation over the tree: every action an append-only row (who, what, whom, why, when)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..fields import PlainTextField
from .tree import Campaign, Member


class ModerationAction(models.Model):
    """One moderator's action on a member (and, for subtree actions, everyone below)."""

    class Action(models.TextChoices):
        REVOKE_INVITING = "revoke_inviting", "Revoked the right to invite"
        RESTORE_INVITING = "restore_inviting", "Restored the right to invite"
        FREEZE_SUBTREE = "freeze_subtree", "Froze the subtree's open invites"
        UNFREEZE_SUBTREE = "unfreeze_subtree", "Unfroze the subtree's invites"
        FLAG_SUBTREE = "flag_subtree", "Flagged the subtree for review"
        REPARENT = "reparent", "Moved under another inviter"
        BAN = "ban", "Banned"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="moderation")
    target = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="moderation")
    # SET_NULL and a copy of the name: the log outlives a moderator's account.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=Action.choices)
    reason = PlainTextField(max_length=500)
    # What it touched: invites voided or frozen, members in the subtree.
    details = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["campaign", "-at", "-id"], name="moderation_log_idx")]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.get_action_display()} {self.target} ({self.at:%Y-%m-%d})"

    def summary(self) -> str:
        """What it touched, in words: "3 invites frozen"."""
        return ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in self.details.items())
