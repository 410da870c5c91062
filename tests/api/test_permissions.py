"""Who can read what: members see only their invites; marketers only their campaigns."""

from rest_framework.test import APIClient

from tests.helpers import make_user, token_client


def test_it_refuses_anonymous_callers(campaign):
    response = APIClient().get("/api/v1/campaigns/")
    assert response.status_code in (401, 403)
    assert "credentials" in response.json()["detail"]


def test_token_authentication_works(mara_api, campaign):
    response = mara_api.get("/api/v1/campaigns/")
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["default"]


def test_a_bad_token_is_refused(campaign):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/campaigns/").status_code == 401


def test_session_authentication_works_for_the_site(mara, campaign):
    client = APIClient()
    client.force_login(mara)
    assert client.get("/api/v1/campaigns/default/").json()["name"] == campaign.name


def test_a_member_gets_no_marketer_endpoints(alice, bob):
    api = token_client(alice.user)
    for url in [
        "/api/v1/campaigns/",
        "/api/v1/campaigns/default/",
        "/api/v1/campaigns/default/stats/",
        "/api/v1/campaigns/default/members/",
        f"/api/v1/campaigns/default/members/{bob.pk}/",
        f"/api/v1/campaigns/default/members/{bob.pk}/ancestors/",
        "/api/v1/webhooks/",
    ]:
        response = api.get(url)
        assert response.status_code == 403, url
        assert response.json()["detail"] == "This part of the API is for campaign marketers."
    assert (
        api.post("/api/v1/campaigns/default/activations/", {"member_id": bob.pk}).status_code == 403
    )


def test_a_member_sees_only_their_own_invites(alice, bob):
    mine = token_client(bob.user).get("/api/v1/invites/").json()["results"]
    alices = token_client(alice.user).get("/api/v1/invites/").json()["results"]
    assert mine == []
    assert len(alices) == 1
    assert token_client(bob.user).get(f"/api/v1/invites/{alices[0]['id']}/").status_code == 404


def test_a_marketer_of_one_campaign_cannot_read_another(mara_api, olga, other_campaign, alice):
    olga_api = token_client(olga)
    assert [c["slug"] for c in olga_api.get("/api/v1/campaigns/").json()["results"]] == ["other"]
    for url in [
        "/api/v1/campaigns/default/",
        "/api/v1/campaigns/default/stats/",
        "/api/v1/campaigns/default/members/",
        f"/api/v1/campaigns/default/members/{alice.pk}/",
        f"/api/v1/campaigns/default/members/{alice.pk}/invitees/",
    ]:
        assert olga_api.get(url).status_code == 404, url
    assert (
        olga_api.post("/api/v1/campaigns/default/activations/", {"member_id": alice.pk}).status_code
        == 404
    )
    # ...and a member id of campaign A is not found under campaign B either.
    assert olga_api.get(f"/api/v1/campaigns/other/members/{alice.pk}/").status_code == 404


def test_a_marketer_granted_a_second_campaign_reads_it(mara, mara_api, other_campaign):
    assert mara_api.get("/api/v1/campaigns/other/").status_code == 404
    other_campaign.marketers.add(mara)
    assert mara_api.get("/api/v1/campaigns/other/").status_code == 200


def test_staff_outside_a_campaign_see_nothing_of_it(campaign):
    staff = make_user("stan")
    staff.is_staff = True
    staff.save()
    api = token_client(staff)
    assert api.get("/api/v1/campaigns/").json()["results"] == []
    assert api.get("/api/v1/campaigns/default/").status_code == 404
