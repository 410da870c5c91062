"""Moderation over the tree: what Lobsters does by hand, with a log and the member told.

Every action writes one append-only ModerationAction row (who, what, whom,
why, when) in the same transaction as its effect, and queues an e-mail to
the member through the outbox. Only reparent moves anyone in the tree: a
revoked or banned member's downline keeps its place.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import credit, figures, outbox, tree
from .models import Invite, InviteEvent, Member, ModerationAction, Redemption

Action = ModerationAction.Action
MAX_REASON = 500


class ReasonRequired(ValueError):
    """Every moderation action says why."""


def revoke_inviting(*, member: Member, actor, reason: str) -> ModerationAction:
    """Take away `member`'s right to invite: their open invites are voided, their quota frozen."""
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(can_invite=False)
        voided = _void_open_invites(Q(owner=member))
        return _log(member, actor, Action.REVOKE_INVITING, reason, {"invites_voided": voided})


def restore_inviting(*, member: Member, actor, reason: str) -> ModerationAction:
    """Give `member` back the right to invite, with the quota they had."""
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(can_invite=True)
        return _log(member, actor, Action.RESTORE_INVITING, reason, {})


def freeze_subtree(*, member: Member, actor, reason: str) -> ModerationAction:
    """Freeze every open invite of `member` and of everyone below them."""
    now = timezone.now()
    with transaction.atomic():
        frozen = list(
            _open_invites(_subtree(member))
            .filter(frozen_at__isnull=True)
            .values_list("id", flat=True)
        )
        Invite.objects.filter(pk__in=frozen).update(frozen_at=now)
        InviteEvent.objects.bulk_create(
            [InviteEvent(invite_id=pk, kind=InviteEvent.Kind.FROZEN, at=now) for pk in frozen]
        )
        return _log(member, actor, Action.FREEZE_SUBTREE, reason, {"invites_frozen": len(frozen)})


def unfreeze_subtree(*, member: Member, actor, reason: str) -> ModerationAction:
    """Unfreeze the frozen invites of `member` and of everyone below them."""
    now = timezone.now()
    with transaction.atomic():
        frozen = list(
            Invite.objects.filter(_subtree(member), frozen_at__isnull=False).values_list(
                "id", flat=True
            )
        )
        Invite.objects.filter(pk__in=frozen).update(frozen_at=None, unfrozen_at=now)
        InviteEvent.objects.bulk_create(
            [InviteEvent(invite_id=pk, kind=InviteEvent.Kind.UNFROZEN, at=now) for pk in frozen]
        )
        return _log(
            member, actor, Action.UNFREEZE_SUBTREE, reason, {"invites_unfrozen": len(frozen)}
        )


def flag_subtree(*, member: Member, actor, reason: str) -> ModerationAction:
    """Send the redemptions of `member` and everyone below them to the review queue.

    Their credit is held (credit.hold) until a marketer approves or rejects
    each: counted credit is taken back, already-decided credit is left alone.
    """
    with transaction.atomic():
        redemptions = list(
            Redemption.objects.filter(
                Q(member=member)
                | Q(
                    member__campaign_id=member.campaign_id,
                    member__ancestry__startswith=member.subtree_prefix,
                ),
                member__inviter__isnull=False,
                credit=Redemption.Credit.COUNTED,
            ).values_list("pk", flat=True)
        )
        evidence = {
            "by": getattr(actor, "username", "") or "system",
            "reason": (reason or "").strip()[:200],
        }
        held = credit.hold(redemption_ids=redemptions, evidence=evidence)
        return _log(member, actor, Action.FLAG_SUBTREE, reason, {"redemptions_held": held})


def reparent(*, member: Member, new_inviter: Member, actor, reason: str) -> ModerationAction:
    """Move `member`, with their whole downline, under `new_inviter` (tree.move_subtree).

    tree.CannotMove says why a move is refused (another campaign, a loop).
    """
    if not (reason or "").strip():
        raise ReasonRequired("Say why: the member is told, and the log keeps it.")
    with transaction.atomic():
        move = tree.move_subtree(member=member, new_inviter=new_inviter)
        details = {
            "members_moved": move.members,
            "from_inviter": move.old_inviter_id,
            "to_inviter": new_inviter.pk,
        }
        return _log(member, actor, Action.REPARENT, reason, details)


def ban(*, member: Member, actor, reason: str) -> ModerationAction:
    """Ban the person behind `member`: sessions and API tokens stop working, unused codes die.

    The account is switched off (`is_active`), which Django's and DRF's
    authentication check on every request, so every session ends at once
    without searching the session store. Their downline keeps its place.
    """
    now = timezone.now()
    with transaction.atomic():
        if member.user_id:
            type(member.user).objects.filter(pk=member.user_id).update(is_active=False)
        Member.objects.filter(pk=member.pk).update(banned_at=now, can_invite=False)
        voided = _void_open_invites(Q(owner=member))
        action = _log(member, actor, Action.BAN, reason, {"invites_voided": voided})
        if member.inviter_id and member.campaign.tell_inviter_of_ban:
            outbox.queue_invitee_banned(action=action)
    return action


# --- Helpers -----------------------------------------------------------------------


def _subtree(member: Member) -> Q:
    # The member and everyone below: an index range scan on the ancestry prefix.
    return Q(owner=member) | Q(
        owner__campaign_id=member.campaign_id,
        owner__ancestry__startswith=member.subtree_prefix,
    )


def _open_invites(where: Q):
    return Invite.objects.redeemable().filter(where)


def _void_open_invites(where: Q) -> int:
    """Revoke the open invites `where` selects; their unused seats go back to the (frozen) quota."""
    now = timezone.now()
    rows = list(_open_invites(where).values_list("id", "owner_id", "max_uses", "uses"))
    if not rows:
        return 0
    Invite.objects.filter(pk__in=[r[0] for r in rows]).update(revoked_at=now, **figures.BUMP)
    InviteEvent.objects.bulk_create(
        [InviteEvent(invite_id=r[0], kind=InviteEvent.Kind.REVOKED, at=now) for r in rows]
    )
    seats: dict[int, int] = {}
    for _, owner_id, max_uses, uses in rows:
        seats[owner_id] = seats.get(owner_id, 0) + max_uses - uses
    for owner_id, back in seats.items():
        Member.objects.filter(pk=owner_id).update(invites_left=F("invites_left") + back)
    return len(rows)


def _log(member: Member, actor, action: str, reason: str, details: dict) -> ModerationAction:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("Say why: the member is told, and the log keeps it.")
    row = ModerationAction.objects.create(
        campaign_id=member.campaign_id,
        target=member,
        actor=actor,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        reason=reason[:MAX_REASON],
        details=details,
    )
    outbox.queue_moderation_notice(action=row)
    return row
