"""Hostile request bodies get a JSON 400 from the API, never a 500 or the site's HTML page."""

import pytest
from django.test import Client

from tests.helpers import token_client

NESTED = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def api_client(client):
    """A client whose 500s come back as responses, the way a visitor would get them."""
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("body", [NESTED, DEEP_OBJECT])
@pytest.mark.parametrize(
    "path", ["/api/v1/invites/", "/api/v1/webhooks/", "/api/v1/campaigns/default/activations/"]
)
def test_a_body_nested_a_thousand_deep_is_a_json_400(mara, alice, path, body):
    client = token_client(mara)
    client.raise_request_exception = False
    response = client.generic("POST", path, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_over_the_upload_limit_is_a_json_400(mara, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = token_client(mara)
    client.raise_request_exception = False
    body = '{"recipient_email": "a@example.com", "note": "' + "x" * 5000 + '"}'
    response = client.generic("POST", "/api/v1/invites/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]


def test_the_site_keeps_its_own_400_page(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.raise_request_exception = False
    response = client.post("/accounts/login/", {"login": "x" * 5000, "password": "y"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
