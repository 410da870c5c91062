"""Risk-scored credit: signals at each redemption, held credit, decisions that release it once."""

import pytest
from django.utils import timezone

from badges.models import Award
from badges.tasks import sweep_awards
from dashboard import stats
from referrals import credit, services, tree
from referrals.models import CreditDecision, Member, Redemption, Reward, RiskSignal
from tests.helpers import make_user


def invite_from(inviter, username, *, email=None, ip=None):
    Member.objects.filter(pk=inviter.pk).update(invites_left=50)
    inviter.refresh_from_db()
    user = make_user(username)
    if email:
        user.email = email
        user.save()
    member = services.redeem_invite(
        code=services.create_invite(member=inviter).code, user=user, signup_ip=ip
    )
    return Redemption.objects.get(member=member)


def signals(redemption) -> dict:
    return dict(RiskSignal.objects.filter(redemption=redemption).values_list("rule", "weight"))


@pytest.fixture
def alice_from_home(alice):
    """alice signed up from 203.0.113.4."""
    Redemption.objects.filter(member=alice).update(signup_network="203.0.113.0/24")
    return alice


def test_a_clean_redemption_has_no_signals_and_counts(alice):
    r = invite_from(alice, "zed", ip="198.51.100.7")
    assert signals(r) == {} and (r.risk_score, r.credit) == (0, "counted")


def test_an_invitee_on_the_inviters_network_is_flagged_but_counts(alice, bob):
    Redemption.objects.filter(member=bob).update(signup_network="203.0.113.0/24")
    r = invite_from(bob, "sib", ip="203.0.113.99")
    assert signals(r) == {"inviter_network": 40}
    assert r.credit == "counted"  # a household: flagged, not held


def test_another_members_mailbox_is_held(alice, bob):
    bob.user.email = "bob.smith@gmail.com"
    bob.user.save()
    Member.objects.filter(pk=bob.pk).update(mailbox="bobsmith@gmail.com")
    r = invite_from(alice, "bob2", email="Bob.Smith+again@Gmail.com", ip="198.51.100.8")
    r.refresh_from_db()
    assert signals(r) == {"known_mailbox": 60}
    assert (r.risk_score, r.credit) == (60, "held")
    assert RiskSignal.objects.get(redemption=r).evidence["member_id"] == bob.pk


def test_a_burst_from_one_network_with_a_throwaway_address_is_held(alice):
    invite_from(alice, "a1", ip="192.0.2.1")
    invite_from(alice, "a2", ip="192.0.2.2")
    r = invite_from(alice, "a3", email="a3@mailinator.com", ip="192.0.2.3")
    r.refresh_from_db()
    assert signals(r) == {"network_burst": 30, "disposable_address": 30}
    assert r.credit == "held"


def test_disposable_domains_match_on_label_boundaries(alice):
    assert signals(invite_from(alice, "s1", email="s1@sub.mailinator.com")) == {
        "disposable_address": 30
    }
    # (notmailinator.com itself is on the community list: it is a throwaway service too.)
    assert signals(invite_from(alice, "s2", email="s2@mailinator.com.example.org")) == {}
    assert signals(invite_from(alice, "s3", email="s3@xmailinator.example")) == {}


def test_the_weights_and_threshold_are_the_campaigns(alice, campaign):
    campaign.risk_weights = {"disposable_address": 90}
    campaign.risk_threshold = 80
    campaign.save()
    r = invite_from(alice, "t1", email="t1@mailinator.com")
    r.refresh_from_db()
    assert (r.risk_score, r.credit) == (90, "held")


@pytest.fixture
def held(alice, campaign):
    """carol, alice's invitee, held (a throwaway address and a strict threshold), then active."""
    campaign.risk_threshold = 30
    campaign.reward_every = 1
    campaign.save()
    r = invite_from(alice, "carol", email="carol@mailinator.com")
    tree.fold_all()
    carol = Member.objects.select_related("campaign").get(pk=r.member_id)
    assert services.activate_member(member=carol)
    r.refresh_from_db()
    assert r.credit == "held"
    return r


def test_held_credit_counts_for_nobody(alice, campaign, held):
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 0
    assert not Reward.objects.filter(member=alice).exists()
    sweep_awards()
    assert not Award.objects.filter(member=alice, slug="connector").exists()
    figures = stats.refresh(campaign=campaign)
    assert figures.activated_members == 0  # the dashboard leaves her out
    assert figures.invites_redeemed == 1
    assert figures.invites_activated == 0  # the funnel's last stage too


def test_approved_credit_reaches_the_funnel(alice, mara, campaign, held):
    credit.approve(redemption=held, by=mara, reason="Knows her", now=timezone.now())
    figures = stats.refresh(campaign=campaign)
    assert (figures.activated_members, figures.invites_activated) == (1, 1)


def test_approving_releases_the_credit_once(alice, mara, held):
    now = timezone.now()
    credit.approve(redemption=held, by=mara, reason="Knows her", now=now)
    with pytest.raises(credit.AlreadyDecided):  # a double click, a retry
        credit.approve(redemption=held, by=mara, reason="again", now=now)
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 1
    assert Reward.objects.filter(member=alice).count() == 1
    decision = CreditDecision.objects.get(redemption=held)
    assert (decision.decision, decision.decided_by_name, decision.reason) == (
        "approved",
        "mara",
        "Knows her",
    )
    sweep_awards()
    assert Award.objects.filter(member=alice, slug="connector").exists()


def test_rejecting_keeps_the_credit_out_and_records_why(alice, mara, held):
    credit.reject(redemption=held, by=mara, reason="Farmed account", now=timezone.now())
    with pytest.raises(credit.AlreadyDecided):
        credit.approve(redemption=held, by=mara, now=timezone.now())
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 0
    assert CreditDecision.objects.get(redemption=held).reason == "Farmed account"


def test_a_held_invitee_approved_before_activating_counts_when_they_activate(alice, mara, campaign):
    campaign.risk_threshold = 30
    campaign.save()
    r = invite_from(alice, "dora", email="dora@mailinator.com")
    credit.approve(redemption=r, by=mara, now=timezone.now())
    dora = Member.objects.select_related("campaign").get(pk=r.member_id)
    services.activate_member(member=dora)
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 1


def test_decisions_and_signals_are_visible_in_the_admin(admin_client, alice, mara, held):
    credit.approve(redemption=held, by=mara, reason="Knows her", now=timezone.now())
    listing = admin_client.get("/admin/referrals/creditdecision/").content.decode()
    assert "mara" in listing and "Knows her" in listing
    page = admin_client.get(f"/admin/referrals/redemption/{held.pk}/change/").content.decode()
    assert "disposable_address" in page
