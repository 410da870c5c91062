"""Reads of the referral tree, and the fold that keeps its counters.

A signup only inserts its own member row (tree_counted=False). The fold,
run on commit and every few seconds by Celery beat, takes a batch of
uncounted members and adds them to their ancestors' downline sizes, their
inviter's invitee count and their campaign's join numbers. Signups never
lock an ancestor's row, so the root of a big tree is not a hot spot.
docs/architecture.md explains the choice and its measurements.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from celery import shared_task
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F

from . import events
from .models import Campaign, Member

FOLD_BATCH = 5000
# Any fixed 64-bit number; names the fold's advisory lock on PostgreSQL.
_FOLD_LOCK_KEY = 0x7061_7373_616C_6F6E & 0x7FFF_FFFF_FFFF_FFFF


def fold_new_members(batch: int = FOLD_BATCH) -> int:
    """Count one batch of new members into the tree's counters; returns how many."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One fold at a time; signups never take this lock.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FOLD_LOCK_KEY])
        new = list(
            Member.objects.filter(tree_counted=False)
            .order_by("id")
            .values_list("id", "campaign_id", "ancestry", "inviter_id")[:batch]
        )
        if not new:
            return 0
        _assign_join_numbers(new)
        downline = Counter()
        invitees = Counter()
        for _, _, ancestry, inviter_id in new:
            downline.update(int(part) for part in ancestry.split("/") if part)
            if inviter_id:
                invitees[inviter_id] += 1
        _add_counts("downline_size", downline)
        _add_counts("invitee_count", invitees)
    return len(new)


def fold_all() -> int:
    """Fold until nothing is left; returns the number of members counted."""
    total = 0
    while done := fold_new_members():
        total += done
    return total


@shared_task(name="referrals.tasks.fold_tree", ignore_result=True)
def fold_tree() -> int:
    """Task: fold every uncounted member into the counters, then tell consumers (join badges)."""
    counted = fold_all()
    if counted:
        events.publish(events.MEMBERS_COUNTED, count=counted)
    return counted


def _assign_join_numbers(new: list[tuple]) -> None:
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for member_id, campaign_id, _, _ in new:
        by_campaign[campaign_id].append(member_id)
    for campaign_id, member_ids in by_campaign.items():
        # No row lock needed: the advisory lock makes this the only writer of
        # members_counted, and a FOR UPDATE would block signups' FK checks.
        campaign = Campaign.objects.only("members_counted").get(pk=campaign_id)
        first = campaign.members_counted + 1
        Member.objects.bulk_update(
            [
                Member(pk=member_id, join_number=first + offset, tree_counted=True)
                for offset, member_id in enumerate(member_ids)
            ],
            ["join_number", "tree_counted"],
            batch_size=1000,
        )
        campaign.members_counted = first + len(member_ids) - 1
        campaign.save(update_fields=["members_counted"])


def _add_counts(field: str, counts: Counter) -> None:
    # Most ancestors gain the same small number: one UPDATE per distinct
    # increment, in id order so concurrent writers lock rows in one order.
    by_increment: dict[int, list[int]] = defaultdict(list)
    for member_id, increment in counts.items():
        by_increment[increment].append(member_id)
    for increment, member_ids in by_increment.items():
        member_ids.sort()
        for start in range(0, len(member_ids), 5000):
            Member.objects.filter(pk__in=member_ids[start : start + 5000]).update(
                **{field: F(field) + increment}
            )


# --- Reads -------------------------------------------------------------------


def ancestors(member: Member) -> list[Member]:
    """The chain from the root down to `member`'s inviter, in one query."""
    ids = member.ancestor_ids()
    if not ids:
        return []
    found = Member.objects.select_related("user").in_bulk(ids)
    return [found[i] for i in ids if i in found]


def direct_invitees(member: Member, *, after_id: int = 0, limit: int = 50) -> list[Member]:
    """One page of `member`'s invitees in joining order (keyset paging on (inviter, id))."""
    return list(
        Member.objects.filter(inviter=member, id__gt=after_id)
        .select_related("user")
        .order_by("id")[:limit]
    )


def generations_below(member: Member) -> dict[int, int]:
    """How many members each generation below `member` holds: {1: direct, 2: theirs, ...}.

    A range scan over the subtree's index entries, cached until the
    downline size changes, so repeated page views do not rescan.
    """
    if not member.downline_size:
        return {}
    key = f"tree:gen:{member.pk}:{member.downline_size}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rows = (
        Member.objects.downline_of(member).values("depth").annotate(n=Count("id")).order_by("depth")
    )
    result = {row["depth"] - member.depth: row["n"] for row in rows}
    cache.set(key, result, timeout=3600)
    return result


def top_members(campaign: Campaign, limit: int = 10) -> list[Member]:
    """Members with the largest downlines (index scan on (campaign, -downline_size))."""
    return list(Member.objects.top_by_downline(campaign).select_related("user")[:limit])
