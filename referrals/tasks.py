"""Celery tasks: thin wrappers that load by id and call a service; safe to run twice."""

from celery import shared_task

from . import emails, tree


@shared_task(ignore_result=True)
def fold_tree() -> int:
    """Fold every uncounted member into the tree counters, then award join badges."""
    counted = tree.fold_all()
    if counted:
        from badges.tasks import award_new_members

        award_new_members.delay()
    return counted


@shared_task(bind=True, ignore_result=True, max_retries=emails.MAX_ATTEMPTS)
def send_outbound_email(self, outbox_id: int) -> str:
    """Deliver one outbox e-mail; retried with exponential backoff on failure."""
    outcome = emails.deliver(outbox_id)
    if outcome == "retry" and not self.request.is_eager:
        # 30 s, 60 s, 120 s, ...: the backoff the row records, which the sweep honours too.
        raise self.retry(countdown=emails.seconds_until_retry(outbox_id))
    return outcome


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Re-enqueue e-mails whose task was lost (broker down, worker killed)."""
    stuck = emails.stuck_ids()
    for outbox_id in stuck:
        send_outbound_email.delay(outbox_id)
    return len(stuck)


@shared_task(ignore_result=True)
def refresh_campaign_stats(campaign_id: int | None = None) -> int:
    """Rebuild one campaign's dashboard figures, or every campaign's (Celery beat)."""
    from . import stats
    from .models import Campaign

    campaigns = Campaign.objects.select_related("stats").order_by("id")
    if campaign_id is not None:
        campaigns = campaigns.filter(pk=campaign_id)
    refreshed = 0
    for campaign in campaigns:
        # The periodic run skips campaigns refreshed lately (a big one less often).
        if campaign_id is None and not stats.is_due(campaign):
            continue
        refreshed += stats.refresh_once(campaign=campaign)
    return refreshed


@shared_task(ignore_result=True)
def run_seed_import(job_id: int) -> str:
    """Validate and import one uploaded CSV of seed invitees; safe to run twice."""
    from . import imports

    return imports.run(job_id=job_id)


@shared_task(ignore_result=True)
def sweep_seed_imports() -> int:
    """Re-enqueue seed imports whose task was lost (broker down, worker killed)."""
    from . import imports

    stalled = imports.sweep()
    for job_id in stalled:
        run_seed_import.delay(job_id)
    return len(stalled)
