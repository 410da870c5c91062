"""Credit only ever counts invitees whose e-mail is verified: one rule, checked on every path."""

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC

from badges.models import Award
from badges.tasks import sweep_awards
from dashboard import stats
from referrals import services, tree
from referrals.models import Campaign, Member, Reward
from tests.helpers import make_user, token_client
from webhooks.models import Event


@pytest.fixture
def unverified(alice):
    """carol joined with alice's invite and never confirmed her address."""
    invite = services.create_invite(member=alice)
    carol = services.redeem_invite(code=invite.code, user=make_user("carol", verified=False))
    tree.fold_all()
    return Member.objects.select_related("campaign", "user").get(pk=carol.pk)


@pytest.fixture
def generous(campaign):
    campaign.reward_every = 1  # every activated invitee earns a reward
    campaign.save()
    return campaign


def test_rewards_never_count_an_unverified_invitee(alice, unverified, generous):
    assert services.activate_member(member=unverified) is False
    alice.refresh_from_db()
    unverified.refresh_from_db()
    assert unverified.activated_at is None
    assert alice.activated_invitee_count == 0
    assert not Reward.objects.filter(member=alice).exists()


def test_badges_never_count_an_unverified_invitee(alice, unverified):
    services.activate_member(member=unverified)
    sweep_awards()
    assert not Award.objects.filter(member=alice, slug="connector").exists()


def test_the_dashboards_figures_never_count_an_unverified_invitee(campaign, unverified):
    services.activate_member(member=unverified)
    figures = stats.refresh(campaign=campaign)
    assert figures.activated_members == 0


def test_webhooks_never_announce_an_unverified_activation(campaign, unverified, endpoint):
    services.activate_member(member=unverified)
    assert not Event.objects.filter(type="member.activated").exists()


def test_an_api_report_waits_for_verification_then_counts(
    client, mara, alice, unverified, generous
):
    Campaign.objects.filter(pk=generous.pk).update(activation_rule=Campaign.Activation.REPORTED)
    api = token_client(mara)
    url = f"/api/v1/campaigns/{generous.slug}/activations/"
    response = api.post(url, {"member_id": unverified.pk}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "pending verification"
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 0

    # carol confirms her address with the link allauth e-mailed her.
    address = EmailAddress.objects.get(user=unverified.user)
    key = EmailConfirmationHMAC(address).key
    assert client.post(f"/accounts/confirm-email/{key}/").status_code == 302
    unverified.refresh_from_db()
    alice.refresh_from_db()
    assert unverified.activated_at is not None
    assert alice.activated_invitee_count == 1
    assert Reward.objects.filter(member=alice).count() == 1
    again = api.post(url, {"member_id": unverified.pk}, format="json")
    assert (again.status_code, again.json()["status"]) == (200, "already activated")


def test_a_verified_invitee_reported_by_the_api_counts_at_once(mara, alice, bob, generous):
    response = token_client(mara).post(
        f"/api/v1/campaigns/{generous.slug}/activations/", {"member_id": bob.pk}, format="json"
    )
    assert (response.status_code, response.json()["status"]) == (201, "activated")
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 1
