"""The badge as the member's door: asking for an invite, and where visitors come from."""

import pytest

from badges import door
from badges.models import BadgeReferral, InviteRequest
from badges.services import refresh_awards
from referrals import tree
from referrals.models import Invite, OutboundEmail


@pytest.fixture
def connector(alice, bob):
    from referrals import services

    services.activate_member(member=bob)
    tree.fold_all()
    alice.refresh_from_db()
    refresh_awards(member=alice)
    return alice


def ask(client, **data):
    form = {"name": "Vic Visitor", "email": "vic@example.com", "message": "Loved your post"}
    return client.post("/badges/alice/connector/ask/", form | data)


def test_a_visitor_from_a_blog_is_counted_and_the_form_carries_the_page(client, connector):
    blog = "https://blog.example.net/2026/my-post"
    page = client.get("/badges/alice/connector/", HTTP_REFERER=blog)
    assert page.status_code == 200
    assert f'value="{blog}"' in page.content.decode()
    client.get("/badges/alice/connector/", HTTP_REFERER=blog)
    assert BadgeReferral.objects.get(member=connector, page_url=blog).visits == 2


def test_our_own_pages_are_not_counted_as_referrers(client, connector, settings):
    client.get("/badges/alice/connector/", HTTP_REFERER=settings.SITE_URL + "/u/alice/")
    client.get("/badges/alice/connector/", HTTP_REFERER="javascript:alert(1)")
    assert not BadgeReferral.objects.exists()


def test_asking_twice_makes_one_request_and_says_the_same(client, connector):
    first = ask(client, source="https://blog.example.net/p")
    second = ask(client, email="VIC@example.com ")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert InviteRequest.objects.filter(member=connector).count() == 1


def test_requests_are_throttled_per_client(client, connector, settings):
    settings.INVITE_REQUEST_RATE = "2/h"
    assert ask(client, email="a@example.com").status_code == 200
    assert ask(client, email="b@example.com").status_code == 200
    assert ask(client, email="c@example.com").status_code == 429
    assert InviteRequest.objects.count() == 2


def test_accepting_sends_a_personal_invite_and_the_join_is_credited_to_the_page(client, connector):
    ask(client, source="https://blog.example.net/p")
    request = InviteRequest.objects.get()
    client.force_login(connector.user)
    response = client.post(f"/settings/requests/{request.pk}/accept/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "accepted"
    assert request.invite.recipient_email == "vic@example.com"
    assert OutboundEmail.objects.filter(invite=request.invite, kind="invite").count() == 1
    Invite.objects.filter(pk=request.invite.pk).update(uses=1)
    [row] = door.visitor_pages(connector)
    assert row == {"page": "https://blog.example.net/p", "visits": 0, "requests": 1, "joined": 1}


def test_only_the_member_can_answer_and_ignoring_sends_nothing(client, connector, bob):
    ask(client)
    request = InviteRequest.objects.get()
    client.force_login(bob.user)
    assert client.post(f"/settings/requests/{request.pk}/accept/").status_code == 404
    client.force_login(connector.user)
    client.post(f"/settings/requests/{request.pk}/ignore/")
    request.refresh_from_db()
    assert request.status == "ignored"
    assert request.invite is None


def test_the_member_sees_requests_and_visitor_pages_on_the_badges_page(client, connector):
    client.get("/badges/alice/connector/", HTTP_REFERER="https://forum.example.org/t/1")
    ask(client, source="https://forum.example.org/t/1")
    client.force_login(connector.user)
    page = client.get("/badges/").content.decode()
    assert "Vic Visitor" in page
    assert "https://forum.example.org/t/1" in page
