"""Events written with their cause, delivered signed to a real HTTP server, retried, once."""

import hashlib
import hmac
import json
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badges import services as badges
from referrals import services, tree
from tests.helpers import make_user
from webhooks import services as webhooks
from webhooks.models import Delivery, Endpoint, Event
from webhooks.tasks import deliver_webhook


def join_with_invite_of(member, username):
    invite = services.create_invite(member=member)
    return services.redeem_invite(code=invite.code, user=make_user(username))


def test_a_signup_records_its_event_in_the_same_transaction(
    alice, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        bob = join_with_invite_of(alice, "bob")
    event = Event.objects.get(type="member.joined")
    assert event.key == f"member.joined:{bob.pk}"
    assert event.data["member"]["id"] == bob.pk
    assert event.data["member"]["inviter_id"] == alice.pk
    assert event.data["campaign"] == "default"
    assert Delivery.objects.get(event=event).status == "pending"
    assert callbacks  # the delivery task is enqueued only once the signup commits


def test_a_campaign_without_endpoints_pays_one_query_and_writes_nothing(alice, bob):
    with CaptureQueriesContext(connection) as queries:
        assert webhooks.member_joined(bob) is None
    assert len(queries) == 1
    assert not Event.objects.exists()


def test_endpoints_get_only_the_events_they_chose(alice, campaign, receiver):
    Endpoint.objects.create(campaign=campaign, url=receiver.url, events=["member.activated"])
    Endpoint.objects.create(
        campaign=campaign, url=receiver.url + "paused", events=["member.joined"], is_active=False
    )
    bob = join_with_invite_of(alice, "bob")
    assert not Event.objects.exists()
    services.activate_member(member=bob)
    assert list(Event.objects.values_list("type", flat=True)) == ["member.activated"]


def test_the_receiver_can_verify_the_signature(alice, endpoint, receiver):
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "delivered"
    [request] = receiver.requests
    body, headers = request["body"], request["headers"]
    expected = hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Passalong-Signature"], f"sha256={expected}")
    wrong = hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Passalong-Signature"] != f"sha256={wrong}"
    payload = json.loads(body)
    assert headers["X-Passalong-Event"] == payload["type"] == "member.joined"
    assert headers["X-Passalong-Delivery"] == payload["id"] == str(delivery.event.event_id)
    assert headers["Content-Type"] == "application/json"


def test_a_delivery_records_the_receivers_response_code(alice, endpoint, receiver):
    receiver.status = 204
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 204, 1)
    assert delivery.delivered_at is not None


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(alice, endpoint, receiver):
    receiver.status = 500
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    outcomes, waits = [], []
    for _ in range(webhooks.MAX_ATTEMPTS):
        before = timezone.now()
        outcomes.append(webhooks.deliver(delivery.pk))
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - before).total_seconds()))
    assert outcomes == ["retry"] * (webhooks.MAX_ATTEMPTS - 1) + ["failed"]
    assert waits[:3] == [30, 60, 120]
    assert (delivery.status, delivery.response_code) == ("failed", 500)
    assert delivery.last_error.startswith("HTTP 500")
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    assert webhooks.deliver(delivery.pk) == "busy"  # given up: nothing more is sent
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_a_receiver_that_is_down_is_retried(alice, campaign, receiver):
    receiver.stop()
    Endpoint.objects.create(campaign=campaign, url=receiver.url, events=["member.joined"])
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


def test_a_delivered_event_is_never_sent_again(alice, endpoint, receiver):
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "delivered"
    assert webhooks.deliver(delivery.pk) == "busy"
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "busy"
    assert len(receiver.requests) == 1


def test_a_delivery_leased_to_another_worker_is_left_alone(alice, endpoint, receiver):
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status="sending", locked_until=timezone.now() + timedelta(minutes=1)
    )
    assert webhooks.deliver(delivery.pk) == "busy"
    assert receiver.requests == []
    # A lease that ran out (the worker died) is taken over.
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now())
    assert webhooks.deliver(delivery.pk) == "delivered"


def test_redirects_are_not_followed(alice, endpoint, receiver):
    receiver.status = 302
    receiver.location = receiver.url + "/elsewhere"
    join_with_invite_of(alice, "bob")
    assert webhooks.deliver(Delivery.objects.get().pk) == "retry"
    assert [r["path"] for r in receiver.requests] == ["/hooks"]
    assert Delivery.objects.get().response_code == 302


def test_event_ids_are_unique_and_one_cause_makes_one_event(alice, endpoint):
    bob = join_with_invite_of(alice, "bob")
    join_with_invite_of(alice, "carol")
    assert webhooks.member_joined(bob) is None  # the same cause again: nothing new
    ids = list(Event.objects.values_list("event_id", flat=True))
    assert len(ids) == 2
    assert len(set(ids)) == 2


def test_activation_and_badges_emit_their_events(alice, endpoint):
    bob = join_with_invite_of(alice, "bob")
    tree.fold_all()
    services.activate_member(member=bob)
    services.activate_member(member=bob)  # a second report: no second event
    bob.refresh_from_db()
    badges.refresh_awards(member=bob)
    types = sorted(Event.objects.values_list("type", flat=True))
    assert types.count("member.activated") == 1
    assert "badge.awarded" in types
    award_event = Event.objects.filter(type="badge.awarded").first()
    assert award_event.data["member"]["id"] == bob.pk
    assert award_event.data["badge"]["slug"]


def test_the_sweep_finds_deliveries_whose_task_was_lost(alice, endpoint):
    join_with_invite_of(alice, "bob")
    delivery = Delivery.objects.get()
    assert webhooks.stuck_ids() == []
    later = timezone.now() + webhooks.STUCK_AFTER + timedelta(seconds=1)
    assert webhooks.stuck_ids(now=later) == [delivery.pk]


def test_the_sweep_is_scheduled(settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["sweep-webhooks"]["task"] == "webhooks.tasks.sweep_webhooks"
    )


def test_a_switched_off_endpoint_gets_nothing(alice, endpoint, receiver):
    join_with_invite_of(alice, "bob")
    Endpoint.objects.update(is_active=False)
    assert webhooks.deliver(Delivery.objects.get().pk) == "skipped"
    assert receiver.requests == []
