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
from dataclasses import dataclass

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, TextField, Value
from django.db.models.functions import Concat, Substr

from . import credit, events, figures
from .models import Campaign, Member
from .treelock import lock_the_tree

FOLD_BATCH = 5000


def fold_new_members(batch: int = FOLD_BATCH) -> int:
    """Count one batch of new members into the tree's counters; returns how many."""
    with transaction.atomic():
        lock_the_tree()
        new = list(
            Member.objects.filter(tree_counted=False)
            .order_by("id")
            .values_list("id", "campaign_id", "ancestry", "inviter_id", "depth")[:batch]
        )
        if not new:
            return 0
        new = _repair_stale_places(new)
        _assign_join_numbers(new)
        downline = Counter()
        invitees = Counter()
        for _, _, ancestry, inviter_id, _ in new:
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
    """Task: fold every uncounted member into the counters, tell consumers (join badges),
    then bring the dashboard's figures up to date with what changed (referrals.figures)."""
    counted = fold_all()
    if counted:
        events.publish(events.MEMBERS_COUNTED, count=counted)
    figures.fold_all()
    return counted


def _assign_join_numbers(new: list[tuple]) -> None:
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for member_id, campaign_id, *_ in new:
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


def _repair_stale_places(new: list[tuple]) -> list[tuple]:
    """Give new members the place their inviter has now (after a move they raced with).

    A signup reads its inviter's ancestry without a lock, so one that ran
    while its inviter's subtree was being moved may carry the old path. Moves
    and folds hold the same lock and every new member passes here before it
    is counted, so checking each against its inviter's committed place (new
    members in id order: an inviter comes before its invitees) repairs it.
    """
    inviter_ids = {row[3] for row in new if row[3]}
    places = {
        pk: (f"{ancestry}{pk}/", depth + 1)
        for pk, ancestry, depth in Member.objects.filter(pk__in=inviter_ids).values_list(
            "id", "ancestry", "depth"
        )
    }
    repaired, fixes = [], []
    for member_id, campaign_id, ancestry, inviter_id, depth in new:
        if inviter_id and inviter_id in places and places[inviter_id] != (ancestry, depth):
            ancestry, depth = places[inviter_id]
            fixes.append(Member(pk=member_id, ancestry=ancestry, depth=depth))
        places[member_id] = (f"{ancestry}{member_id}/", depth + 1)
        repaired.append((member_id, campaign_id, ancestry, inviter_id, depth))
    if fixes:
        Member.objects.bulk_update(fixes, ["ancestry", "depth"], batch_size=1000)
    return repaired


# --- Moving a subtree ------------------------------------------------------------------


class CannotMove(ValueError):
    """A move the tree refuses; the message says why, in words for a moderator."""


@dataclass(frozen=True)
class Move:
    members: int  # the member and everyone below them
    old_inviter_id: int | None


def move_subtree(*, member: Member, new_inviter: Member) -> Move:
    """Hang `member`, with everyone below, under `new_inviter`; what moved.

    Depth and ancestry below are rewritten in one UPDATE (an index range scan
    on the ancestry prefix); downline sizes change only on the two paths'
    differing parts; invitee and activated-invitee counts move from the old
    inviter to the new (with the new inviter's reward, if due). Join numbers
    stay. Holds the fold's lock, so the counters it reads cannot change under
    it; signups are never blocked (a row lock on a moved member does not stop
    a new invitee's foreign-key check), and one that races the move is given
    its new place by the next fold (_repair_stale_places).
    """
    with transaction.atomic():
        lock_the_tree()
        ids = sorted({member.pk, new_inviter.pk})
        rows = Member.objects.select_for_update().select_related("campaign").in_bulk(ids)
        if len(rows) < len(ids):
            raise CannotMove("That member is gone.")
        moved, to = rows[member.pk], rows[new_inviter.pk]
        _check_move(moved, to)
        old_inviter_id = moved.inviter_id
        old_descendants = moved.subtree_prefix
        new_ancestry = to.subtree_prefix
        shift = to.depth + 1 - moved.depth
        below = Member.objects.filter(
            campaign_id=moved.campaign_id, ancestry__startswith=old_descendants
        ).update(
            ancestry=Concat(
                Value(f"{new_ancestry}{moved.pk}/"),
                Substr("ancestry", len(old_descendants) + 1),
                output_field=TextField(),
            ),
            depth=F("depth") + shift,
            **figures.BUMP,  # a new generation for the dashboard's figures
        )
        Member.objects.filter(pk=moved.pk).update(
            inviter_id=to.pk, ancestry=new_ancestry, depth=to.depth + 1, **figures.BUMP
        )
        # Only folded members are in the counters; the rest are folded at their new place.
        size = moved.downline_size + (1 if moved.tree_counted else 0)
        old_path = set(moved.ancestor_ids())
        new_path = {*to.ancestor_ids(), to.pk}
        _add_to("downline_size", sorted(old_path - new_path), -size)
        _add_to("downline_size", sorted(new_path - old_path), size)
        if moved.tree_counted and old_inviter_id:
            _add_to("invitee_count", [old_inviter_id], -1)
        if moved.tree_counted:
            _add_to("invitee_count", [to.pk], 1)
        if moved.activated_at and credit.counts(moved):
            if old_inviter_id:
                _add_to("activated_invitee_count", [old_inviter_id], -1)
            moved.inviter_id = to.pk
            credit.count_for_inviter(moved)
        moved.inviter_id, moved.ancestry, moved.depth = to.pk, new_ancestry, to.depth + 1
        figures.move_branch(member=moved, old_path=sorted(old_path), new_path=sorted(new_path))
        events.publish(events.MEMBER_MOVED, member=moved, gained=sorted(new_path - old_path))
    member.inviter_id, member.ancestry, member.depth = moved.inviter_id, new_ancestry, moved.depth
    return Move(members=below + 1, old_inviter_id=old_inviter_id)


def _check_move(moved: Member, to: Member) -> None:
    if moved.campaign_id != to.campaign_id:
        raise CannotMove("The new inviter must be in the same campaign.")
    if to.pk == moved.pk or to.ancestry.startswith(moved.subtree_prefix):
        raise CannotMove(f"{to.name} is in {moved.name}'s own downline: that would make a loop.")
    if to.pk == moved.inviter_id:
        raise CannotMove(f"{moved.name} is already {to.name}'s invitee.")
    if not (moved.tree_counted and to.tree_counted):
        raise CannotMove("A member who joined seconds ago is still being counted: try again soon.")
    if to.banned_at:
        raise CannotMove(f"{to.name} is banned.")


def _add_to(field: str, member_ids: list[int], amount: int) -> None:
    if member_ids and amount:
        Member.objects.filter(pk__in=member_ids).update(**{field: F(field) + amount})


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
