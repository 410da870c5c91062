"""Failure drills: a real SMTP server that refuses, a fault injected mid-signup.

Nothing is lost, nothing is doubled: the e-mail arrives once after the
temporary refusals, a permanent refusal is a visible failure, and a signup
that fails half-way leaves nothing behind.
"""

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.test import Client

from referrals import emails, outbox, services
from referrals.models import Invite, Member, OutboundEmail, Redemption
from tests.helpers import free_port
from webhooks.models import Event


class Moody:
    """An SMTP server that answers 451 `refusals` times, then `then` (250: accept)."""

    def __init__(self, refusals: int, then: str = "250 OK"):
        self.refusals, self.then = refusals, then
        self.received: list[bytes] = []
        self.tries = 0

    async def handle_DATA(self, server, session, envelope):
        self.tries += 1
        if self.tries <= self.refusals:
            return "451 4.3.0 Try again later"
        if self.then.startswith("250"):
            self.received.append(envelope.content)
        return self.then


@pytest.fixture
def smtp(settings):
    """Start a Moody server on loopback and point Django's SMTP backend at it."""
    started = []

    def start(refusals: int, then: str = "250 OK") -> Moody:
        handler = Moody(refusals, then)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return handler

    yield start
    for controller in started:
        controller.stop()


def retry_now(row: OutboundEmail) -> None:
    """Let the backoff pass (the task would wait for it)."""
    OutboundEmail.objects.filter(pk=row.pk).update(locked_until=None)


def test_an_email_refused_with_4xx_three_times_is_retried_and_arrives_once(alice, smtp):
    server = smtp(refusals=3)
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    outcomes = []
    for _ in range(5):
        outcomes.append(outbox.deliver(row.pk))
        retry_now(row)
    assert outcomes == ["retry", "retry", "retry", "sent", "busy"]
    assert len(server.received) == 1 and server.tries == 4
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 4)


def test_a_permanent_5xx_refusal_ends_as_a_visible_failure_at_once(alice, smtp):
    server = smtp(refusals=0, then="550 5.1.1 No such mailbox")
    invite = emails.invite_by_email(member=alice, address="nobody@example.com")
    row = invite.emails.get()
    assert outbox.deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 1
    assert "550" in row.last_error and "No such mailbox" in row.last_error
    assert not server.received
    assert outbox.deliver(row.pk) == "busy"  # never tried again
    assert row.pk not in outbox.stuck_ids()


def test_a_fault_between_the_user_and_the_redemption_leaves_nothing(
    alice, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    invite = services.create_invite(member=alice)

    def disk_full(*args, **kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(Redemption.objects, "create", disk_full)
    client = Client(raise_request_exception=False)
    before = (OutboundEmail.objects.count(), Event.objects.count())
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            "/accounts/signup/",
            {
                "code": invite.code,
                "email": "zed@example.com",
                "username": "zed",
                "password1": "a long unusual passphrase 42",
                "password2": "a long unusual passphrase 42",
            },
        )
    assert response.status_code == 500  # an honest error page; and nothing half-made:
    assert not get_user_model().objects.filter(username="zed").exists()
    assert not Member.objects.filter(user__username="zed").exists()
    assert Invite.objects.get(pk=invite.pk).uses == 0
    assert (OutboundEmail.objects.count(), Event.objects.count()) == before
    assert queued == []  # no task (e-mail, fold, webhook) was queued for the attempt
