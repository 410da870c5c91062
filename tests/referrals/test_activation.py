"""Activation (the invitee really showed up) and the inviter's rewards."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from referrals import errors, services
from referrals.models import Campaign, Member, Reward
from tests.helpers import make_user


def invite_people(inviter, *names, verified=True):
    Member.objects.filter(pk=inviter.pk).update(invites_left=len(names) + 10)
    inviter.refresh_from_db()
    return [
        services.redeem_invite(
            code=services.create_invite(member=inviter).code,
            user=make_user(name, verified=verified),
        )
        for name in names
    ]


def test_by_default_an_invitee_is_active_once_verified_and_back_on_a_later_day(alice, bob):
    today = timezone.localdate(bob.joined_at)
    services.record_visit(user=bob.user, today=today)
    bob.refresh_from_db()
    assert not bob.is_activated  # same day: not yet
    services.record_visit(user=bob.user, today=today + timedelta(days=1))
    bob.refresh_from_db()
    assert bob.is_activated
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 1


def test_an_unverified_invitee_is_not_active_however_often_they_come_back(alice):
    [bob] = invite_people(alice, "bob", verified=False)
    day = timezone.localdate(bob.joined_at)
    for later in (1, 2, 3):
        services.record_visit(user=bob.user, today=day + timedelta(days=later))
    bob.refresh_from_db()
    assert not bob.is_activated


def test_verifying_after_coming_back_activates(alice):
    [bob] = invite_people(alice, "bob", verified=False)
    services.record_visit(
        user=bob.user, today=timezone.localdate(bob.joined_at) + timedelta(days=1)
    )
    address = EmailAddress.objects.get(user=bob.user)
    address.verified = True
    address.save()
    bob.refresh_from_db()
    assert services.check_activation(member=bob)
    bob.refresh_from_db()
    assert bob.is_activated


def test_a_campaign_can_activate_on_verification_alone(alice, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(activation_rule="verified")
    [bob] = invite_people(alice, "bob")
    bob.refresh_from_db()
    assert services.check_activation(member=bob)


def test_reported_activation_waits_for_the_host_product(alice, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(activation_rule="reported")
    [bob] = invite_people(alice, "bob")
    bob.refresh_from_db()
    services.record_visit(
        user=bob.user, today=timezone.localdate(bob.joined_at) + timedelta(days=1)
    )
    bob.refresh_from_db()
    assert not bob.is_activated
    assert services.activate_member(member=bob)
    assert not services.activate_member(member=bob)  # once only


def test_every_third_activated_invitee_earns_two_more_invites(alice):
    people = invite_people(alice, "bob", "carol", "dave", "erin", "fred", "gina", "hank")
    alice.refresh_from_db()
    before = alice.invites_left
    for person in people[:2]:
        services.activate_member(member=person)
    alice.refresh_from_db()
    assert alice.invites_left == before
    services.activate_member(member=people[2])
    alice.refresh_from_db()
    assert alice.invites_left == before + 2
    for person in people[3:6]:
        services.activate_member(member=person)
    alice.refresh_from_db()
    assert alice.invites_left == before + 4
    assert list(Reward.objects.filter(member=alice).values_list("activated_invitees", flat=True))
    assert sorted(
        Reward.objects.filter(member=alice).values_list("activated_invitees", flat=True)
    ) == [3, 6]
    assert services.invitees_to_next_reward(alice) == 3


def test_signups_alone_earn_nothing(alice):
    invite_people(alice, "bob", "carol", "dave", "erin")
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 0
    assert not Reward.objects.filter(member=alice).exists()


def test_activating_twice_rewards_once(alice):
    people = invite_people(alice, "bob", "carol", "dave")
    for person in people:
        services.activate_member(member=person)
    alice.refresh_from_db()
    invites = alice.invites_left
    for person in people:
        person.refresh_from_db()
        assert not services.activate_member(member=person)
    alice.refresh_from_db()
    assert alice.invites_left == invites
    assert Reward.objects.filter(member=alice).count() == 1


def test_a_member_cannot_make_more_invites_than_their_quota(alice):
    Member.objects.filter(pk=alice.pk).update(invites_left=2)
    alice.refresh_from_db()
    services.create_invite(member=alice)
    services.create_invite(member=alice)
    with pytest.raises(errors.NoInvitesLeft):
        services.create_invite(member=alice)
    alice.refresh_from_db()
    assert alice.invites_left == 0
    assert alice.invites.count() == 2


def test_a_new_member_receives_the_campaigns_quota(alice, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(default_quota=5)
    [bob] = invite_people(alice, "bob")
    assert bob.invites_left == 5
