"""Letting the waitlist in: waves, the members' pool, the invite e-mail and the signup after."""

import re

import pytest
from django.core import mail
from django.test import Client

from referrals import services as referrals
from referrals.models import Member, OutboundEmail
from tests.helpers import deliver_outbox, make_marketer, make_user
from waitlist import admission, services
from waitlist.models import Entry, Wave


def waiting(campaign, n: int, prefix="w") -> list[Entry]:
    entries = []
    for i in range(n):
        entry = services.request_invite(campaign=campaign, email=f"{prefix}{i}@example.com").entry
        services.confirm(entry=entry)
        entries.append(Entry.objects.get(pk=entry.pk))
    return entries


def wave(campaign, size, **kwargs):
    return Wave.objects.create(campaign=campaign, size=size, **kwargs)


def test_a_wave_admits_the_first_in_line_with_personal_one_use_codes(campaign):
    people = waiting(campaign, 5)
    w = wave(campaign, 3)
    assert admission.run_wave(wave_id=w.pk) == 3
    admitted = Entry.objects.filter(admitted_at__isnull=False).order_by("sequence")
    assert [e.email for e in admitted] == [p.email for p in people[:3]]
    assert all(e.invite.max_uses == 1 and e.invite.owner is None for e in admitted)
    assert services.position(Entry.objects.get(pk=people[3].pk)) == 1  # the line moved up
    w.refresh_from_db()
    assert (w.admitted, w.finished_at is not None) == (3, True)
    assert admission.run_wave(wave_id=w.pk) == 0  # run again: nothing more


def test_the_admitted_person_signs_up_with_the_emailed_link(campaign, client):
    [person] = waiting(campaign, 1)
    admission.run_wave(wave_id=wave(campaign, 1).pk)
    deliver_outbox()
    [message] = [m for m in mail.outbox if m.to == [person.email] and "You're in" in m.subject]
    link = re.search(r"https?://\S+/i/\S+", message.body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 200
    code = path.strip("/").split("/")[-1]
    response = client.post(
        f"/accounts/signup/?code={code}",
        {
            "code": code,
            "email": person.email,
            "username": "waited",
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(user__username="waited")
    assert member.inviter is None  # a campaign code: a seed member


def test_a_wave_by_referrals_and_a_hand_picked_wave(campaign):
    people = waiting(campaign, 4)
    referrer = people[3]
    for i in range(2):
        friend = services.request_invite(
            campaign=campaign, email=f"friend{i}@example.com", ref=referrer.ref_code
        ).entry
        services.confirm(entry=friend)
    admission.run_wave(wave_id=wave(campaign, 1, order="referrals").pk)
    assert Entry.objects.get(pk=referrer.pk).admitted_at is not None
    picked = wave(campaign, 1, order="picked", picked=[people[2].pk])
    admission.run_wave(wave_id=picked.pk)
    assert Entry.objects.get(pk=people[2].pk).admitted_at is not None
    assert Entry.objects.filter(admitted_at__isnull=False).count() == 2


def test_a_paced_wave_admits_its_daily_share_and_waits(campaign):
    waiting(campaign, 5)
    w = wave(campaign, 4, per_day=2)
    assert admission.run_wave(wave_id=w.pk) == 2
    assert admission.run_wave(wave_id=w.pk) == 0  # today's share is taken
    Entry.objects.filter(wave=w).update(admitted_at=w.created_at.replace(year=2000))
    assert admission.sweep_waves() == 2  # the next day, the sweep takes the rest
    w.refresh_from_db()
    assert w.admitted == 4 and w.finished_at is not None


def test_waves_respect_the_daily_email_limit(campaign):
    waiting(campaign, 4)  # four confirmation e-mails today
    rules = services.WaitlistSettings.of(campaign)
    rules.daily_email_limit = 6
    rules.save()
    w = wave(campaign, 4)
    assert admission.run_wave(wave_id=w.pk) == 2
    w.refresh_from_db()
    assert w.finished_at is None  # the rest when the limit allows


@pytest.fixture
def donor(alice):
    Member.objects.filter(pk=alice.pk).update(invites_left=3)
    alice.refresh_from_db()
    return alice


def test_donated_invites_admit_people_under_the_donor(campaign, donor):
    donation = admission.donate(member=donor, seats=2)
    donor.refresh_from_db()
    assert donor.invites_left == 1
    people = waiting(campaign, 3)
    w = wave(campaign, 3, source="pool")
    assert admission.run_wave(wave_id=w.pk) == 2  # two seats, two people
    w.refresh_from_db()
    assert w.finished_at is None  # it waits for more donations
    admitted = Entry.objects.filter(admitted_at__isnull=False).select_related("invite")
    assert {e.invite.owner_id for e in admitted} == {donor.pk}
    donation.refresh_from_db()
    assert donation.seats_left == 0
    # The admitted person joins with the code: the donor is their inviter, and is told.
    first = admitted.order_by("sequence").first()
    user = make_user("pooled")
    member = referrals.redeem_invite(code=first.invite.code, user=user)
    assert member.inviter_id == donor.pk
    assert OutboundEmail.objects.filter(kind="invitee_joined", sender=donor).exists()
    assert people[2].pk not in {e.pk for e in admitted}


def test_what_is_not_used_can_be_taken_back(campaign, donor):
    donation = admission.donate(member=donor, seats=3)
    with pytest.raises(admission.TooFewInvites):
        admission.donate(member=donor, seats=1)
    waiting(campaign, 1)
    admission.run_wave(wave_id=wave(campaign, 1, source="pool").pk)
    assert admission.take_back(donation=donation) == 2
    assert admission.take_back(donation=donation) == 0  # twice: nothing more
    donor.refresh_from_db()
    assert donor.invites_left == 2


def test_members_give_and_take_back_from_their_invites_page(client, campaign, donor):
    client.force_login(donor.user)
    assert b"Give unused invites to the waitlist" in client.get("/invites/").content
    page = client.get("/invites/pool/")
    assert page.status_code == 200
    client.post("/invites/pool/", {"member": donor.pk, "seats": 2})
    donor.refresh_from_db()
    assert donor.invites_left == 1
    too_many = client.post("/invites/pool/", {"member": donor.pk, "seats": 5}, follow=True)
    assert b"You have 1 unused invites to give" in too_many.content
    donation = donor.pool_donations.get()
    client.post("/invites/pool/", {"member": donor.pk, "take_back": donation.pk})
    donor.refresh_from_db()
    assert donor.invites_left == 3
    stranger = Client()
    stranger.force_login(make_marketer("eve", campaign))
    assert stranger.post("/invites/pool/", {"member": donor.pk, "seats": 1}).status_code == 404


def test_the_marketer_releases_a_wave_from_the_dashboard(
    client, campaign, mara, django_capture_on_commit_callbacks, tasks_in_process
):
    people = waiting(campaign, 3)
    client.force_login(mara)
    page = client.get(f"/dashboard/{campaign.slug}/waitlist/").content.decode()
    assert "3</strong> waiting" in page and people[0].email in page
    with django_capture_on_commit_callbacks(execute=True):  # the wave runs once committed
        response = client.post(
            f"/dashboard/{campaign.slug}/waitlist/waves/",
            {"size": 2, "order": "position", "source": "campaign", "per_day": 0},
            follow=True,
        )
    assert "Wave of 2 released" in response.content.decode()
    assert Entry.objects.filter(admitted_at__isnull=False).count() == 2
    picked = client.post(
        f"/dashboard/{campaign.slug}/waitlist/waves/",
        {"size": 1, "order": "picked", "source": "campaign", "picked": []},
        follow=True,
    )
    assert "Tick the people" in picked.content.decode()


def test_the_admin_lists_the_waitlist_waves_donations_and_nominations(admin_client, campaign):
    waiting(campaign, 2)
    admission.run_wave(wave_id=wave(campaign, 1).pk)
    for model in ("entry", "wave", "donation", "nomination", "waitlistsettings"):
        assert admin_client.get(f"/admin/waitlist/{model}/").status_code == 200, model
