"""dashboard.suspicious and /dashboard/<slug>/review/: signup patterns flagged for review."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard import suspicious
from dashboard.suspicious import Signup
from referrals import addresses, services, tree
from referrals.models import Campaign, Member, Redemption
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
    return {rule: re.findall(r"<strong>([^<]+)</strong>", body) for rule, body in sections}


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
    assert suspicious.network_of(ip) == network


def test_five_signups_from_one_network_within_an_hour_are_flagged():
    signups = [Signup(i, at(50 - i * 10), ip=f"203.0.113.{i}") for i in range(5)]
    signups += [Signup(10 + i, at(i), ip=f"198.51.100.{i}") for i in range(4)]  # only four
    [finding] = suspicious.network_bursts(signups)
    assert finding.title.startswith("5 signups from 203.0.113.0/24 within 40 min")
    assert finding.member_ids == [0, 1, 2, 3, 4]


def test_the_same_network_spread_over_hours_is_not_a_burst():
    signups = [Signup(i, at(i * 90), ip="203.0.113.5") for i in range(6)]
    assert suspicious.network_bursts(signups) == []


def test_ipv6_signups_from_one_slash_64_count_together():
    signups = [Signup(i, at(i), ip=f"2001:db8:0:1::{i + 1:x}") for i in range(5)]
    assert suspicious.network_bursts(signups)[0].total == 5


def test_signups_record_their_address_and_the_review_page_shows_the_burst(as_mia, campaign, alice):
    for i in range(5):
        join(alice, f"burst{i}", ip=f"192.0.2.{10 + i}")
    join(alice, "elsewhere", ip="198.51.100.1")
    assert Redemption.objects.filter(signup_ip="192.0.2.10").count() == 1
    page = review_page(as_mia, campaign)
    assert page["network"] == ["5 signups from 192.0.2.0/24 within 1 min"]


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


def test_addresses_that_differ_only_by_dots_or_tags_are_grouped():
    signups = [
        Signup(1, NOW, email="jane.doe@gmail.com"),
        Signup(2, NOW, email="janedoe+1@gmail.com"),
        Signup(3, NOW, email="j.a.n.e.doe+x@googlemail.com"),
        Signup(4, NOW, email="someone@gmail.com"),
    ]
    [finding] = suspicious.email_aliases(signups)
    assert finding.member_ids == [1, 2, 3]
    assert finding.title == "3 addresses that all reach janedoe@gmail.com"


def test_the_same_address_twice_is_not_an_alias():
    signups = [Signup(1, NOW, email="a@example.com"), Signup(2, NOW, email="A@example.com")]
    assert suspicious.email_aliases(signups) == []


def test_aliases_are_compared_within_one_campaign(as_mia, campaign, alice):
    # Gmail: a provider that ignores dots and +tags (addresses.PROVIDERS).
    join(alice, "twin1", email="twin.one+a@gmail.com")
    other = Campaign.objects.create(slug="other", name="Other", code_required=False)
    user = make_user("twin2")
    user.email = "twinone@gmail.com"
    user.save()
    services.join_without_code(campaign=other, user=user)
    assert review_page(as_mia, campaign)["alias"] == []
    join(alice, "twin3", email="twinone@gmail.com")
    assert review_page(as_mia, campaign)["alias"] == [
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
    assert review_page(as_mia, campaign)["disposable"] == [
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
        "network": [],
        "alias": [],
        "disposable": [],
        "inactive": [],
    }


def test_the_review_costs_the_same_few_queries_whatever_the_findings(
    as_mia, campaign, alice, django_assert_max_num_queries
):
    for i in range(6):
        join(alice, f"b{i}", ip="192.0.2.1", email=f"x.{i}+t@mailinator.com")
    as_mia.get(f"/dashboard/{campaign.slug}/review/")  # the visit middleware's daily write
    # Session, user, memberships, marketer check twice, campaign; held credit
    # and its signals, frozen codes (issue 10); recent signups, inactive
    # chains, the members named.
    with django_assert_max_num_queries(11):
        review_page(as_mia, campaign)
