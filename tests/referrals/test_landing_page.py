"""/i/<code>/: the page an invite link opens."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError

from referrals import services
from referrals.models import Invite, InviteEvent
from tests.helpers import make_user


def opens(invite: Invite) -> int:
    return InviteEvent.objects.filter(invite=invite, kind="opened").count()


def test_it_shows_who_invited_you_their_note_the_pitch_and_the_way_in(client, alice, campaign):
    campaign.pitch = "Where the early birds trade notes."
    campaign.save()
    invite = services.create_invite(member=alice, note="Thought of you, Zed.")
    response = client.get(f"/i/{invite.code}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alice invited you" in content
    assert "Thought of you, Zed." in content
    assert "Where the early birds trade notes." in content
    accept = re.search(r'<a class="button" href="([^"]+)">Accept invite</a>', content)
    assert accept, content
    assert html.unescape(accept[1]) == f"/accounts/signup/?code={invite.display_code}"


def test_the_accept_link_leads_to_a_prefilled_signup(client, alice):
    invite = services.create_invite(member=alice)
    content = client.get(f"/i/{invite.code}/").content.decode()
    signup = html.unescape(re.search(r'href="([^"]+)">Accept invite<', content)[1])
    response = client.get(signup)
    assert response.status_code == 200
    assert response.context["form"].initial["code"] == invite.display_code


def test_a_note_is_shown_as_text_never_as_markup(client, alice):
    invite = services.create_invite(
        member=alice, note='<script>alert("hi")</script>\nBring <b>snacks</b>'
    )
    content = client.get(f"/i/{invite.code}/").content.decode()
    assert "<script>alert" not in content
    assert "<b>snacks</b>" not in content
    assert (
        "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;<br>Bring &lt;b&gt;snacks&lt;/b&gt;"
        in content
    )


def test_a_display_name_is_shown_as_text_never_as_markup(client, alice):
    alice.user.display_name = "<img src=x onerror=alert(1)>"
    alice.user.save()
    invite = services.create_invite(member=alice)
    content = client.get(f"/i/{invite.code}/").content.decode()
    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=alert(1)&gt; invited you" in content


def test_each_visitor_counts_as_one_open(
    client, alice, django_capture_on_commit_callbacks, tasks_in_process
):
    invite = services.create_invite(member=alice)
    with django_capture_on_commit_callbacks(execute=True):  # the open is recorded by a task
        client.get(f"/i/{invite.code}/")
        client.get(f"/i/{invite.code}/")
    assert opens(invite) == 1
    with django_capture_on_commit_callbacks(execute=True):
        Client().get(f"/i/{invite.code}/")
    assert opens(invite) == 2


def test_the_inviter_opening_their_own_link_is_not_an_open(
    client, alice, django_capture_on_commit_callbacks, tasks_in_process
):
    invite = services.create_invite(member=alice)
    client.force_login(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/i/{invite.code}/").status_code == 200
    assert opens(invite) == 0


def test_an_invite_opened_by_another_member_counts(
    client, alice, bob, django_capture_on_commit_callbacks, tasks_in_process
):
    invite = services.create_invite(member=alice)
    client.force_login(bob.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/i/{invite.code}/")
    assert opens(invite) == 1


@pytest.mark.parametrize("code", ["AAAAA-BBBBB-CCCCC", "not-a-code"])
def test_an_unknown_code_is_not_found(client, alice, code):
    response = client.get(f"/i/{code}/")
    assert response.status_code == 404
    assert "We don&#x27;t recognise that invite code." in response.content.decode()


def used(invite):
    services.redeem_invite(code=invite.code, user=make_user("bob"))


def expired(invite):
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(days=1))


def revoked(invite):
    services.revoke_invite(invite=invite)


def closed(invite):
    invite.campaign.is_open = False
    invite.campaign.save()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (used, "This invite code has already been used."),
        (expired, "This invite code expired on "),
        (revoked, "This invite code was withdrawn by the person who sent it."),
        (closed, "Passalong beta is not accepting new members right now."),
    ],
)
def test_an_invite_that_can_no_longer_be_used_is_gone_and_says_why(client, alice, spoil, message):
    invite = services.create_invite(member=alice)
    spoil(invite)
    response = client.get(f"/i/{invite.code}/")
    assert response.status_code == 410
    content = html.unescape(response.content.decode())
    assert message in content
    assert '<a class="button secondary" href="/">Enter another code</a>' in content
    assert "Accept invite" not in content
    assert opens(invite) == 0


def test_with_the_broker_down_an_open_is_still_recorded(
    client, alice, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(services.record_invite_open, "apply_async", broker_down)
    invite = services.create_invite(member=alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/i/{invite.code}/").status_code == 200
    assert opens(invite) == 1


def test_a_used_up_multi_use_code_says_it_has_no_uses_left(client, campaign):
    [code] = services.create_seed_codes(campaign=campaign, count=1, uses=3)
    Invite.objects.filter(pk=code.pk).update(uses=3)
    content = html.unescape(client.get(f"/i/{code.code}/").content.decode())
    assert "This invite code has no uses left (all 3 were taken)." in content
    assert "already been used" not in content
