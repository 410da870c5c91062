"""Waitlist races with real threads on PostgreSQL: the queue stays a strict order."""

from collections import Counter

import pytest
from django.db import connection

from referrals.models import Invite, Member, OutboundEmail
from tests.helpers import run_together
from waitlist import admission, services
from waitlist.models import Entry, Wave

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="real threads racing need PostgreSQL: "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/passalong",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_forty_people_joining_at_once_get_forty_places_without_gaps(campaign):
    referrer = services.request_invite(campaign=campaign, email="ref@example.com").entry
    services.confirm(entry=referrer)

    def join(i):
        # Every fourth one through the referrer's link: boosts race with numbers.
        ref = referrer.ref_code if i % 4 == 0 else ""
        entry = services.request_invite(campaign=campaign, email=f"p{i}@example.com", ref=ref).entry
        return services.confirm(entry=entry)

    results = run_together(40, join)

    assert results == [True] * 40, [r for r in results if r is not True]
    numbers = sorted(Entry.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, 42))  # no duplicates, no gaps
    referrer.refresh_from_db()
    assert referrer.confirmed_referrals == 10
    positions = Counter(services.position(e) for e in Entry.objects.waiting())
    assert sorted(positions) == list(range(1, 42)) and set(positions.values()) == {1}


def test_the_same_address_asked_for_twenty_times_at_once_is_one_request(campaign):
    outcomes = run_together(
        20, lambda i: services.request_invite(campaign=campaign, email="same@example.com").outcome
    )
    assert Entry.objects.filter(email="same@example.com").count() == 1
    assert Counter(outcomes)["queued"] == 1, outcomes


def _waiting(campaign, n):
    for i in range(n):
        entry = services.request_invite(campaign=campaign, email=f"w{i}@example.com").entry
        services.confirm(entry=entry)


def test_a_wave_started_eight_times_at_once_admits_its_size_once(campaign):
    _waiting(campaign, 12)
    wave = Wave.objects.create(campaign=campaign, size=5)

    results = run_together(8, lambda i: admission.run_wave(wave_id=wave.pk))

    assert sorted(results) == [0] * 7 + [5], results
    wave.refresh_from_db()
    assert wave.admitted == 5 == Entry.objects.filter(admitted_at__isnull=False).count()
    assert OutboundEmail.objects.filter(kind="waitlist_admitted").count() == 5


def test_one_donated_invite_raced_by_two_waves_is_used_once(campaign, alice):
    Member.objects.filter(pk=alice.pk).update(invites_left=1)
    alice.refresh_from_db()
    admission.donate(member=alice, seats=1)
    _waiting(campaign, 4)
    waves = [Wave.objects.create(campaign=campaign, size=2, source="pool") for _ in range(2)]

    results = run_together(2, lambda i: admission.run_wave(wave_id=waves[i].pk))

    assert sorted(results) == [0, 1], results
    assert Invite.objects.filter(owner=alice).count() == 1
    assert Entry.objects.filter(admitted_at__isnull=False).count() == 1


def test_a_nominee_admitted_by_two_waves_at_once_gets_one_invite_and_one_inviter(
    campaign, alice, bob
):
    _waiting(campaign, 1)
    nominee = Entry.objects.get()
    services.vouch(member=alice, entry=nominee)
    services.vouch(member=bob, entry=nominee)
    waves = [
        Wave.objects.create(campaign=campaign, size=1, order="picked", picked=[nominee.pk])
        for _ in range(2)
    ]

    results = run_together(2, lambda i: admission.run_wave(wave_id=waves[i].pk))

    assert sorted(results) == [0, 1], results
    assert Invite.objects.filter(recipient_email=nominee.email).count() == 1
    nominee.refresh_from_db()
    assert nominee.invite.owner_id == alice.pk
