"""The front page: a way in for visitors, a redirect for people who have one."""

from django.contrib.auth import get_user_model

from referrals import codes, services


def test_a_visitor_sees_what_passalong_is_and_a_box_for_a_code(client, campaign):
    page = client.get("/").content.decode()
    assert 'name="code"' in page
    assert "/accounts/login/" in page


def test_a_typed_code_opens_its_invite_page(client, alice):
    invite = services.create_invite(member=alice)
    response = client.get("/", {"code": codes.display(invite.code).lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/i/{invite.code}/"


def test_a_logged_in_member_lands_on_their_invites(client, alice):
    client.force_login(alice.user)
    assert client.get("/")["Location"] == "/invites/"


def test_a_marketer_without_a_membership_lands_on_the_dashboard(client, campaign):
    marketer = get_user_model().objects.create_user(username="mara", is_staff=True)
    client.force_login(marketer)
    assert client.get("/")["Location"] == "/dashboard/"
