"""Marketers register endpoints through the API and read their deliveries; URLs are checked."""

import pytest

from tests.helpers import marketer_of, token_client
from webhooks import services as webhooks
from webhooks.models import Delivery, Endpoint
from webhooks.targets import UnsafeTarget, check_url


def test_a_marketer_registers_an_endpoint_and_gets_its_secret(mara_api, receiver):
    response = mara_api.post(
        "/api/v1/webhooks/",
        {"campaign": "default", "url": receiver.url, "events": ["member.joined"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert Endpoint.objects.get(pk=body["id"]).secret == body["secret"]
    assert [e["id"] for e in mara_api.get("/api/v1/webhooks/").json()["results"]] == [body["id"]]
    patched = mara_api.patch(f"/api/v1/webhooks/{body['id']}/", {"is_active": False}, format="json")
    assert patched.json()["is_active"] is False
    assert mara_api.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 204
    assert not Endpoint.objects.exists()


def test_registering_the_same_url_twice_is_refused_so_no_event_arrives_twice(mara_api, receiver):
    form = {"campaign": "default", "url": receiver.url, "events": ["member.joined"]}
    assert mara_api.post("/api/v1/webhooks/", form, format="json").status_code == 201
    again = mara_api.post("/api/v1/webhooks/", form, format="json")
    assert again.status_code == 400
    assert Endpoint.objects.count() == 1


def test_unknown_events_and_other_campaigns_are_refused(mara_api, receiver, db):
    from referrals.models import Campaign

    Campaign.objects.create(slug="other", name="Other")
    response = mara_api.post(
        "/api/v1/webhooks/",
        {"campaign": "other", "url": receiver.url, "events": ["member.left"]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"campaign", "events"}


def test_another_campaigns_marketer_and_members_cannot_see_endpoints(endpoint, alice, db):
    from referrals.models import Campaign

    olga = marketer_of(Campaign.objects.create(slug="other", name="Other"), "olga")
    olga_api = token_client(olga)
    assert olga_api.get("/api/v1/webhooks/").json()["results"] == []
    assert olga_api.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    assert olga_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").status_code == 404
    assert token_client(alice.user).get("/api/v1/webhooks/").status_code == 403


def test_deliveries_are_listed_with_their_response_codes(mara_api, endpoint, receiver):
    receiver.status = 202
    response = mara_api.post(f"/api/v1/webhooks/{endpoint.pk}/ping/")
    assert response.status_code == 202
    delivery = Delivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "delivered"  # what the task does after the commit
    [row] = mara_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()["results"]
    assert row["event_type"] == "ping"
    assert row["status"] == "delivered"
    assert row["response_code"] == 202
    assert row["event_id"] == str(delivery.event.event_id)


def test_only_http_and_https_urls_are_accepted():
    for url in ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http:///nohost"]:
        with pytest.raises(UnsafeTarget):
            check_url(url)
    with pytest.raises(UnsafeTarget, match="credentials"):
        check_url("https://user:pw@example.com/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_addresses_are_refused_in_production(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeTarget):
        check_url(url)


def test_the_api_refuses_a_private_url_in_production(settings, mara_api):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = mara_api.post(
        "/api/v1/webhooks/",
        {"campaign": "default", "url": "http://127.0.0.1:9/", "events": ["member.joined"]},
        format="json",
    )
    assert response.status_code == 400
    assert "private or local address" in response.json()["url"][0]


def test_a_delivery_to_an_address_that_turned_private_is_not_sent(settings, endpoint, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    webhooks.send_test_event(endpoint=endpoint)  # its task waits for a commit that never comes
    assert webhooks.deliver(Delivery.objects.get().pk) == "failed"
    assert "private or local address" in Delivery.objects.get().last_error
