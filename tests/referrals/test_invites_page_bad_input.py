"""/invites/ under tampered, weird and repeated input: never a 500, never a lost invite."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from referrals import services
from referrals.models import Invite, Member
from tests.helpers import invite_item, invites_left_shown, messages_shown


@pytest.fixture
def alice_client(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice.user)
    return client


def invites_left(member) -> int:
    return Member.objects.values_list("invites_left", flat=True).get(pk=member.pk)


@pytest.mark.parametrize("tampered", ["abc", "", "\x00", "1.5", "1e3", "٣"])
def test_a_tampered_member_field_is_not_found_and_spends_nothing(alice_client, alice, tampered):
    for url, data in (
        ("/invites/new/", {"member": tampered, "note": "x"}),
        ("/invites/email/", {"member": tampered, "email": "zed@example.com"}),
    ):
        assert alice_client.post(url, data).status_code == 404, url
    assert not Invite.objects.filter(owner=alice).exists()
    assert invites_left(alice) == 3


def test_a_nul_byte_in_a_note_is_refused_with_the_real_reason(alice_client, alice):
    for url, data in (
        ("/invites/new/", {"member": alice.pk, "note": "hi\x00"}),
        ("/invites/email/", {"member": alice.pk, "email": "zed@example.com", "note": "hi\x00"}),
    ):
        response = alice_client.post(url, data, follow=True)
        assert messages_shown(response.content.decode()) == ["Null characters are not allowed."]
    assert not Invite.objects.filter(owner=alice).exists()


def test_an_overlong_note_says_it_is_too_long(alice_client, alice):
    response = alice_client.post(
        "/invites/new/", {"member": alice.pk, "note": "é" * 1001}, follow=True
    )
    assert messages_shown(response.content.decode()) == [
        "Ensure this value has at most 1000 characters (it has 1001)."
    ]
    assert invites_left(alice) == 3


def test_an_address_too_long_to_deliver_is_refused_and_nothing_is_created(alice_client, alice):
    # Passes the address syntax check, but no mail server takes more than 254
    # characters and the column holds 254 (PostgreSQL would refuse the INSERT).
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    response = alice_client.post(
        "/invites/email/", {"member": alice.pk, "email": address}, follow=True
    )
    assert response.status_code == 200
    assert messages_shown(response.content.decode()) == [
        "Ensure this value has at most 254 characters (it has 312)."
    ]
    assert not Invite.objects.filter(owner=alice).exists()
    assert invites_left(alice) == 3


def test_an_expired_unused_invite_can_be_taken_back(alice_client, alice):
    invite = services.create_invite(member=alice)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    content = alice_client.get("/invites/").content.decode()
    assert invites_left_shown(content) == 2
    assert f"/invites/{invite.pk}/revoke/" in invite_item(content, invite)

    response = alice_client.post(f"/invites/{invite.pk}/revoke/", follow=True)
    content = response.content.decode()
    assert messages_shown(content) == [
        f"Invite {invite.display_code} revoked; you have it back to give."
    ]
    assert invites_left_shown(content) == 3
    assert invites_left(alice) == 3


def test_a_revoke_posted_twice_gives_the_invite_back_once_and_says_so(alice_client, alice):
    invite = services.create_invite(member=alice)
    alice_client.post(f"/invites/{invite.pk}/revoke/", follow=True)
    response = alice_client.post(f"/invites/{invite.pk}/revoke/", follow=True)
    assert messages_shown(response.content.decode()) == [
        f"Invite {invite.display_code} was already revoked."
    ]
    assert invites_left(alice) == 3


def test_nul_bytes_and_junk_in_network_parameters_never_give_a_500(alice_client, alice, bob):
    for query in (
        {"member": "\x00"},
        {"after": "\x00", "campaign": "\x00"},
        {"member": "99999999999999999999999"},
        {"after": "99999999999999999999999"},
    ):
        assert alice_client.get("/network/", query).status_code in (200, 404), query
