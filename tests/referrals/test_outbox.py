"""The e-mail outbox: invites by e-mail, delivery exactly once, retries, opt-out, notices, resends.

Delivery is driven by calling `outbox.deliver` (or the task body through
`.apply()`) in-process, so these tests behave the same with and without
CELERY_BROKER_URL. Only SMTP is faked, by the small backends below.
"""

import re
import smtplib
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import IntegrityError, connection
from django.utils import timezone

from referrals import emails, outbox, services
from referrals.models import DoNotInvite, Invite, InviteEvent, Member, OutboundEmail
from referrals.tasks import send_outbound_email, sweep_outbox
from tests.helpers import make_user

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
NO_INVITES_LEFT = (
    "You have no invites left. Invites you revoke come back, and active invitees earn more."
)
OPTED_OUT = "This person has asked not to receive invites."


class SmtpDown(BaseEmailBackend):
    """An SMTP server that hangs up on every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class SecondWorkerMidSend(LocmemBackend):
    """While the first worker talks to SMTP, a second worker is handed the same row."""

    outcomes: list[str] = []
    handed_over = False

    def send_messages(self, messages):
        if not SecondWorkerMidSend.handed_over:
            SecondWorkerMidSend.handed_over = True
            outbox_id = int(
                re.match(r"<outbox-(\d+)\.", messages[0].extra_headers["Message-ID"])[1]
            )
            self.outcomes.append(outbox.deliver(outbox_id))
        return super().send_messages(messages)


class SlowSmtp(LocmemBackend):
    """An SMTP server that takes a moment to accept a message: a wide window for a race."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


def give_invites(member: Member, n: int) -> None:
    Member.objects.filter(pk=member.pk).update(invites_left=n)


def invites_left(member: Member) -> int:
    return Member.objects.values_list("invites_left", flat=True).get(pk=member.pk)


def age(rows, by: timedelta) -> None:
    """Move outbox rows back in time, as if they had been written `by` ago."""
    for row in rows:
        OutboundEmail.objects.filter(pk=row.pk).update(created_at=row.created_at - by)


def wait_out_backoff(row: OutboundEmail) -> None:
    """As if the retry delay of a failed row had passed."""
    OutboundEmail.objects.filter(pk=row.pk, status="pending").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )


def status(row: OutboundEmail) -> str:
    row.refresh_from_db()
    return row.status


# --- Writing an invite e-mail -------------------------------------------------


def test_it_writes_the_invite_and_one_pending_email_and_enqueues_only_on_commit(
    alice, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks() as enqueued:
        invite = emails.invite_by_email(
            member=alice, address="  Zed@Example.COM ", note="You'll like it here."
        )
        # Nothing goes out while the transaction is still open.
        assert mailoutbox == []
    assert invite.recipient_email == "zed@example.com"
    assert invite.note == "You'll like it here."
    [row] = OutboundEmail.objects.all()
    assert (row.kind, row.status, row.to_email) == ("invite", "pending", "zed@example.com")
    assert row.invite == invite
    assert row.sender == alice
    assert len(enqueued) == 1
    assert invites_left(alice) == alice.campaign.default_quota - 1
    assert alice.invites_left == alice.campaign.default_quota - 1


def test_the_invite_and_its_email_are_written_in_one_transaction(alice):
    probe = services.create_invite(member=alice)
    # A clash on the next invite's outbox key makes the e-mail insert fail...
    OutboundEmail.objects.create(
        key=f"invite:{probe.pk + 1}:1", kind="invite", to_email="someone@example.com"
    )
    with pytest.raises(IntegrityError):
        emails.invite_by_email(member=alice, address="zed@example.com")
    # ...and the invite and the spent quota go with it.
    assert not Invite.objects.filter(recipient_email="zed@example.com").exists()
    assert invites_left(alice) == alice.campaign.default_quota - 1


def test_it_writes_nothing_when_the_member_has_no_invites_left(alice):
    give_invites(alice, 0)
    with pytest.raises(emails.EmailRefused) as refused:
        emails.invite_by_email(member=alice, address="zed@example.com")
    assert refused.value.message == NO_INVITES_LEFT
    assert not Invite.objects.filter(owner=alice).exists()
    assert not OutboundEmail.objects.exists()
    assert invites_left(alice) == 0


def test_the_daily_limit_refuses_the_third_email_with_a_reason(alice, campaign):
    campaign.daily_email_limit = 2
    campaign.save()
    give_invites(alice, 10)
    first = emails.invite_by_email(member=alice, address="one@example.com")
    emails.invite_by_email(member=alice, address="two@example.com")
    with pytest.raises(emails.EmailRefused) as refused:
        emails.invite_by_email(member=alice, address="three@example.com")
    assert refused.value.message == (
        "You've sent as many invite e-mails as you can today. "
        "Personal invites work best a few at a time: try again tomorrow."
    )
    assert not Invite.objects.filter(recipient_email="three@example.com").exists()
    assert OutboundEmail.objects.count() == 2
    assert invites_left(alice) == 8
    # The limit is per 24 hours, not forever.
    age(OutboundEmail.objects.filter(invite=first), timedelta(hours=25))
    emails.invite_by_email(member=alice, address="three@example.com")
    assert OutboundEmail.objects.count() == 3


# --- Delivery -----------------------------------------------------------------


def test_delivery_sends_one_email_with_the_note_the_link_and_a_working_opt_out(
    alice, client, mailoutbox
):
    invite = emails.invite_by_email(
        member=alice, address="zed@example.com", note="Fish & chips on me <3"
    )
    row = invite.emails.get()
    assert outbox.deliver(row.pk) == "sent"

    [message] = mailoutbox
    assert message.to == ["zed@example.com"]
    assert message.subject == "Alice invited you to Passalong beta"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    link = f"{django_settings.SITE_URL}/i/{invite.code}/"
    assert link in message.body
    assert f'href="{link}"' in html
    assert "Fish & chips on me <3" in message.body
    assert "Fish &amp; chips on me &lt;3" in html
    assert "<3" not in html

    optout = re.search(
        re.escape(django_settings.SITE_URL) + r"(/no-invites/[^/\s]+/)", message.body
    )
    assert optout, message.body
    assert f'href="{django_settings.SITE_URL}{optout[1]}"' in html
    assert client.post(optout[1]).status_code == 200
    assert DoNotInvite.objects.filter(email="zed@example.com").exists()

    row.refresh_from_db()
    assert row.status == "sent"
    assert row.sent_at is not None
    assert row.attempts == 1
    assert InviteEvent.objects.filter(invite=invite, kind="sent").count() == 1


def test_delivering_the_same_row_again_sends_nothing_more(alice, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    assert outbox.deliver(row.pk) == "sent"
    assert outbox.deliver(row.pk) == "busy"
    # The task body, as a Celery retry or a duplicate message would run it.
    assert send_outbound_email.apply(args=[row.pk]).get() == "busy"
    assert len(mailoutbox) == 1
    assert InviteEvent.objects.filter(invite=invite, kind="sent").count() == 1


def test_enqueued_delivery_and_a_direct_one_still_send_once(
    alice, django_capture_on_commit_callbacks, mailoutbox
):
    # Without a broker the on-commit task delivers in-process and the direct
    # call finds the row taken; with a broker the task only reaches the queue
    # and the direct call delivers. One e-mail either way.
    with django_capture_on_commit_callbacks(execute=True):
        invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    outbox.deliver(row.pk)
    assert len(mailoutbox) == 1
    assert status(row) == "sent"


def test_a_second_worker_handed_the_row_mid_send_backs_off(alice, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.SecondWorkerMidSend"
    SecondWorkerMidSend.outcomes = []
    SecondWorkerMidSend.handed_over = False
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    assert outbox.deliver(row.pk) == "sent"
    assert SecondWorkerMidSend.outcomes == ["busy"]
    assert len(mailoutbox) == 1


def test_a_lease_held_by_another_worker_is_respected_until_it_runs_out(alice, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    OutboundEmail.objects.filter(pk=row.pk).update(
        status="sending", locked_until=timezone.now() + timedelta(minutes=1)
    )
    assert outbox.deliver(row.pk) == "busy"
    assert mailoutbox == []
    # That worker died: once its lease runs out, the row is anyone's again.
    OutboundEmail.objects.filter(pk=row.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.deliver(row.pk) == "sent"
    assert len(mailoutbox) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="real threads racing need PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1/...",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_for_one_row_send_it_once(alice, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.SlowSmtp"
    # Written without an on-commit enqueue: here the test decides who delivers.
    invite = services.create_invite(member=alice, recipient_email="zed@example.com")
    row = OutboundEmail.objects.create(
        key=f"invite:{invite.pk}:1", kind="invite", to_email="zed@example.com", invite=invite
    )
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(outbox.deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy", "sent"]
    assert len(mailoutbox) == 1
    assert status(row) == "sent"


# --- Failures and retries -------------------------------------------------------


def test_an_smtp_failure_leaves_the_row_pending_for_a_retry(alice, settings, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDown"
    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    # Not before its backoff: 30 s after the first failure.
    assert row.locked_until - timezone.now() > outbox.RETRY_FIRST - timedelta(seconds=5)
    assert not InviteEvent.objects.filter(invite=invite, kind="sent").exists()

    settings.EMAIL_BACKEND = LOCMEM  # the server is back
    wait_out_backoff(row)
    assert outbox.deliver(row.pk) == "sent"
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_it_gives_up_after_max_attempts_and_never_sends_afterwards(alice, settings, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDown"
    outcomes = []
    for _ in range(outbox.MAX_ATTEMPTS):
        outcomes.append(outbox.deliver(row.pk))
        wait_out_backoff(row)
    assert outcomes == ["retry"] * (outbox.MAX_ATTEMPTS - 1) + ["failed"]
    row.refresh_from_db()
    assert row.status == "failed"
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert row.last_error.startswith("SMTPServerDisconnected")

    settings.EMAIL_BACKEND = LOCMEM
    assert outbox.deliver(row.pk) == "busy"
    assert mailoutbox == []
    # Given up for good: the sweep leaves it alone too.
    age([row], outbox.STUCK_AFTER * 10)
    assert row.pk not in outbox.stuck_ids()


def test_an_email_that_gave_up_shows_as_failed_to_the_operator(admin_client, alice, settings):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    emails.invite_by_email(member=alice, address="amy@example.com")
    row = invite.emails.get()
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDown"
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.deliver(row.pk)
        wait_out_backoff(row)

    listing = admin_client.get("/admin/referrals/outboundemail/?status__exact=failed")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [row]
    detail = admin_client.get(f"/admin/referrals/outboundemail/{row.pk}/change/")
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in detail.content.decode()


def test_a_failed_email_waits_out_its_backoff_even_for_the_sweep(alice, settings, mailoutbox):
    row = emails.invite_by_email(member=alice, address="zed@example.com").emails.get()
    age([row], outbox.STUCK_AFTER * 2)  # old enough for the sweep
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDown"
    assert outbox.deliver(row.pk) == "retry"
    # A sweep or a stray second task right after the failure does not hammer
    # the server (five quick tries would give the e-mail up during a short outage).
    settings.EMAIL_BACKEND = LOCMEM
    assert row.pk not in outbox.stuck_ids()
    assert outbox.deliver(row.pk) == "busy"
    assert mailoutbox == []
    # The delays grow: 30 s, 60 s, 120 s, ...
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert 29 <= outbox.seconds_until_retry(row.pk) <= 31 + 1

    wait_out_backoff(row)
    assert outbox.stuck_ids() == [row.pk]
    assert outbox.deliver(row.pk) == "sent"
    assert len(mailoutbox) == 1


# --- The sweep ------------------------------------------------------------------


def test_stuck_ids_finds_rows_no_task_will_deliver(alice):
    give_invites(alice, 10)
    rows = [
        emails.invite_by_email(member=alice, address=f"{name}@example.com").emails.get()
        for name in ("old", "lapsed", "fresh", "leased", "sent")
    ]
    old, lapsed, fresh, leased, sent = rows
    age([old], outbox.STUCK_AFTER + timedelta(seconds=5))
    now = timezone.now()
    OutboundEmail.objects.filter(pk=lapsed.pk).update(
        status="sending", locked_until=now - timedelta(seconds=1)
    )
    OutboundEmail.objects.filter(pk=leased.pk).update(
        status="sending", locked_until=now + outbox.lease()
    )
    assert outbox.deliver(sent.pk) == "sent"
    age([leased, sent], outbox.STUCK_AFTER * 10)

    assert outbox.stuck_ids() == [old.pk, lapsed.pk]
    assert fresh.pk not in outbox.stuck_ids()


def test_the_sweep_re_enqueues_what_a_lost_task_left_behind(alice, mailoutbox):
    lost = emails.invite_by_email(member=alice, address="lost@example.com").emails.get()
    fresh = emails.invite_by_email(member=alice, address="fresh@example.com").emails.get()
    age([lost], outbox.STUCK_AFTER * 2)

    assert sweep_outbox.apply().get() == 1
    # Without a broker the sweep delivered in-process; with one, it queued the
    # task and this call does what the worker would. Still one e-mail.
    outbox.deliver(lost.pk)
    assert [m.to for m in mailoutbox] == [["lost@example.com"]]
    assert status(lost) == "sent"
    assert status(fresh) == "pending"


# --- "Don't invite me again" ------------------------------------------------------


def test_opening_the_opt_out_link_only_asks_and_posting_it_records(client, db):
    url = f"/no-invites/{outbox.optout_token('Zed@Example.com')}/"
    # Mail scanners and link previews open every link in a message.
    response = client.get(url)
    assert response.status_code == 200
    assert "Stop invites to zed@example.com?" in response.content.decode()
    assert not DoNotInvite.objects.exists()

    response = client.post(url)
    assert response.status_code == 200
    assert "Done: no more invites" in response.content.decode()
    assert client.post(url).status_code == 200  # twice is harmless
    assert list(DoNotInvite.objects.values_list("email", flat=True)) == ["zed@example.com"]


@pytest.mark.parametrize("spelling", ["zed@example.com", "ZED@Example.Com", "  zed@example.com  "])
def test_an_opted_out_address_cannot_be_invited_in_any_spelling(client, alice, spelling):
    client.post(f"/no-invites/{outbox.optout_token('zed@example.com')}/")
    with pytest.raises(emails.EmailRefused) as refused:
        emails.invite_by_email(member=alice, address=spelling)
    assert refused.value.message == OPTED_OUT
    assert not Invite.objects.filter(owner=alice).exists()
    assert not OutboundEmail.objects.exists()
    assert invites_left(alice) == alice.campaign.default_quota


def test_a_pending_invite_to_an_address_that_opts_out_is_skipped(client, alice, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    row = invite.emails.get()
    client.post(f"/no-invites/{outbox.optout_token('zed@example.com')}/")
    assert outbox.deliver(row.pk) == "skipped"
    assert mailoutbox == []
    assert status(row) == "skipped"
    assert not InviteEvent.objects.filter(invite=invite, kind="sent").exists()


def test_a_pending_invite_that_was_revoked_is_skipped(alice, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    services.revoke_invite(invite=invite)
    assert outbox.deliver(invite.emails.get().pk) == "skipped"
    assert mailoutbox == []


def test_a_tampered_opt_out_token_is_not_found(client, db):
    zed = outbox.optout_token("zed@example.com")
    amy = outbox.optout_token("amy@example.com")
    # Amy's address under the signature made for Zed's.
    forged = amy.split(":", 1)[0] + ":" + zed.split(":", 1)[1]
    for token in (forged, zed[:-3], "nonsense"):
        assert client.get(f"/no-invites/{token}/").status_code == 404
        assert client.post(f"/no-invites/{token}/").status_code == 404
    assert not DoNotInvite.objects.exists()


# --- Notices to inviters ----------------------------------------------------------


def test_an_inviter_hears_once_that_their_invitee_joined(alice, mailoutbox):
    assert not OutboundEmail.objects.exists()  # a seed member has nobody to tell
    invite = services.create_invite(member=alice)
    bob = services.redeem_invite(code=invite.code, user=make_user("bob"))
    [row] = OutboundEmail.objects.all()
    assert (row.kind, row.to_email, row.status) == (
        "invitee_joined",
        "alice@example.com",
        "pending",
    )
    assert row.subject_member == bob
    assert outbox.queue_notice(kind="invitee_joined", invitee=bob) is None
    assert OutboundEmail.objects.count() == 1

    assert outbox.deliver(row.pk) == "sent"
    [message] = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Bob joined Passalong beta with your invite"
    assert f"{django_settings.SITE_URL}/network/" in message.body
    assert f"{django_settings.SITE_URL}/settings/" in message.body
    assert message.alternatives[0].mimetype == "text/html"


def test_activation_queues_one_notice_however_often_it_is_reported(bob, mailoutbox):
    assert services.activate_member(member=bob) is True
    assert services.activate_member(member=bob) is False
    assert outbox.queue_notice(kind="invitee_activated", invitee=bob) is None
    [row] = OutboundEmail.objects.filter(kind="invitee_activated")
    assert row.to_email == "alice@example.com"
    assert row.subject_member == bob
    assert outbox.deliver(row.pk) == "sent"
    [message] = mailoutbox
    assert message.subject == "Bob is now active on Passalong beta"


def test_no_join_notice_for_an_inviter_who_turned_it_off(alice):
    alice.user.email_on_join = False
    alice.user.save()
    invite = services.create_invite(member=alice)
    services.redeem_invite(code=invite.code, user=make_user("bob"))
    assert not OutboundEmail.objects.filter(kind="invitee_joined").exists()


def test_no_activation_notice_for_an_inviter_who_turned_it_off(bob):
    inviter = bob.inviter.user
    inviter.email_on_activation = False
    inviter.save()
    assert services.activate_member(member=bob) is True
    assert not OutboundEmail.objects.filter(kind="invitee_activated").exists()


# --- Resending ----------------------------------------------------------------------


def test_resend_is_refused_within_a_day_of_the_last_send(alice):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    age(invite.emails.all(), emails.RESEND_AFTER - timedelta(minutes=5))
    with pytest.raises(emails.EmailRefused) as refused:
        emails.resend_invite(invite=invite)
    assert refused.value.message == "You can resend an invite once a day. Try again tomorrow."
    assert invite.emails.count() == 1


def test_resend_is_allowed_a_day_later_and_sends_a_second_email(alice, mailoutbox):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    first = invite.emails.get()
    assert outbox.deliver(first.pk) == "sent"
    age([first], emails.RESEND_AFTER + timedelta(minutes=1))
    again = emails.resend_invite(invite=invite)
    assert again.pk != first.pk
    assert (again.status, again.to_email, again.sender) == ("pending", "zed@example.com", alice)
    assert outbox.deliver(again.pk) == "sent"
    assert [m.to for m in mailoutbox] == [["zed@example.com"], ["zed@example.com"]]


def test_an_invite_is_sent_three_times_at_most(alice):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    for _ in range(2):
        age(invite.emails.all(), emails.RESEND_AFTER + timedelta(minutes=1))
        emails.resend_invite(invite=invite)
    age(invite.emails.all(), emails.RESEND_AFTER + timedelta(minutes=1))
    with pytest.raises(emails.EmailRefused) as refused:
        emails.resend_invite(invite=invite)
    assert refused.value.message == "This invite has been sent three times already."
    assert invite.emails.count() == 3


def revoked(invite):
    services.revoke_invite(invite=invite)


def used(invite):
    services.redeem_invite(code=invite.code, user=make_user("bob"))


@pytest.mark.parametrize(("spoil", "word"), [(revoked, "revoked"), (used, "redeemed")])
def test_resend_is_refused_for_an_invite_that_is_no_longer_open(alice, spoil, word):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    age(invite.emails.all(), emails.RESEND_AFTER + timedelta(minutes=1))
    spoil(invite)
    with pytest.raises(emails.EmailRefused) as refused:
        emails.resend_invite(invite=Invite.objects.get(pk=invite.pk))
    assert refused.value.message == f"This invite is {word}; only open invites can be resent."
    assert invite.emails.count() == 1


def test_resend_is_refused_once_the_address_opted_out(client, alice):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    age(invite.emails.all(), emails.RESEND_AFTER + timedelta(minutes=1))
    client.post(f"/no-invites/{outbox.optout_token('zed@example.com')}/")
    with pytest.raises(emails.EmailRefused) as refused:
        emails.resend_invite(invite=invite)
    assert refused.value.message == OPTED_OUT
    assert invite.emails.count() == 1


def test_resends_count_towards_the_daily_limit(alice, campaign):
    campaign.daily_email_limit = 2
    campaign.save()
    give_invites(alice, 10)
    yesterday = emails.invite_by_email(member=alice, address="old@example.com")
    age(yesterday.emails.all(), emails.RESEND_AFTER + timedelta(minutes=1))
    emails.invite_by_email(member=alice, address="one@example.com")
    emails.invite_by_email(member=alice, address="two@example.com")
    assert emails.invites_sent_today(alice) == 2  # the limit is reached
    with pytest.raises(emails.EmailRefused) as refused:
        emails.resend_invite(invite=yesterday)
    assert refused.value.message.startswith("You've sent as many invite e-mails as you can today.")
    assert emails.invites_sent_today(alice) == 2
    assert yesterday.emails.count() == 1
