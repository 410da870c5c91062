"""The waitlist: ask, confirm, a strict place in line, referrals that move you up."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from referrals.models import DoNotInvite, OutboundEmail
from tests.helpers import deliver_outbox, make_user
from waitlist import services
from waitlist.models import Entry, WaitlistSettings


def ask(client, email, *, ref="", ip="198.51.100.1", path="/waitlist/", **fields):
    response = client.post(path, {"email": email, "ref": ref, **fields}, REMOTE_ADDR=ip)
    deliver_outbox()
    return response


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def confirmed(campaign, email, *, ref=""):
    result = services.request_invite(campaign=campaign, email=email, ref=ref)
    services.confirm(entry=result.entry)
    return Entry.objects.get(pk=result.entry.pk)


def test_a_visitor_asks_confirms_and_sees_their_place(client, campaign):
    assert b"Request an invite" in client.get("/").content
    response = ask(client, "Zoe@Example.com", note="I write about tools", blog_url="zoe.blog")
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    [message] = mail.outbox
    assert message.to == ["zoe@example.com"]
    confirm_path = path_of(re.search(r"https?://\S+", message.body).group(0))
    # The link asks first (mail scanners open links), and a POST confirms.
    assert b"Confirm and see my place" in client.get(confirm_path).content
    entry = Entry.objects.get()
    assert entry.confirmed_at is None and entry.note == "I write about tools"
    assert entry.blog_url == "https://zoe.blog"
    page = client.post(confirm_path, follow=True)
    assert page.redirect_chain[-1][0] == f"/waitlist/{entry.token}/"
    assert 'You are <span data-field="position">#1</span> in line' in page.content.decode()
    assert f"/c/{campaign.slug}/?ref={Entry.objects.get().ref_code}" in page.content.decode()


def test_the_same_address_twice_is_one_request(client, campaign):
    ask(client, "ann@example.com")
    ask(client, "ANN@example.com")
    assert Entry.objects.count() == 1
    assert len(mail.outbox) == 1  # re-sent at most every ten minutes
    Entry.objects.update(confirm_sent_at=timezone.now() - timedelta(minutes=11))
    ask(client, "ann@example.com")
    assert len(mail.outbox) == 2


def test_a_members_address_gets_the_same_answer_and_a_different_email(client, campaign, alice):
    stranger = ask(client, "new@example.com").content
    member = ask(client, alice.user.email, ip="198.51.100.2").content
    assert member.replace(b"new@example.com", b"") == stranger.replace(b"new@example.com", b"")
    assert not Entry.objects.filter(email=alice.user.email).exists()
    [told] = [m for m in mail.outbox if m.to == [alice.user.email]]
    assert "already belongs to an account" in told.body
    ask(client, alice.user.email, ip="198.51.100.3")
    assert len([m for m in mail.outbox if m.to == [alice.user.email]]) == 1  # once a day


def test_places_are_a_strict_order_and_referrals_move_you_up_within_limits(campaign):
    rules = WaitlistSettings.of(campaign)
    rules.places_per_referral, rules.max_boost = 2, 3
    rules.save()
    first = [confirmed(campaign, f"p{i}@example.com") for i in range(6)]
    late = first[-1]
    assert [services.position(e) for e in first] == [1, 2, 3, 4, 5, 6]
    assert [e.sequence for e in first] == [1, 2, 3, 4, 5, 6]

    # A referral counts only once its own address is confirmed.
    pending = services.request_invite(campaign=campaign, email="f1@example.com", ref=late.ref_code)
    late.refresh_from_db()
    assert services.position(late) == 6
    services.confirm(entry=pending.entry)
    late.refresh_from_db()
    assert (late.confirmed_referrals, services.position(late)) == (1, 4)  # two places up
    confirmed(campaign, "f2@example.com", ref=late.ref_code)
    late.refresh_from_db()
    assert services.position(late) == 3  # at most three places in all
    positions = sorted(services.position(e) for e in Entry.objects.waiting())
    assert positions == list(range(1, 9))  # no duplicates, no gaps


def test_confirming_twice_takes_one_place(client, campaign):
    entry = services.request_invite(campaign=campaign, email="two@example.com").entry
    assert services.confirm(entry=entry) is True
    assert services.confirm(entry=entry) is False
    assert client.post(f"/waitlist/confirm/{entry.token}/").status_code == 302
    assert WaitlistSettings.of(campaign).last_sequence == 1


def test_a_referrer_who_confirms_late_gets_their_referrals_counted(campaign):
    referrer = services.request_invite(campaign=campaign, email="slow@example.com").entry
    confirmed(campaign, "quick@example.com", ref=referrer.ref_code)
    services.confirm(entry=referrer)
    referrer.refresh_from_db()
    assert referrer.confirmed_referrals == 1
    assert services.position(referrer) == 1  # number 2, five places up


def test_the_page_and_its_live_figures(client, campaign):
    entry = confirmed(campaign, "live@example.com")
    status = client.get(f"/waitlist/{entry.token}/status.json")
    assert status.json() == {
        "position": 1,
        "confirmed": True,
        "admitted": False,
        "referrals": 0,
        "boost": 0,
    }
    assert status["Cache-Control"] == "no-store"
    assert client.get("/waitlist/not-a-token/").status_code == 404
    assert client.get("/waitlist/" + "x" * 500 + "/").status_code == 404


def test_a_campaigns_own_page_takes_requests_with_a_referral(client, campaign):
    referrer = confirmed(campaign, "ref@example.com")
    page = client.get(f"/c/{campaign.slug}/?ref={referrer.ref_code}").content.decode()
    assert f'value="{referrer.ref_code}"' in page
    ask(client, "friend@example.com", ref=referrer.ref_code)
    assert Entry.objects.get(email="friend@example.com").referred_by_id == referrer.pk
    assert client.get("/c/no-such-campaign/").status_code == 404


def test_asking_is_throttled_per_client(client, campaign, settings):
    settings.WAITLIST_RATE = "3/h"
    codes = [ask(client, f"t{i}@example.com", ip="203.0.113.9").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert ask(client, "other@example.com", ip="203.0.113.10").status_code == 200


def test_bad_input_gets_a_form_error(client, campaign):
    response = ask(client, "not an address")
    assert response.status_code == 400 and b"valid email" in response.content
    assert ask(client, "x@example.com", note="n" * 600).status_code == 400
    assert not Entry.objects.exists()


def test_the_do_not_invite_list_and_the_daily_limit_are_respected(client, campaign):
    DoNotInvite.objects.create(email="gone@example.com")
    ask(client, "gone@example.com")
    assert mail.outbox == []
    rules = WaitlistSettings.of(campaign)
    rules.daily_email_limit = 2
    rules.save()
    for i in range(4):
        ask(client, f"d{i}@example.com", ip=f"198.51.100.{20 + i}")
    assert len(mail.outbox) == 2  # (gone@ was stored, never mailed, and counts)
    held = Entry.objects.filter(confirm_sent_at__isnull=True)
    assert held.count() == 2
    Entry.objects.update(confirm_sent_at=timezone.now() - timedelta(days=2))
    Entry.objects.filter(email__in=["d2@example.com", "d3@example.com"]).update(
        confirm_sent_at=None
    )
    assert services.send_held_confirmations() == 2
    deliver_outbox()
    assert len(mail.outbox) == 4


def test_unconfirmed_requests_expire_with_their_data(campaign):
    services.request_invite(campaign=campaign, email="old@example.com", note="private")
    kept = confirmed(campaign, "kept@example.com")
    Entry.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert services.forget_unconfirmed() == 1
    assert list(Entry.objects.values_list("pk", flat=True)) == [kept.pk]


def test_waitlist_emails_go_through_the_outbox_once(client, campaign):
    ask(client, "once@example.com")
    ask(client, "once@example.com")
    assert OutboundEmail.objects.filter(kind="waitlist_confirm").count() == 1


@pytest.mark.parametrize("email", ["mixed.Case+tag@Example.COM"])
def test_addresses_are_stored_normalized(campaign, email):
    entry = services.request_invite(campaign=campaign, email=email).entry
    assert entry.email == "mixed.case+tag@example.com"
    make_user("someone")  # an unrelated account changes nothing
    assert Entry.objects.count() == 1
