"""Framing and session state: app pages refuse framing; what others embed carries no session."""

import pytest

from badges.rules import EARLY_ADOPTER

SITE = "https://passalong.example"


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/invites/"])
def test_app_pages_refuse_framing(client, alice, path):
    client.force_login(alice.user)
    response = client.get(path, follow=True)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.fixture
def embeds(settings, awarded):
    settings.SITE_URL = SITE
    return [
        f"/badges/alice/{EARLY_ADOPTER}.svg",
        f"/badges/alice/{EARLY_ADOPTER}.png",
        "/oembed/?format=json&url=" + f"{SITE}/badges/alice/{EARLY_ADOPTER}/",
    ]


def test_what_other_sites_embed_carries_no_session_state(client, alice, embeds):
    # Even for a visitor who is logged in on our site.
    client.force_login(alice.user)
    for path in embeds:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path
        assert not response.cookies, path
        assert "Cookie" not in response.get("Vary", ""), path


def test_badge_images_may_be_embedded_anywhere(client, embeds):
    for path in embeds[:2]:
        response = client.get(path)
        assert "X-Frame-Options" not in response.headers, path
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
