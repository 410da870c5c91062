"""Granting extra invites to chosen members from the dashboard."""

import re

import pytest

from referrals import services
from referrals.models import Campaign, InviteGrant, Member
from tests.helpers import make_user


def invites_left(member) -> int:
    return Member.objects.values_list("invites_left", flat=True).get(pk=member.pk)


def test_a_marketer_grants_extra_invites_to_ticked_members(client, mara, alice, bob):
    before = invites_left(alice), invites_left(bob)
    client.force_login(mara)
    response = client.post(
        "/dashboard/default/grant/", {"member": [alice.pk, bob.pk], "invites": 4}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#connectors")
    assert (invites_left(alice), invites_left(bob)) == (before[0] + 4, before[1] + 4)


def test_every_grant_is_recorded_with_who_how_many_and_when(client, mara, bob):
    client.force_login(mara)
    client.post("/dashboard/default/grant/", {"member": [bob.pk], "invites": 2})
    grant = InviteGrant.objects.get()
    assert (grant.member, grant.granted_by, grant.invites) == (bob, mara, 2)
    assert grant.granted_at is not None
    assert "Bob" in client.get("/dashboard/default/seed/").content.decode()


def test_members_of_another_campaign_get_nothing(client, mara, alice):
    other = Campaign.objects.create(slug="other", name="Other")
    outsider = services.join_without_code(campaign=other, user=make_user("olga"))
    before = invites_left(outsider)
    client.force_login(mara)
    client.post("/dashboard/default/grant/", {"member": [outsider.pk], "invites": 9})
    assert invites_left(outsider) == before
    assert not InviteGrant.objects.exists()


def test_a_grant_needs_a_member_and_a_sensible_number(client, mara, bob):
    client.force_login(mara)
    before = invites_left(bob)
    for data in (
        {"invites": 3},
        {"member": [bob.pk], "invites": 0},
        {"member": [bob.pk], "invites": 1000},
    ):
        response = client.post("/dashboard/default/grant/", data, follow=True)
        assert response.status_code == 200
        assert next(iter(response.context["messages"])).level_tag == "error"
    assert invites_left(bob) == before


def test_the_service_refuses_nonsense_amounts(campaign, bob):
    with pytest.raises(ValueError):
        services.grant_invites(campaign=campaign, member_ids=[bob.pk], invites=0, granted_by=None)


def test_the_same_grant_form_posted_twice_grants_once(client, mara, bob):
    before = invites_left(bob)
    client.force_login(mara)
    page = client.get("/dashboard/default/").content.decode()
    submission = re.search(r'name="submission" value="([0-9a-f-]{36})"', page).group(1)
    form = {"member": [bob.pk], "invites": 2, "submission": submission}
    client.post("/dashboard/default/grant/", form)
    again = client.post("/dashboard/default/grant/", form, follow=True)
    assert "granted already" in again.content.decode()
    assert invites_left(bob) == before + 2
    assert InviteGrant.objects.filter(member=bob).count() == 1
    # A freshly loaded form is a new grant.
    fresh = re.search(r'name="submission" value="([0-9a-f-]{36})"', again.content.decode()).group(1)
    assert fresh != submission
    client.post("/dashboard/default/grant/", {**form, "submission": fresh})
    assert invites_left(bob) == before + 4
