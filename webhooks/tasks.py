"""Webhook tasks: thin wrappers that load by id and call a service; safe to run twice."""

from celery import shared_task

from . import services


@shared_task(bind=True, ignore_result=True, max_retries=services.MAX_ATTEMPTS)
def deliver_webhook(self, delivery_id: int) -> str:
    """Post one delivery; retried with exponential backoff while the receiver fails."""
    outcome = services.deliver(delivery_id)
    if outcome == "retry" and not self.request.is_eager:
        # 30 s, 60 s, 120 s, ...; the row stays pending meanwhile.
        raise self.retry(countdown=services.retry_delay(self.request.retries + 1).total_seconds())
    return outcome


@shared_task(ignore_result=True)
def sweep_webhooks() -> int:
    """Re-enqueue deliveries whose task was lost (broker down, worker killed) or is overdue."""
    stuck = services.stuck_ids()
    for delivery_id in stuck:
        deliver_webhook.delay(delivery_id)
    return len(stuck)
