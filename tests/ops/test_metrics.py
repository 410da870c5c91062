"""Each figure on /metrics moves when the thing it counts happens (SQLite and PostgreSQL alike).

Counts kept in this process only grow, so tests compare a scrape before and after.
"""

import contextlib
from datetime import timedelta

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import stats
from referrals import emails, errors, leaks, outbox, services, tree
from referrals.models import OutboundEmail
from tests.helpers import join, make_user, signup
from tests.ops.conftest import value
from webhooks.models import Delivery, Endpoint


def test_a_signup_through_the_site_is_counted_once_it_commits(
    client, alice, scrape, django_capture_on_commit_callbacks
):
    invite = services.create_invite(member=alice)
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        assert signup(client, invite.code, username="newbie").status_code == 302
    after = scrape()
    assert value(after, "passalong_signups_total") == value(before, "passalong_signups_total") + 1


def test_a_signup_that_rolls_back_counts_nothing(alice, scrape, django_capture_on_commit_callbacks):
    invite = services.create_invite(member=alice)
    before = value(scrape(), "passalong_signups_total")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.redeem_invite(code=invite.code, user=make_user("never"))
    assert callbacks  # the count waits for the commit, which never comes here
    assert value(scrape(), "passalong_signups_total") == before


def test_members_per_campaign_follow_the_kept_figures(alice, campaign, scrape):
    stats.refresh(campaign=campaign)
    assert value(scrape(), "passalong_members", campaign="default") == 1
    join(alice, "bob")
    tree.fold_tree()
    assert value(scrape(), "passalong_members", campaign="default") == 2


def refusals(samples: dict) -> dict:
    return {
        reason: value(samples, "passalong_invite_refusals_total", reason=reason)
        for reason in ("unknown", "used_up", "expired", "revoked", "frozen", "closed")
    }


def test_refused_codes_are_counted_by_reason(client, alice, campaign, scrape):
    before = refusals(scrape())
    # An unknown code on the invite page.
    assert client.get("/i/ABCDE-FGHJK-MNPQR/").status_code == 404
    # A used-up code on the signup form.
    used = services.create_invite(member=alice)
    services.redeem_invite(code=used.code, user=make_user("bob"))
    assert signup(client, used.code, username="late").status_code == 200
    # A frozen code: redeemed from too many networks at once.
    campaign.leak_redemptions, campaign.leak_networks = 2, 2
    campaign.save()
    [leaked] = services.create_seed_codes(campaign=campaign, count=1, uses=10)
    for n in (1, 2, 3):
        with contextlib.suppress(errors.CodeFrozen):
            services.redeem_invite(
                code=leaked.code, user=make_user(f"x{n}"), signup_ip=f"198.51.{n}.9"
            )
    after = refusals(scrape())
    assert after["unknown"] == before["unknown"] + 1
    assert after["used_up"] == before["used_up"] + 1
    assert after["frozen"] == before["frozen"] + 1
    assert after["expired"] == before["expired"]


def test_a_good_code_is_never_counted_as_refused(client, alice, scrape):
    invite = services.create_invite(member=alice)
    before = refusals(scrape())
    assert client.get(f"/i/{invite.code}/").status_code == 200
    assert signup(client, invite.code, username="welcome").status_code == 302
    assert refusals(scrape()) == before


def test_frozen_codes_are_counted_until_unfrozen(alice, campaign, scrape):
    assert value(scrape(), "passalong_invites_frozen") == 0
    campaign.leak_redemptions, campaign.leak_networks = 2, 2
    campaign.save()
    [leaked] = services.create_seed_codes(campaign=campaign, count=1, uses=10)
    for n in (1, 2):
        services.redeem_invite(code=leaked.code, user=make_user(f"x{n}"), signup_ip=f"10.0.{n}.9")
    assert value(scrape(), "passalong_invites_frozen") == 1
    leaked.refresh_from_db()
    leaks.unfreeze(invite=leaked, now=timezone.now())
    assert value(scrape(), "passalong_invites_frozen") == 0


def test_an_email_waits_then_counts_as_sent(
    alice, scrape, tasks_in_process, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emails.invite_by_email(member=alice, address="zed@example.com")
    [row] = OutboundEmail.objects.filter(to_email="zed@example.com")
    OutboundEmail.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    waiting = scrape()
    assert value(waiting, "passalong_emails_waiting") == 1
    assert value(waiting, "passalong_emails_last_hour", status="pending") == 1
    assert 299 <= value(waiting, "passalong_emails_oldest_waiting_seconds") < 400
    for callback in callbacks:
        callback()  # the delivery task, in-process; Django's locmem backend is the SMTP server
    assert [m.to for m in mail.outbox] == [["zed@example.com"]]
    sent = scrape()
    assert value(sent, "passalong_emails_waiting") == 0
    assert value(sent, "passalong_emails_oldest_waiting_seconds") == 0
    assert value(sent, "passalong_emails_last_hour", status="sent") == 1
    assert value(sent, "passalong_emails_last_hour", status="pending") == 0


def test_an_email_that_gives_up_counts_as_failed(alice, scrape, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    row = OutboundEmail.objects.create(
        key="test:1", kind="invitee_joined", to_email="amy@example.com", subject_member=alice
    )
    OutboundEmail.objects.filter(pk=row.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    assert outbox.deliver(row.pk) == "failed"  # nothing listens on port 9: the last try fails
    samples = scrape()
    assert value(samples, "passalong_emails_failed") == 1
    assert value(samples, "passalong_emails_last_hour", status="failed") == 1


def test_webhook_deliveries_are_counted_by_outcome(
    alice, campaign, receiver, scrape, tasks_in_process, django_capture_on_commit_callbacks
):
    Endpoint.objects.create(campaign=campaign, url=receiver.url, events=["member.joined"])
    with django_capture_on_commit_callbacks(execute=True):
        join(alice, "bob")
    assert len(receiver.requests) == 1
    samples = scrape()
    assert value(samples, "passalong_webhook_deliveries_last_hour", status="delivered") == 1
    assert value(samples, "passalong_webhook_deliveries_waiting") == 0

    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        join(alice, "carol")
    samples = scrape()
    assert value(samples, "passalong_webhook_deliveries_last_hour", status="delivered") == 1
    assert value(samples, "passalong_webhook_deliveries_last_hour", status="pending") == 1
    assert value(samples, "passalong_webhook_deliveries_waiting") == 1
    # The retry's time comes and goes with nobody delivering: the delivery is overdue.
    Delivery.objects.filter(status="pending").update(
        next_attempt_at=timezone.now() - timedelta(minutes=3)
    )
    assert 179 <= value(scrape(), "passalong_webhook_oldest_overdue_seconds") < 300


def test_fold_lag_shows_members_not_counted_yet(alice, scrape):
    tree.fold_all()
    assert value(scrape(), "passalong_fold_members_behind") == 0
    join(alice, "bob")  # no fold runs: its task waits for a commit that never comes here
    samples = scrape()
    assert value(samples, "passalong_fold_members_behind") == 1
    assert value(samples, "passalong_fold_lag_seconds") >= 0
    tree.fold_tree()
    samples = scrape()
    assert value(samples, "passalong_fold_members_behind") == 0
    assert value(samples, "passalong_fold_lag_seconds") == 0


def test_a_badge_served_twice_is_one_miss_then_one_hit(client, awarded, scrape):
    before = scrape()
    for _ in range(2):
        assert client.get("/badges/alice/passalong.svg").status_code == 200
    after = scrape()

    def moved(result):
        name = "passalong_badge_render_cache_total"
        return value(after, name, result=result) - value(before, name, result=result)

    assert (moved("miss"), moved("hit")) == (1, 1)


def test_latency_is_labelled_by_route_never_by_path(client, alice, scrape, scrape_text):
    invite = services.create_invite(member=alice)
    before = scrape()
    assert client.get(f"/i/{invite.code}/").status_code == 200
    assert client.get(f"/i/{invite.display_code.lower()}/").status_code == 200
    assert client.get("/no/such/ABCDE-FGHJK-MNPQR/page").status_code == 404
    text_after = scrape_text()
    after = scrape()
    count = "passalong_http_request_duration_seconds_count"
    assert value(after, count, route="invite_landing", method="GET") == (
        value(before, count, route="invite_landing", method="GET") + 2
    )
    assert value(after, count, route="unresolved", method="GET") == (
        value(before, count, route="unresolved", method="GET") + 1
    )
    answered = {"route": "invite_landing", "method": "GET", "status": "200"}
    assert value(after, "passalong_http_requests_total", **answered) == (
        value(before, "passalong_http_requests_total", **answered) + 2
    )
    for secret in (invite.code, invite.display_code, "ABCDE", "/i/", "no/such"):
        assert secret.lower() not in text_after.lower()


def database_queries_of_one_scrape(scrape) -> int:
    with CaptureQueriesContext(connection) as queries:
        scrape()
    return len(queries)


def test_a_scrape_costs_the_same_queries_whatever_is_in_the_tables(alice, campaign, scrape):
    empty = database_queries_of_one_scrape(scrape)
    stats.refresh(campaign=campaign)
    bob = join(alice, "bob")
    join(bob, "carol")
    emails.invite_by_email(member=alice, address="zed@example.com")
    assert database_queries_of_one_scrape(scrape) == empty <= 25
