"""Members vouching for people on the waitlist: a better place, and an inviter when let in."""

import pytest

from referrals import services as referrals
from referrals.models import Campaign, Member
from tests.helpers import make_user
from waitlist import admission, services
from waitlist.models import Entry, Nomination, Wave


def waiting(campaign, n):
    out = []
    for i in range(n):
        entry = services.request_invite(campaign=campaign, email=f"n{i}@example.com").entry
        services.confirm(entry=entry)
        out.append(Entry.objects.get(pk=entry.pk))
    return out


def fresh(entry):
    return Entry.objects.get(pk=entry.pk)


def test_a_vouch_moves_the_nominee_up_once_per_member(campaign, alice, bob):
    people = waiting(campaign, 12)
    nominee = people[-1]
    assert services.vouch(member=alice, entry=nominee) is True
    assert services.vouch(member=alice, entry=nominee) is False  # a double click
    assert services.position(fresh(nominee)) == 2  # ten places up
    services.vouch(member=bob, entry=nominee)
    assert services.position(fresh(nominee)) == 1
    assert fresh(nominee).vouches == 2


def test_the_nominee_sees_only_the_names_nominators_allow(client, campaign, alice, bob):
    [nominee] = waiting(campaign, 1)
    services.vouch(member=alice, entry=nominee, show_name=True)
    services.vouch(member=bob, entry=nominee, show_name=False)
    page = client.get(f"/waitlist/{nominee.token}/").content.decode()
    assert "Vouched for by Alice and 1 other member." in page
    assert "Bob" not in page


def test_the_first_nominator_with_an_invite_becomes_the_inviter(campaign, alice, bob):
    [nominee] = waiting(campaign, 1)
    Member.objects.filter(pk=alice.pk).update(invites_left=0)
    services.vouch(member=alice, entry=nominee)  # first, but no invite left
    services.vouch(member=bob, entry=nominee)
    admission.run_wave(wave_id=Wave.objects.create(campaign=campaign, size=1).pk)
    entry = fresh(nominee)
    assert entry.invite.owner_id == bob.pk
    left = bob.invites_left
    bob.refresh_from_db()
    assert bob.invites_left == left - campaign.uses_per_code  # one of bob's own invites
    member = referrals.redeem_invite(code=entry.invite.code, user=make_user("nominee"))
    assert member.inviter_id == bob.pk


def test_members_vouch_from_a_referral_link_or_by_address(client, campaign, alice):
    people = waiting(campaign, 3)
    client.force_login(alice.user)
    page = client.get(f"/c/{campaign.slug}/?ref={people[2].ref_code}").content.decode()
    assert 'data-testid="vouch"' in page
    client.post("/waitlist/vouch/", {"member": alice.pk, "ref": people[2].ref_code})
    client.post("/waitlist/vouch/", {"member": alice.pk, "email": people[1].email})
    answer = client.post(
        "/waitlist/vouch/", {"member": alice.pk, "email": "nobody@example.com"}, follow=True
    ).content.decode()
    assert "if they are on the waitlist, your vouch moves them up" in answer  # no probing
    assert set(Nomination.objects.values_list("entry_id", flat=True)) == {
        people[1].pk,
        people[2].pk,
    }


def test_only_members_of_the_campaign_vouch(client, campaign, alice):
    [person] = waiting(campaign, 1)
    other = Campaign.objects.create(slug="other", name="Other", code_required=False)
    outsider = referrals.join_without_code(campaign=other, user=make_user("outsider"))
    with pytest.raises(services.CannotVouch):
        services.vouch(member=outsider, entry=person)
    client.force_login(alice.user)
    assert client.post("/waitlist/vouch/", {"member": outsider.pk}).status_code == 404
    client.logout()
    assert client.post("/waitlist/vouch/", {"member": alice.pk}).status_code == 302  # to login
    assert not Nomination.objects.exists()
