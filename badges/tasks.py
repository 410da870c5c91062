"""Badge tasks: thin, idempotent, safe to run twice or side by side.

Badges react to referrals.events (subscribed in BadgesConfig.ready): the
handlers at the bottom only enqueue these tasks on commit, and the periodic
sweep finds whatever a lost task left unawarded.
"""

from celery import shared_task
from django.db import transaction

from config.celery import enqueue_on_commit

from . import services
from .models import AwardCursor


@shared_task(ignore_result=True)
def award_badges(member_ids: list[int]) -> int:
    """Award what these members have earned (after an activation, say)."""
    return services.refresh_many(member_ids)


@shared_task(ignore_result=True)
def award_new_members() -> int:
    """Award join badges to members the tree fold has numbered since the last run."""
    total = 0
    while True:
        with transaction.atomic():
            cursor, _ = AwardCursor.objects.select_for_update().get_or_create(name="joins")
            ids = services.newly_counted(cursor.last_member_id)
            if not ids:
                return total
            total += services.refresh_many(ids)
            cursor.last_member_id = ids[-1]
            cursor.save(update_fields=["last_member_id"])


@shared_task(ignore_result=True)
def sweep_awards() -> int:
    """Periodic: join badges not yet given, and connectors and tree builders who got there."""
    reached = dict.fromkeys(services.connector_candidates())
    reached.update(dict.fromkeys(services.tree_builder_candidates()))
    return award_new_members() + services.refresh_many(reached)


# --- Reactions to referrals.events ---------------------------------------------------


def when_member_activated(*, member) -> None:
    """An invitee became active (or their held credit was released): their inviter may
    have reached a connector tier."""
    if member.inviter_id:
        enqueue_on_commit(award_badges, [member.inviter_id], what="award_badges")


def when_member_moved(*, member, gained: list[int]) -> None:
    """A subtree moved: the new path's members (and the new inviter) may have reached a tier.

    Awards on the old path stay: a badge, once earned, is only taken back by staff.
    """
    if gained:
        enqueue_on_commit(award_badges, gained, what="award_badges")


def when_members_counted(*, count: int) -> None:
    """The tree fold numbered new members: they may have earned join badges."""
    enqueue_on_commit(award_new_members, what="award_new_members")
