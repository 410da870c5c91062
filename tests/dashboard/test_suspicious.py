"""dashboard.suspicious and /dashboard/<slug>/review/: signup patterns flagged for review."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard import suspicious
from referrals import addresses, services, tree
from referrals.models import Campaign, Member, Redemption, RiskSignal
from referrals.networks import network_of
from tests.helpers import make_marketer, make_user

NOW = timezone.now()


def at(minutes: int):
    return NOW - timedelta(minutes=minutes)


def join(inviter: Member, username: str, *, ip=None, email=None) -> Member:
    Member.objects.filter(pk=inviter.pk).update(invites_left=100)
    inviter.refresh_from_db()
    invite = services.create_invite(member=inviter)
    user = make_user(username)
    if email:
        user.email = email
        user.save()
    return services.redeem_invite(code=invite.code, user=user, signup_ip=ip)


def review_page(client, campaign) -> dict[str, list[str]]:
    response = client.get(f"/dashboard/{campaign.slug}/review/")
    assert response.status_code == 200
    content = response.content.decode()
    sections = re.findall(r'data-rule="(\w+)">(.*?)</section>', content, re.S)
    return {
        rule: [html.unescape(t) for t in re.findall(r"<strong>([^<]+)</strong>", body)]
        for rule, body in sections
    }


# --- Networks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", None),
    ],
)
def test_addresses_are_grouped_by_slash_24_or_slash_64(ip, network):
    assert network_of(ip) == network


def test_a_burst_of_one_inviters_codes_from_one_network_is_listed(as_mia, campaign, alice):
    for i in range(5):
        join(alice, f"burst{i}", ip=f"192.0.2.{10 + i}")
    join(alice, "elsewhere", ip="198.51.100.1")
    assert Redemption.objects.filter(signup_ip="192.0.2.10").count() == 1
    page = review_page(as_mia, campaign)
    # The signal fires from the third redemption on (credit.BURST_MIN).
    assert page["network_burst"] == [
        "3 signups from 192.0.2.0/24 with one inviter's codes within an hour"
    ]


def test_the_same_network_spread_over_hours_is_not_a_burst(as_mia, campaign, alice):
    for i in range(4):
        member = join(alice, f"slow{i}", ip="203.0.113.5")
        Redemption.objects.filter(member=member).update(
            redeemed_at=NOW - timedelta(minutes=90 * (4 - i))
        )
    join(alice, "now", ip="203.0.113.5")
    assert review_page(as_mia, campaign)["network_burst"] == []


def test_ipv6_signups_from_one_slash_64_count_together(as_mia, campaign, alice):
    for i in range(4):
        join(alice, f"v6_{i}", ip=f"2001:db8:0:1::{i + 1:x}")
    assert review_page(as_mia, campaign)["network_burst"] == [
        "2 signups from 2001:db8:0:1::/64 with one inviter's codes within an hour"
    ]


def test_the_page_lists_the_very_signals_that_scored_each_signup(as_mia, campaign, alice):
    """One implementation: every listed member's redemption carries that signal."""
    for i in range(4):
        join(alice, f"s{i}", ip="192.0.2.9", email=f"s{i}@mailinator.com")
    found = suspicious.review(campaign, now=timezone.now())
    for rule in ("network_burst", "disposable_address"):
        [finding] = found[rule]
        stored = set(
            RiskSignal.objects.filter(rule=rule).values_list("redemption__member_id", flat=True)
        )
        assert set(finding.member_ids) == stored


def test_signals_older_than_the_review_window_are_not_listed(as_mia, campaign, alice):
    join(alice, "old", email="old@mailinator.com")
    Redemption.objects.update(redeemed_at=NOW - suspicious.RECENT - timedelta(hours=1))
    assert review_page(as_mia, campaign)["disposable_address"] == []


def test_a_mangled_address_is_dropped_not_a_failed_signup(alice):
    member = join(alice, "mangled", ip="unknown, 10.0.0.1")
    assert member.redemption.signup_ip is None


def test_the_signup_form_records_the_client_address(client, alice):
    invite = services.create_invite(member=alice)
    response = client.post(
        f"/accounts/signup/?code={invite.code}",
        {
            "code": invite.code,
            "email": "newbie@example.com",
            "username": "newbie",
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Redemption.objects.get(member__user__username="newbie").signup_ip == "192.0.2.44"


# --- E-mail addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "mailbox"),
    [
        ("J.Doe+promo@Gmail.com", "jdoe@gmail.com"),
        ("jdoe@googlemail.com", "jdoe@gmail.com"),
        # A domain whose rules we do not know keeps its dots and tags (issue 10).
        ("j.o.h.n+a+b@example.org", "j.o.h.n+a+b@example.org"),
        ("Jo.Doe+x@Outlook.com", "jo.doe@outlook.com"),
        ("plain@example.org", "plain@example.org"),
    ],
)
def test_addresses_normalize_gmail_style(email, mailbox):
    assert addresses.mailbox_of(email) == mailbox


def test_addresses_that_differ_only_by_dots_or_tags_are_grouped(as_mia, campaign, alice):
    first = join(alice, "jane1", email="jane.doe@gmail.com")
    join(alice, "jane2", email="janedoe+1@gmail.com")
    join(alice, "jane3", email="j.a.n.e.doe+x@googlemail.com")
    join(alice, "someone", email="someone@gmail.com")
    [finding] = suspicious.review(campaign, now=timezone.now())["known_mailbox"]
    assert finding.title == "3 addresses that all reach janedoe@gmail.com"
    assert first.pk in finding.member_ids  # the first of them too, though it had no signal
    assert review_page(as_mia, campaign)["known_mailbox"] == [finding.title]


def test_aliases_are_compared_within_one_campaign(as_mia, campaign, alice):
    # Gmail: a provider that ignores dots and +tags (addresses.PROVIDERS).
    join(alice, "twin1", email="twin.one+a@gmail.com")
    other = Campaign.objects.create(slug="other", name="Other", code_required=False)
    user = make_user("twin2")
    user.email = "twinone@gmail.com"
    user.save()
    services.join_without_code(campaign=other, user=user)
    assert review_page(as_mia, campaign)["known_mailbox"] == []
    join(alice, "twin3", email="twinone@gmail.com")
    assert review_page(as_mia, campaign)["known_mailbox"] == [
        "2 addresses that all reach twinone@gmail.com"
    ]


# --- Disposable domains --------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "disposable"),
    [
        ("x@mailinator.com", True),
        ("x@MAILINATOR.com", True),
        ("x@eu.mailinator.com", True),
        ("x@example.com", False),
        ("x@gmail.com", False),
    ],
)
def test_throwaway_domains_are_recognised(email, disposable):
    assert addresses.is_disposable(email) is disposable


def test_disposable_signups_are_flagged_per_domain(as_mia, campaign, alice):
    join(alice, "throw1", email="a@mailinator.com")
    join(alice, "throw2", email="b@mailinator.com")
    join(alice, "fine", email="fine@example.com")
    assert review_page(as_mia, campaign)["disposable_address"] == [
        "2 signups with @mailinator.com addresses"
    ]


# --- Inactive chains -----------------------------------------------------------


def test_inviters_whose_invitees_all_stay_inactive_are_flagged(as_mia, campaign, alice):
    spammer = join(alice, "spammer")
    for i in range(3):
        join(spammer, f"ghost{i}")
    good = join(alice, "good")
    kids = [join(good, f"kid{i}") for i in range(3)]
    services.activate_member(member=kids[0])
    tree.fold_all()
    # Too new to judge yet.
    assert review_page(as_mia, campaign)["inactive"] == []

    Member.objects.update(joined_at=NOW - timedelta(days=30))
    page = review_page(as_mia, campaign)
    # good has an active invitee; alice has only two invitees.
    assert page["inactive"] == ["3 invitees, none active (3 in the downline)"]
    found = suspicious.inactive_chains(campaign, now=NOW)
    assert [f.member_ids for f in found] == [[spammer.pk]]


def test_members_with_too_few_invitees_are_not_flagged(campaign, alice):
    join(alice, "one")
    join(alice, "two")
    tree.fold_all()
    Member.objects.update(joined_at=NOW - timedelta(days=30))
    assert suspicious.inactive_chains(campaign, now=NOW) == []


# --- The page ------------------------------------------------------------------


def test_members_and_other_campaigns_marketers_cannot_open_the_review(client, campaign, bob):
    client.force_login(bob.user)
    assert client.get(f"/dashboard/{campaign.slug}/review/").status_code == 403
    other = Campaign.objects.create(slug="other", name="Other")
    client.force_login(make_marketer("otto", other))
    assert client.get(f"/dashboard/{campaign.slug}/review/").status_code == 404
    assert client.get("/dashboard/other/review/").status_code == 200


def test_the_review_page_says_when_there_is_nothing_to_review(as_mia, campaign, alice):
    assert review_page(as_mia, campaign) == {
        "inviter_network": [],
        "network_burst": [],
        "known_mailbox": [],
        "disposable_address": [],
        "own_link": [],
        "inactive": [],
    }


def test_the_review_costs_the_same_few_queries_whatever_the_findings(
    as_mia, campaign, alice, django_assert_max_num_queries
):
    for i in range(6):
        join(alice, f"b{i}", ip="192.0.2.1", email=f"x.{i}+t@mailinator.com")
    as_mia.get(f"/dashboard/{campaign.slug}/review/")  # the visit middleware's daily write
    # Session, user, memberships, marketer check twice, campaign; held credit
    # and its signals, frozen codes (issue 10); recent signals, inactive
    # chains, the members named.
    with django_assert_max_num_queries(11):
        review_page(as_mia, campaign)
