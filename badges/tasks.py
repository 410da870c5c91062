"""Badge tasks: thin, idempotent, safe to run twice or side by side."""

from celery import shared_task
from django.db import transaction

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
    """Periodic: join badges not yet given, and tree builders whose downline got there."""
    return award_new_members() + services.refresh_many(services.tree_builder_candidates())
