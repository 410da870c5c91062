"""Awarding badges: idempotent, safe to run twice or concurrently.

Every award or raised tier publishes referrals.events.BADGE_AWARDED in the
award's own transaction (webhooks record their event from it).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from referrals import events
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
                    events.publish(events.BADGE_AWARDED, award=award, member=member)
            except IntegrityError:
                continue  # a concurrent run awarded it
            changed.append(award)
        elif _better(slug, tier, award.tier):
            # The raise and its webhook event commit together, or neither does.
            with transaction.atomic():
                if not _raise_tier(award, tier):
                    continue
                award.tier = tier
                events.publish(events.BADGE_AWARDED, award=award, member=member)
            changed.append(award)
    return changed


def _better(slug: str, tier: int, than: int) -> bool:
    # Early-adopter tiers are join-number cut-offs: "first 10" beats "first 100".
    return tier < than if slug == rules.EARLY_ADOPTER else tier > than


def _raise_tier(award: Award, tier: int) -> bool:
    # Conditional: a concurrent run that got it further already wins.
    worse = {"tier__gt": tier} if award.slug == rules.EARLY_ADOPTER else {"tier__lt": tier}
    return bool(
        Award.objects.filter(pk=award.pk, **worse).update(tier=tier, updated_at=timezone.now())
    )


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


# Tiered badges whose tiers are thresholds on a stored counter of the member's row.
_COUNTED_TIERS = {
    rules.TREE_BUILDER: "downline_size",  # index (campaign, -downline_size, id)
    rules.CONNECTOR: "activated_invitee_count",  # index (campaign, -activated_invitee_count, id)
}


def tree_builder_candidates(limit: int = 2000) -> list[int]:
    """Members whose downline reached a tree-builder tier their award does not show yet."""
    return tier_candidates(rules.TREE_BUILDER, limit)


def connector_candidates(limit: int = 2000) -> list[int]:
    """Members whose activated invitees reached a connector tier their award does not show yet.

    The sweep's safety net behind the task an activation enqueues (a broker
    that was down, a worker killed before it awarded).
    """
    return tier_candidates(rules.CONNECTOR, limit)


def tier_candidates(slug: str, limit: int = 2000) -> list[int]:
    """Members whose counter reached a tier of `slug` that their award does not show yet.

    Per tier: a range scan on the counter's (campaign, -counter) index, then an
    anti-join on the (member, slug) unique index for an award of that tier or
    higher, so members already at their tier cost one index probe each.
    """
    counter = _COUNTED_TIERS[slug]
    ids: dict[int, None] = {}  # ordered, without duplicates
    for campaign in Campaign.objects.prefetch_related("badge_settings"):
        thresholds = definition(campaign, slug).thresholds
        if not thresholds or not _enabled(campaign, slug):
            continue
        for tier in sorted(thresholds, reverse=True):
            if len(ids) >= limit:
                return list(ids)
            at_tier = Award.objects.filter(member=OuterRef("pk"), slug=slug, tier__gte=tier)
            found = (
                Member.objects.filter(
                    campaign=campaign, **{f"{counter}__gte": tier}, join_number__isnull=False
                )
                .exclude(Exists(at_tier))
                .values_list("id", flat=True)[: limit - len(ids)]
            )
            ids.update(dict.fromkeys(found))
    return list(ids)


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
