"""A marketer's campaign and badge names are cleaned where they are saved, so every output is."""

import json

import pytest

from badges.models import Award, BadgeSetting
from badges.rules import EARLY_ADOPTER
from tests.helpers import settings_post

RLO = "\u202e"  # right-to-left override


@pytest.fixture
def renamed(client, mara, campaign, awarded):
    """mara names the campaign and the early-adopter badge with bidi overrides in them."""
    client.force_login(mara)
    response = client.post(
        f"/dashboard/{campaign.slug}/settings/",
        {
            **settings_post(campaign, early_adopter_name=f"Early{RLO} bird"),
            "name": f"Autumn{RLO} beta",
        },
    )
    assert response.status_code == 302
    client.logout()
    campaign.refresh_from_db()
    return campaign


def test_the_names_are_saved_clean(renamed):
    assert renamed.name == "Autumn beta"
    assert BadgeSetting.objects.get(campaign=renamed, slug=EARLY_ADOPTER).name == "Early bird"


def test_the_embed_snippets_alt_text_is_clean(client, renamed, alice):
    client.force_login(alice.user)
    page = client.get("/badges/").content.decode()
    assert RLO not in page and "&#x202e;" not in page.lower()
    assert "Early bird" in page


def test_the_proof_pages_share_card_is_clean(client, renamed):
    page = client.get(f"/badges/alice/{EARLY_ADOPTER}/").content.decode()
    assert RLO not in page
    assert 'property="og:title" content="Alice · Early bird: #1 · first 100"' in page


def test_the_oembed_answer_is_clean(client, renamed, settings):
    settings.SITE_URL = "https://passalong.example"
    url = f"https://passalong.example/badges/alice/{EARLY_ADOPTER}/"
    response = client.get("/oembed/", {"url": url, "format": "json"})
    body = response.content.decode()
    assert RLO not in body and "\\u202e" not in body.lower()
    assert "Early bird" in json.loads(body)["title"]


def test_the_open_badges_class_is_clean(client, renamed):
    response = client.get(f"/openbadges/badges/{renamed.slug}/{EARLY_ADOPTER}.json")
    body = response.content.decode()
    assert RLO not in body and "\\u202e" not in body.lower()
    assert json.loads(body)["name"] == "Early bird · Autumn beta"
    award = Award.objects.get(member__user__username="alice", slug=EARLY_ADOPTER)
    assertion = client.get(f"/openbadges/assertions/{award.pk}.json").content.decode()
    assert RLO not in assertion and "\\u202e" not in assertion.lower()
