"""A member creates invites through the API, within their quota."""

from referrals.models import Invite, OutboundEmail
from tests.helpers import make_user, token_client


def test_a_member_creates_an_invite_from_their_quota(alice):
    api = token_client(alice.user)
    before = alice.invites_left
    response = api.post("/api/v1/invites/", {"note": "Come along"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["campaign"] == "default"
    assert body["status"] == "open"
    assert body["link"].endswith(f"/i/{Invite.objects.get(pk=body['id']).code}/")
    alice.refresh_from_db()
    assert alice.invites_left == before - 1
    assert api.get("/api/v1/invites/").json()["results"][0]["id"] == body["id"]


def test_over_quota_is_a_409_with_the_reason(alice):
    api = token_client(alice.user)
    for _ in range(alice.invites_left):
        assert api.post("/api/v1/invites/", {}, format="json").status_code == 201
    refused = api.post("/api/v1/invites/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("You have no invites left.")
    alice.refresh_from_db()
    assert alice.invites_left == 0


def test_an_invite_with_an_address_is_queued_in_the_email_outbox(alice):
    api = token_client(alice.user)
    response = api.post("/api/v1/invites/", {"recipient_email": "dora@example.com"}, format="json")
    assert response.status_code == 201
    queued = OutboundEmail.objects.get(invite_id=response.json()["id"])
    assert (queued.to_email, queued.status) == ("dora@example.com", "pending")


def test_the_daily_email_limit_is_a_409(alice):
    alice.campaign.daily_email_limit = 0
    alice.campaign.save()
    api = token_client(alice.user)
    response = api.post("/api/v1/invites/", {"recipient_email": "dora@example.com"}, format="json")
    assert response.status_code == 409
    assert "as many invite e-mails" in response.json()["detail"]


def test_bad_input_is_a_400(alice):
    api = token_client(alice.user)
    response = api.post("/api/v1/invites/", {"recipient_email": "not an address"}, format="json")
    assert response.status_code == 400
    assert "recipient_email" in response.json()


def test_someone_in_no_campaign_is_told_so(campaign):
    api = token_client(make_user("nina"))
    response = api.post("/api/v1/invites/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You are not a member of any campaign yet."
    assert api.post("/api/v1/invites/", {"campaign": "nope"}, format="json").status_code == 404


def test_session_writes_need_the_csrf_token(alice):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert client.post("/api/v1/invites/", {}, format="json").status_code == 403
