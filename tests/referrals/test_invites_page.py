"""/invites/: the inviter's page. Create, send, share, track, revoke."""

import html
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client

from referrals import emails, outbox, services
from referrals.models import Invite, Member, OutboundEmail
from tests.helpers import invite_item, invites_left_shown, make_user, messages_shown


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def page(client) -> str:
    response = client.get("/invites/")
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, alice):
    response = client.get("/invites/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/invites/"
    response = client.post("/invites/email/", {"member": alice.pk, "email": "zed@example.com"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert not Invite.objects.filter(owner=alice).exists()


def test_it_shows_invites_left_and_what_active_invitees_earn(alice_client, alice):
    content = page(alice_client)
    assert invites_left_shown(content) == 3
    assert "3 more active invitees earn you 2 invites." in content
    Member.objects.filter(pk=alice.pk).update(invites_left=1, activated_invitee_count=2)
    content = page(alice_client)
    assert invites_left_shown(content) == 1
    assert "1 more active invitee earns you 2 invites." in content


def test_inviting_by_email_creates_the_invite_and_queues_its_email(
    alice_client, alice, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/invites/email/",
            {"member": alice.pk, "email": "zed@example.com", "note": "Come and see"},
            follow=True,
        )
    assert messages_shown(response.content.decode()) == ["Invite on its way to zed@example.com."]
    invite = Invite.objects.get(owner=alice)
    assert (invite.recipient_email, invite.note) == ("zed@example.com", "Come and see")
    row = OutboundEmail.objects.get(invite=invite)
    # Delivered on commit without a broker, queued with one: either way, once.
    outbox.deliver(row.pk)
    assert [m.to for m in mailoutbox] == [["zed@example.com"]]
    assert invites_left_shown(page(alice_client)) == 2


def test_posting_the_invite_form_twice_sends_one_invite(
    alice_client, alice, django_capture_on_commit_callbacks, mailoutbox
):
    form = {"member": alice.pk, "email": "zed@example.com", "note": "Come and see"}
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post("/invites/email/", form, follow=True)
        again = alice_client.post(
            "/invites/email/", {**form, "email": "Zed@Example.com"}, follow=True
        )
    assert messages_shown(again.content.decode()) == [
        "You've already invited zed@example.com. To remind them, resend that invite from your list."
    ]
    assert Invite.objects.filter(owner=alice).count() == 1
    assert OutboundEmail.objects.count() == 1
    assert invites_left_shown(again.content.decode()) == 2


def test_a_revoked_invite_does_not_stop_a_fresh_one_to_the_same_person(alice_client, alice):
    first = emails.invite_by_email(member=alice, address="zed@example.com")
    services.revoke_invite(invite=first)
    second = emails.invite_by_email(member=alice, address="zed@example.com")
    assert second.pk != first.pk


def test_an_invalid_address_is_refused_and_nothing_is_created(alice_client, alice):
    response = alice_client.post(
        "/invites/email/", {"member": alice.pk, "email": "zed at example"}, follow=True
    )
    assert messages_shown(response.content.decode()) == ["Enter a valid email address."]
    assert not Invite.objects.filter(owner=alice).exists()
    assert not OutboundEmail.objects.exists()
    assert invites_left_shown(response.content.decode()) == 3


def test_a_refused_email_says_why(alice_client, alice):
    Member.objects.filter(pk=alice.pk).update(invites_left=0)
    response = alice_client.post(
        "/invites/email/", {"member": alice.pk, "email": "zed@example.com"}, follow=True
    )
    assert messages_shown(response.content.decode()) == [
        "You have no invites left. Invites you revoke come back, and active invitees earn more."
    ]
    assert not OutboundEmail.objects.exists()


def test_making_an_invite_link_spends_one_invite(alice_client, alice):
    response = alice_client.post(
        "/invites/new/", {"member": alice.pk, "note": "For Zed"}, follow=True
    )
    invite = Invite.objects.get(owner=alice)
    assert (invite.recipient_email, invite.note) == ("", "For Zed")
    content = response.content.decode()
    assert messages_shown(content) == [f"New invite link ready: {invite.absolute_link()}"]
    assert invites_left_shown(content) == 2
    assert not OutboundEmail.objects.exists()
    assert 'class="status created">created<' in invite_item(content, invite)


def test_the_same_link_form_posted_twice_makes_one_invite(alice_client, alice):
    submission = re.search(r'name="submission" value="([0-9a-f-]{36})"', page(alice_client)).group(
        1
    )
    form = {"member": alice.pk, "note": "For Zed", "submission": submission}
    first = alice_client.post("/invites/new/", form, follow=True)
    again = alice_client.post("/invites/new/", form, follow=True)
    invite = Invite.objects.get(owner=alice)
    link = f"New invite link ready: {invite.absolute_link()}"
    assert messages_shown(first.content.decode()) == [link]
    assert messages_shown(again.content.decode()) == [link]
    assert invites_left_shown(again.content.decode()) == 2
    # The page after it carries a new id: the next link is a new invite.
    fresh = re.search(r'name="submission" value="([0-9a-f-]{36})"', again.content.decode()).group(1)
    alice_client.post("/invites/new/", {**form, "submission": fresh})
    assert Invite.objects.filter(owner=alice).count() == 2


def test_revoking_gives_the_invite_back_and_shows_it_revoked(alice_client, alice):
    invite = services.create_invite(member=alice)
    response = alice_client.post(f"/invites/{invite.pk}/revoke/", follow=True)
    content = response.content.decode()
    assert messages_shown(content) == [
        f"Invite {invite.display_code} revoked; you have it back to give."
    ]
    assert invites_left_shown(content) == 3
    item = invite_item(content, invite)
    assert 'class="status revoked">revoked<' in item
    assert "/revoke/" not in item  # nothing left to do with it
    invite.refresh_from_db()
    assert invite.revoked_at is not None


def test_a_used_invite_cannot_be_revoked(alice_client, alice, bob):
    used = bob.redemption.invite
    response = alice_client.post(f"/invites/{used.pk}/revoke/", follow=True)
    assert messages_shown(response.content.decode()) == [
        "This invite has been used; there is nothing left to revoke."
    ]
    used.refresh_from_db()
    assert used.revoked_at is None


def test_resend_from_the_page_says_when_it_is_too_soon(alice_client, alice):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    response = alice_client.post(f"/invites/{invite.pk}/resend/", follow=True)
    assert messages_shown(response.content.decode()) == [
        "You can resend an invite once a day. Try again tomorrow."
    ]
    assert invite.emails.count() == 1


def test_another_member_cannot_touch_my_invites(client, alice, bob):
    invite = emails.invite_by_email(member=alice, address="zed@example.com")
    client.force_login(bob.user)
    assert client.post(f"/invites/{invite.pk}/revoke/").status_code == 404
    assert client.post(f"/invites/{invite.pk}/resend/").status_code == 404
    assert client.get(f"/invites/{invite.pk}/qr.svg").status_code == 404
    # Nor spend my invites by naming my membership.
    assert client.post("/invites/new/", {"member": alice.pk}).status_code == 404
    assert (
        client.post("/invites/email/", {"member": alice.pk, "email": "x@example.com"}).status_code
        == 404
    )
    invite.refresh_from_db()
    assert invite.revoked_at is None
    assert invite.emails.count() == 1
    assert Invite.objects.filter(owner=alice).count() == 2  # zed's, and the one bob used


def test_the_invite_actions_refuse_get(alice_client, alice):
    invite = services.create_invite(member=alice)
    for url in (
        "/invites/new/",
        "/invites/email/",
        f"/invites/{invite.pk}/revoke/",
        f"/invites/{invite.pk}/resend/",
    ):
        assert alice_client.get(url).status_code == 405, url
    invite.refresh_from_db()
    assert invite.revoked_at is None
    assert Invite.objects.filter(owner=alice).count() == 1


def test_the_qr_code_is_an_svg_image(alice_client, alice):
    invite = services.create_invite(member=alice)
    response = alice_client.get(f"/invites/{invite.pk}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert paths and paths[0].get("d")
    assert f'<img src="/invites/{invite.pk}/qr.svg"' in invite_item(page(alice_client), invite)


def test_share_links_carry_the_invite_link(alice_client, alice):
    invite = services.create_invite(member=alice)
    link = invite.absolute_link()
    item = invite_item(page(alice_client), invite)
    shares = {
        name: urlsplit(html.unescape(href))
        for href, name in re.findall(r'<a href="([^"]+)"[^>]*>Share on ([^<]+)</a>', item)
    }
    assert set(shares) == {"X", "LinkedIn", "WhatsApp", "E-mail"}
    x = shares["X"]
    assert (x.netloc, x.path) == ("twitter.com", "/intent/tweet")
    assert parse_qs(x.query)["url"] == [link]
    assert "Alice invited you to Passalong beta" in parse_qs(x.query)["text"][0]
    linkedin = shares["LinkedIn"]
    assert linkedin.netloc == "www.linkedin.com"
    assert parse_qs(linkedin.query)["url"] == [link]
    whatsapp = shares["WhatsApp"]
    assert whatsapp.netloc == "wa.me"
    assert parse_qs(whatsapp.query)["text"][0].endswith(f" {link}")
    mail = shares["E-mail"]
    assert mail.scheme == "mailto"
    assert unquote(parse_qs(mail.query)["body"][0]).endswith(f" {link}")
    # Encoded, never pasted raw into another URL.
    assert link not in html.unescape(re.search(r'href="(https://twitter[^"]+)"', item)[1])


def test_the_timeline_shows_each_step_an_invite_went_through(
    alice_client, alice, django_capture_on_commit_callbacks, tasks_in_process
):
    invite = emails.invite_by_email(member=alice, address="bob@example.com")
    outbox.deliver(invite.emails.get().pk)
    with django_capture_on_commit_callbacks(execute=True):  # the open is recorded by a task
        Client().get(f"/i/{invite.code}/")
    bob = services.redeem_invite(code=invite.code, user=make_user("bob"))
    services.activate_member(member=bob)

    item = invite_item(page(alice_client), invite)
    steps = re.findall(r"<li><span>([^<]+)</span> <time", item)
    assert steps == ["Created", "Sent", "opened", "Bob joined", "Bob is active"]
    assert 'class="status activated">activated<' in item


def test_the_timeline_counts_visitors_not_visits(
    alice_client, alice, django_capture_on_commit_callbacks, tasks_in_process
):
    invite = services.create_invite(member=alice)
    with django_capture_on_commit_callbacks(execute=True):  # the open is recorded by a task
        for visitor in (Client(), Client()):
            visitor.get(f"/i/{invite.code}/")
            visitor.get(f"/i/{invite.code}/")
    item = invite_item(page(alice_client), invite)
    assert re.findall(r"<li><span>([^<]+)</span> <time", item) == [
        "Created",
        "opened by 2 visitors",
    ]
    assert 'class="status opened">opened<' in item
