"""Emitting webhook events and delivering them, signed, exactly once per endpoint.

Emit: the handlers of referrals.events (subscribed in WebhooksConfig.ready),
run inside the transaction of their cause (a signup, an activation, an
award). One indexed query finds the campaign's active endpoints; with none
subscribed nothing else happens, so signups stay as fast as before. Else an
Event row (unique key per cause) and a Delivery per endpoint are inserted,
and a task is enqueued on commit for each.

Deliver: the Delivery row is claimed (pending -> sending, with a lease) by a
conditional UPDATE, so a retry or a second worker never posts it twice; a
failure goes back to pending with a backoff, and ends "failed" after
MAX_ATTEMPTS. A periodic sweep re-enqueues what a lost task left behind.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.celery import enqueue_on_commit
from referrals.models import Campaign, Member

from .models import Delivery, Endpoint, Event, EventType
from .targets import UnsafeTarget, check_peer, check_url

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)
STUCK_AFTER = timedelta(minutes=2)
BACKOFF = timedelta(seconds=30)
SIGNATURE_HEADER = "X-Passalong-Signature"
EVENT_HEADER = "X-Passalong-Event"
DELIVERY_HEADER = "X-Passalong-Delivery"
USER_AGENT = "Passalong-Webhooks/1"


# --- Emitting -----------------------------------------------------------------


def member_joined(member: Member) -> Event | None:
    """Record member.joined for the campaign's subscribed endpoints (nothing when none are)."""
    return _emit(
        EventType.MEMBER_JOINED,
        member.campaign,
        key=f"member.joined:{member.pk}",
        data=lambda: {"member": _member_data(member)},
    )


def member_activated(member: Member) -> Event | None:
    """Record member.activated for the campaign's subscribed endpoints (nothing when none are)."""
    return _emit(
        EventType.MEMBER_ACTIVATED,
        member.campaign,
        key=f"member.activated:{member.pk}",
        data=lambda: {"member": _member_data(member)},
    )


def badge_awarded(*, award, member: Member) -> Event | None:
    """Record badge.awarded (a new award or a new tier) for the subscribed endpoints."""
    return _emit(
        EventType.BADGE_AWARDED,
        member.campaign,
        key=f"badge.awarded:{award.pk}:{award.tier}",
        data=lambda: {
            "badge": {"slug": award.slug, "tier": award.tier, "award_id": award.pk},
            "member": _member_data(member),
        },
    )


def _member_data(member: Member) -> dict:
    return {
        "id": member.pk,
        "username": member.user.username if member.user_id else None,
        "inviter_id": member.inviter_id,
        "depth": member.depth,
        "join_number": member.join_number,
        "joined_at": member.joined_at.isoformat(),
        "activated_at": member.activated_at.isoformat() if member.activated_at else None,
    }


def _emit(event_type: str, campaign: Campaign, *, key: str, data: Callable[[], dict]):
    # The one query every signup pays: the (campaign, is_active) index.
    endpoints = [
        e
        for e in Endpoint.objects.filter(campaign_id=campaign.pk, is_active=True).only(
            "id", "events", "is_active"
        )
        if e.wants(event_type)
    ]
    if not endpoints:
        return None
    try:
        with transaction.atomic():
            event = Event.objects.create(
                key=key,
                campaign_id=campaign.pk,
                type=event_type,
                data={"campaign": campaign.slug, **data()},
            )
    except IntegrityError:
        return None  # this cause has its event already
    deliveries = Delivery.objects.bulk_create(
        [Delivery(event=event, endpoint=e, next_attempt_at=event.created_at) for e in endpoints]
    )
    for delivery in deliveries:
        _enqueue_on_commit(delivery.pk)
    return event


def _enqueue_on_commit(delivery_id: int) -> None:
    # Broker down: the row stays pending and the sweep re-enqueues it.
    enqueue_on_commit(deliver_webhook, delivery_id, what=f"webhook delivery {delivery_id}")


def send_test_event(*, endpoint: Endpoint) -> Delivery:
    """Queue a `ping` delivery to one endpoint so its owner can check the receiver."""
    with transaction.atomic():
        event = Event.objects.create(
            key=f"ping:{endpoint.pk}:{timezone.now().timestamp()}",
            campaign_id=endpoint.campaign_id,
            type=EventType.PING,
            data={"campaign": endpoint.campaign.slug, "endpoint_id": endpoint.pk},
        )
        delivery = Delivery.objects.create(event=event, endpoint=endpoint)
        _enqueue_on_commit(delivery.pk)
    return delivery


# --- Signing and delivering -------------------------------------------------------


def body_of(event: Event) -> bytes:
    """The exact bytes posted (and signed): the same on every attempt."""
    envelope = {
        "id": str(event.event_id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """The X-Passalong-Signature value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, then 60 s, 120 s, ..."""
    return BACKOFF * 2 ** max(attempts - 1, 0)


def deliver(delivery_id: int) -> str:
    """Post one delivery unless someone else is; returns what happened.

    'delivered', 'skipped' (endpoint switched off), 'busy' (delivered already,
    given up, or leased to another worker), 'retry' or 'failed' (gave up).
    """
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=Delivery.Status.PENDING)
            | Q(status=Delivery.Status.SENDING, locked_until__lt=now)
        )
        .update(
            status=Delivery.Status.SENDING, locked_until=now + LEASE, attempts=F("attempts") + 1
        )
    )
    if not claimed:
        return "busy"
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, Delivery.Status.SKIPPED, error="The endpoint is switched off.")
        return "skipped"
    try:
        check_url(endpoint.url)
    except UnsafeTarget as refused:
        _finish(delivery, Delivery.Status.FAILED, error=str(refused))
        return "failed"
    body = body_of(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(endpoint.secret, body),
        EVENT_HEADER: delivery.event.type,
        DELIVERY_HEADER: str(delivery.event.event_id),
    }
    try:
        code, error = _post(endpoint.url, body, headers)
    except UnsafeTarget as refused:
        _finish(delivery, Delivery.Status.FAILED, error=str(refused))
        return "failed"
    if code is not None and 200 <= code < 300:
        _finish(delivery, Delivery.Status.DELIVERED, code=code)
        return "delivered"
    failed = delivery.attempts >= MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED if failed else Delivery.Status.PENDING,
        response_code=code,
        last_error=error[:2000],
        locked_until=None,
        next_attempt_at=timezone.now() + retry_delay(delivery.attempts),
    )
    return "failed" if failed else "retry"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could point at an internal address we never checked.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _PeerChecked(http.client.HTTPConnection):
    # Checks the address the TCP connection reached, before TLS and the request.
    def connect(self):
        super().connect()
        try:
            check_peer(self.sock)
        except UnsafeTarget:
            self.close()
            raise


class _CheckedHTTPConnection(_PeerChecked):
    pass


class _CheckedHTTPSConnection(http.client.HTTPSConnection, _PeerChecked):
    # HTTPSConnection.connect -> _PeerChecked.connect (TCP, check) -> TLS.
    pass


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirects, _CheckedHTTPHandler, _CheckedHTTPSHandler
)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST and return (status code or None, error text or "")."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked in check_url)
    try:
        with _opener.open(request, timeout=settings.WEBHOOKS_TIMEOUT) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as answered:
        answered.close()
        return answered.code, f"HTTP {answered.code} {answered.reason}"
    except UnsafeTarget:
        raise  # not worth a retry: the caller gives the delivery up
    except Exception as exc:  # DNS, refused, reset, timeout, TLS: all worth a retry
        return None, f"{type(exc).__name__}: {exc}"


def _finish(delivery: Delivery, status: str, *, code: int | None = None, error: str = "") -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        response_code=code,
        last_error=error,
        locked_until=None,
        delivered_at=timezone.now() if status == Delivery.Status.DELIVERED else None,
    )


def stuck_ids(now=None) -> list[int]:
    """Deliveries no live task will make: due a while ago, or a lease that ran out."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING, next_attempt_at__lt=now - STUCK_AFTER)
            | Q(status=Delivery.Status.SENDING, locked_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:1000]
    )


# --- Tasks (beside what they run; names kept from webhooks.tasks for queued messages) ---


@shared_task(
    name="webhooks.tasks.deliver_webhook", bind=True, ignore_result=True, max_retries=MAX_ATTEMPTS
)
def deliver_webhook(self, delivery_id: int) -> str:
    """Post one delivery; retried with exponential backoff while the receiver fails."""
    outcome = deliver(delivery_id)
    if outcome == "retry" and not self.request.is_eager:
        # 30 s, 60 s, 120 s, ...; the row stays pending meanwhile.
        raise self.retry(countdown=retry_delay(self.request.retries + 1).total_seconds())
    return outcome


@shared_task(name="webhooks.tasks.sweep_webhooks", ignore_result=True)
def sweep_webhooks() -> int:
    """Re-enqueue deliveries whose task was lost (broker down, worker killed) or is overdue."""
    stuck = stuck_ids()
    for delivery_id in stuck:
        deliver_webhook.delay(delivery_id)
    return len(stuck)
