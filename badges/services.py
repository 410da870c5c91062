"""Awarding badges: idempotent, safe to run twice or concurrently."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from referrals.models import Campaign, Member

from . import rules
from .models import Award, definition


def facts_of(member: Member) -> rules.Facts:
    return rules.Facts(
        join_number=member.join_number,
        is_seed=member.inviter_id is None,
        activated_invitees=member.activated_invitee_count,
        downline=member.downline_size,
    )


def refresh_awards(*, member: Member) -> list[Award]:
    """Award every badge `member` has earned by now, raise tiers; returns what changed."""
    campaign = member.campaign
    facts = facts_of(member)
    existing = {a.slug: a for a in member.awards.all()}
    changed = []
    for slug in rules.ORDER:
        badge = definition(campaign, slug)
        if not _enabled(campaign, slug):
            continue
        tier = rules.earned_tier(slug, facts, badge.thresholds)
        if tier is None:
            continue
        award = existing.get(slug)
        if award is None:
            try:
                with transaction.atomic():
                    award = Award.objects.create(member=member, slug=slug, tier=tier)
            except IntegrityError:
                continue  # a concurrent run awarded it
            changed.append(award)
        # Conditional: a concurrent run that raised it further wins.
        elif tier > award.tier and Award.objects.filter(pk=award.pk, tier__lt=tier).update(
            tier=tier, updated_at=timezone.now()
        ):
            award.tier = tier
            changed.append(award)
    return changed


def _enabled(campaign: Campaign, slug: str) -> bool:
    custom = next((s for s in campaign.badge_settings.all() if s.slug == slug), None)
    return custom is None or custom.enabled


def refresh_many(member_ids: Iterable[int]) -> int:
    """refresh_awards for many members; returns how many awards changed."""
    members = (
        Member.objects.filter(pk__in=list(member_ids))
        .select_related("campaign")
        .prefetch_related("awards", "campaign__badge_settings")
    )
    return sum(len(refresh_awards(member=m)) for m in members)


def tree_builder_candidates(limit: int = 2000) -> list[int]:
    """Members whose downline reached their campaign's first tree-builder tier, not yet awarded.

    A range scan on the (campaign, -downline_size) index, then an anti-join.
    """
    ids: list[int] = []
    for campaign in Campaign.objects.prefetch_related("badge_settings"):
        thresholds = definition(campaign, rules.TREE_BUILDER).thresholds
        if not thresholds or not _enabled(campaign, rules.TREE_BUILDER):
            continue
        ids += (
            Member.objects.filter(
                campaign=campaign, downline_size__gte=min(thresholds), join_number__isnull=False
            )
            .exclude(awards__slug=rules.TREE_BUILDER)
            .values_list("id", flat=True)[:limit]
        )
    return ids


def newly_counted(after_id: int, limit: int = 5000) -> list[int]:
    """Ids above `after_id` that the tree fold has numbered, up to the first one it has not."""
    ids = []
    rows = Member.objects.filter(id__gt=after_id).order_by("id").values_list("id", "tree_counted")
    for member_id, counted in rows[:limit]:
        if not counted:
            break
        ids.append(member_id)
    return ids


def revoke(*, award: Award, reason: str) -> None:
    """Staff revocation (e.g. fraud); the proof page and Open Badges answer as revoked."""
    Award.objects.filter(pk=award.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason[:200]
    )
