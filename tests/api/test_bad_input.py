"""The API under bad input: a NUL byte in a slug is a 4xx in JSON, never a 500."""

import pytest


@pytest.mark.parametrize("slug", ["\x00", "default\x00", "a b", "x" * 51])
def test_listing_invites_of_a_campaign_no_slug_can_name_is_a_400(client, alice, slug):
    client.force_login(alice.user)
    response = client.get("/api/v1/invites/", {"campaign": slug})
    assert response.status_code == 400
    assert response.json() == {"campaign": ["Not a campaign slug."]}


@pytest.mark.parametrize("slug", ["\x00", "default\x00", 7, None, ["default"]])
def test_a_webhook_for_a_campaign_no_slug_can_name_is_a_400(mara_api, slug):
    response = mara_api.post(
        "/api/v1/webhooks/",
        {"campaign": slug, "url": "https://example.com/hook", "events": ["member.joined"]},
        format="json",
    )
    assert response.status_code == 400
    assert "campaign" in response.json()


def test_a_webhook_for_another_marketers_campaign_is_a_400(mara_api, other_campaign):
    response = mara_api.post(
        "/api/v1/webhooks/",
        {"campaign": "other", "url": "https://example.com/hook", "events": ["member.joined"]},
        format="json",
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["campaign"][0]


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/campaigns/default/members/abc/"])
def test_a_mistyped_api_path_answers_json_not_the_sites_html_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No such API endpoint."}
