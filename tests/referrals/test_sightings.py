"""Signals that look back at the inviter: the networks of their recent sessions, their own link."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals import services, sightings
from referrals.models import Member, Redemption, RiskSignal, SeenNetwork

PASSWORD = "correct horse battery staple"


def signals(member_or_username) -> dict:
    redemption = Redemption.objects.get(member__user__username=member_or_username)
    return dict(RiskSignal.objects.filter(redemption=redemption).values_list("rule", "evidence"))


def sign_up(client, code: str, username: str, ip: str = "198.51.100.20"):
    response = client.post(
        f"/accounts/signup/?code={code}",
        {
            "code": code,
            "email": f"{username}@example.net",
            "username": username,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    return Redemption.objects.select_related("member").get(member__user__username=username)


def code_of(member) -> str:
    Member.objects.filter(pk=member.pk).update(invites_left=20)
    member.refresh_from_db()
    return services.create_invite(member=member).code


# --- The inviter's recent sessions ------------------------------------------------


def test_a_signed_in_page_view_notes_the_sessions_network_once_a_day(client, alice):
    client.force_login(alice.user)
    for last in (1, 2, 3):
        assert client.get("/invites/", REMOTE_ADDR=f"198.51.100.{last}").status_code == 200
    client.get("/invites/", REMOTE_ADDR="2001:db8:7:7::1")
    seen = SeenNetwork.objects.filter(user=alice.user).order_by("network")
    assert [s.network for s in seen] == ["198.51.100.0/24", "2001:db8:7:7::/64"]
    assert {s.last_seen_on for s in seen} == {timezone.localdate()}


def test_a_loopback_session_is_not_a_place(client, alice):
    client.force_login(alice.user)
    client.get("/invites/", REMOTE_ADDR="127.0.0.1")
    assert not SeenNetwork.objects.exists()


def test_an_invitee_on_a_network_of_the_inviters_recent_sessions_is_flagged(client, alice):
    code = code_of(alice)
    viewer = type(client)()
    viewer.force_login(alice.user)
    viewer.get("/invites/", REMOTE_ADDR="198.51.100.7")  # alice at the office
    r = sign_up(client, code, "colleague", ip="198.51.100.99")
    assert signals("colleague") == {
        "inviter_network": {
            "network": "198.51.100.0/24",
            "seen": "inviter's session",
            "last_seen_on": timezone.localdate().isoformat(),
        }
    }
    assert (r.risk_score, r.credit) == (40, "counted")  # an office: flagged, not held


def test_sessions_older_than_thirty_days_are_neither_evidence_nor_kept(client, alice):
    long_ago = timezone.localdate() - timedelta(days=31)
    sightings.note_network(user=alice.user, network="198.51.100.0/24", today=long_ago)
    sign_up(client, code_of(alice), "late", ip="198.51.100.99")
    assert signals("late") == {}
    sightings.note_network(user=alice.user, network="192.0.2.0/24")
    assert sightings.forget_old() == 1
    assert list(SeenNetwork.objects.values_list("network", flat=True)) == ["192.0.2.0/24"]


# --- The inviter redeeming their own link ------------------------------------------


@pytest.fixture
def alice_opened_her_link(client, alice):
    """alice, logged in, opened her own invite link in `client`'s browser, then logged out."""
    code = code_of(alice)
    client.force_login(alice.user)
    page = client.get(f"/i/{code}/")
    assert page.status_code == 200
    assert sightings.OWN_LINK_COOKIE in page.cookies
    assert page.cookies[sightings.OWN_LINK_COOKIE]["httponly"]
    client.post("/accounts/logout/")
    return code


def test_redeeming_your_own_link_on_the_same_browser_holds_the_credit(
    client, alice, alice_opened_her_link
):
    r = sign_up(client, alice_opened_her_link, "alice2", ip="192.0.2.50")
    assert signals("alice2") == {
        "own_link": {"inviter_id": alice.pk, "seen": "opened own link, logged in"}
    }
    assert (r.risk_score, r.credit) == (60, "held")
    assert r.member.inviter_id == alice.pk  # the account is made all the same


def test_another_browser_with_the_same_code_is_not_flagged(client, alice, alice_opened_her_link):
    other = type(client)()
    sign_up(other, alice_opened_her_link, "friend", ip="192.0.2.51")
    assert signals("friend") == {}


def test_someone_elses_link_on_that_browser_is_not_flagged(
    client, alice, bob, alice_opened_her_link
):
    sign_up(client, code_of(bob), "bobs_friend", ip="192.0.2.52")
    assert signals("bobs_friend") == {}


def test_a_forged_own_link_cookie_is_ignored(client, alice):
    client.cookies[sightings.OWN_LINK_COOKIE] = f"{alice.pk}:forged:signature"
    sign_up(client, code_of(alice), "forger", ip="192.0.2.53")
    assert signals("forger") == {}


def test_a_visitors_view_of_the_link_sets_no_cookie(client, alice):
    page = client.get(f"/i/{code_of(alice)}/")
    assert page.status_code == 200
    assert sightings.OWN_LINK_COOKIE not in page.cookies
