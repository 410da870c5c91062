"""/oembed/: the provider that turns a pasted proof-page URL into a live badge."""

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.request import urlopen

import pytest
from micawber import Provider, ProviderRegistry
from micawber.exceptions import ProviderHTTPException

from badges import services as badges
from badges.models import Award
from badges.rules import EARLY_ADOPTER, SUMMARY
from badges.tasks import award_new_members
from referrals import tree

SITE = "https://passalong.example"
PROOF = f"{SITE}/badges/alice/early-adopter/"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.found if tag == name]


def embedded(html: str) -> tuple[list[dict], list[dict]]:
    """The links and the images of an embed, in order."""
    return tags(html, "a"), tags(html, "img")


def oembed(client, url, **params):
    return client.get("/oembed/", {"url": url, "format": "json", **params})


def image_width(client, src: str) -> int:
    svg = client.get(src.removeprefix(SITE)).content
    return int(ET.fromstring(svg).get("width"))


def test_a_proof_page_embeds_as_a_rich_linked_badge(client, site, awarded):
    response = oembed(client, PROOF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["version"] == "1.0"
    assert data["type"] == "rich"
    assert data["provider_name"] == "Passalong"
    assert data["title"] == "Early adopter: #1 · first 100"
    assert data["author_name"] == "Alice"
    [a] = tags(data["html"], "a")
    [img] = tags(data["html"], "img")
    assert a["href"] == PROOF
    assert img["src"] == f"{SITE}/badges/alice/early-adopter.svg"
    assert img["alt"] == "Early adopter: #1 · first 100"
    assert isinstance(data["width"], int)
    assert isinstance(data["height"], int)
    assert int(img["width"]) == data["width"] == image_width(client, img["src"])
    assert int(img["height"]) == data["height"] == 20


def test_format_json_is_the_default(client, site, awarded):
    response = client.get("/oembed/", {"url": PROOF})
    assert response.status_code == 200
    assert response.json()["type"] == "rich"


def test_a_maxwidth_smaller_than_the_badge_scales_it_down(client, site, awarded):
    natural = oembed(client, PROOF).json()["width"]
    data = oembed(client, PROOF, maxwidth=natural // 2).json()
    assert data["width"] <= natural // 2
    assert data["height"] < 20
    [img] = tags(data["html"], "img")
    assert int(img["width"]) <= natural // 2


def test_a_maxwidth_larger_than_the_badge_leaves_it_alone(client, site, awarded):
    natural = oembed(client, PROOF).json()
    assert oembed(client, PROOF, maxwidth=natural["width"] + 500).json() == natural


def test_a_maxheight_smaller_than_the_badge_scales_it_down(client, site, awarded):
    natural = oembed(client, PROOF).json()["width"]
    data = oembed(client, PROOF, maxheight=10).json()
    assert data["height"] <= 10
    assert data["width"] < natural
    [img] = tags(data["html"], "img")
    assert int(img["height"]) <= 10


def test_nonsense_max_sizes_are_ignored(client, site, awarded):
    natural = oembed(client, PROOF).json()
    assert oembed(client, PROOF, maxwidth="wide", maxheight="-3").json() == natural


def test_a_url_on_another_host_is_not_ours_to_embed(client, site, awarded):
    assert oembed(client, "https://evil.example/badges/alice/early-adopter/").status_code == 404
    assert oembed(client, "http://passalong.example/badges/alice/early-adopter/").status_code == (
        404
    )


def test_an_unknown_or_unembeddable_path_is_a_404(client, site, awarded):
    assert oembed(client, f"{SITE}/no/such/page/").status_code == 404
    assert oembed(client, f"{SITE}/badges/").status_code == 404
    assert oembed(client, f"{SITE}/badges/alice/tree-builder/").status_code == 404
    assert oembed(client, f"{SITE}/badges/nobody/early-adopter/").status_code == 404
    assert client.get("/oembed/").status_code == 404


def test_a_hidden_badge_does_not_embed(client, site, awarded):
    Award.objects.filter(member=awarded, slug=EARLY_ADOPTER).update(hidden=True)
    assert oembed(client, PROOF).status_code == 404


def test_only_json_is_offered(client, site, awarded):
    response = client.get("/oembed/", {"url": PROOF, "format": "xml"})
    assert response.status_code == 501


def test_a_profile_embeds_only_when_public(client, site, awarded):
    profile = f"{SITE}/u/alice/"
    assert oembed(client, profile).status_code == 404
    awarded.user.public_profile = True
    awarded.user.save()
    data = oembed(client, profile).json()
    assert data["type"] == "rich"
    links = {a["href"]: img["src"] for a, img in zip(*embedded(data["html"]), strict=True)}
    assert links == {
        f"{SITE}/badges/alice/{slug}/": f"{SITE}/badges/alice/{slug}.svg"
        for slug in ("early-adopter", "founding-member", "passalong")
    }
    widths = [int(img["width"]) for img in tags(data["html"], "img")]
    assert data["width"] >= sum(widths)
    assert data["height"] == 20


def test_a_profile_embed_scales_all_its_badges_into_maxwidth(client, site, awarded):
    awarded.user.public_profile = True
    awarded.user.save()
    data = oembed(client, f"{SITE}/u/alice/", maxwidth=150).json()
    assert data["width"] <= 150
    assert sum(int(img["width"]) for img in tags(data["html"], "img")) <= 150


def test_the_gaps_between_profile_badges_shrink_with_them(client, site, awarded):
    awarded.user.public_profile = True
    awarded.user.save()
    data = oembed(client, f"{SITE}/u/alice/", maxwidth=150).json()
    images = tags(data["html"], "img")
    gaps = [int(m) for m in re.findall(r"margin-right:(\d+)px", data["html"])]
    assert len(gaps) == len(images) - 1  # none after the last badge
    assert sum(int(img["width"]) for img in images) + sum(gaps) == data["width"] <= 150


def test_a_revoked_badge_does_not_embed(client, site, awarded):
    badges.revoke(award=Award.objects.get(member=awarded, slug=EARLY_ADOPTER), reason="fraud")
    assert oembed(client, PROOF).status_code == 404


def test_a_deactivated_members_profile_does_not_embed(client, site, awarded):
    awarded.user.public_profile = True
    awarded.user.is_active = False
    awarded.user.save()
    assert oembed(client, f"{SITE}/u/alice/").status_code == 404


@pytest.mark.parametrize(
    "url", ["http://[::1", f"{SITE}/badges/a\x00b/passalong/", f"{SITE}/u/a\x00b/"]
)
def test_a_malformed_url_is_a_404_not_an_error(client, site, awarded, url):
    assert oembed(client, url).status_code == 404


# --- A real consumer against a running server -------------------------------


@pytest.fixture
def live_site(live_server, settings, campaign, alice, bob):
    settings.SITE_URL = live_server.url
    tree.fold_all()
    award_new_members()
    return live_server.url


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_oembed_consumer_embeds_a_proof_page(live_site):
    proof = f"{live_site}/badges/alice/passalong/"
    provider = Provider(f"{live_site}/oembed/")
    data = provider.request(proof)
    assert data["type"] == "rich"
    [img] = tags(data["html"], "img")
    assert img["src"] == f"{live_site}/badges/alice/{SUMMARY}.svg"
    assert tags(data["html"], "a")[0]["href"] == proof

    # As a blog engine would: replace a bare URL in a post with the embed.
    registry = ProviderRegistry()
    registry.register(re.escape(live_site) + r"/badges/\S+/", provider)
    post = registry.parse_text(f"My standing on Passalong:\n\n{proof}\n")
    assert f'<a href="{proof}"' in post
    assert f'src="{live_site}/badges/alice/{SUMMARY}.svg"' in post

    small = provider.request(proof, maxwidth=60)
    assert small["width"] <= 60

    with pytest.raises(ProviderHTTPException):
        provider.request(f"{live_site}/badges/alice/tree-builder/")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_consumer_discovers_the_endpoint_from_the_proof_page(live_site):
    proof = f"{live_site}/badges/alice/early-adopter/"
    with urlopen(proof, timeout=5) as response:
        page = response.read().decode()
    [link] = [
        attrs
        for attrs in tags(page, "link")
        if attrs.get("rel") == "alternate" and attrs.get("type") == "application/json+oembed"
    ]
    endpoint = link["href"]  # the parser has unescaped the &amp;
    assert endpoint.startswith(f"{live_site}/oembed/?")
    with urlopen(endpoint, timeout=5) as response:
        assert response.headers.get_content_type() == "application/json"
        data = json.load(response)
    assert data["type"] == "rich"
    assert data["version"] == "1.0"
    [img] = tags(data["html"], "img")
    with urlopen(img["src"], timeout=5) as response:
        assert response.headers.get_content_type() == "image/svg+xml"
        assert ET.fromstring(response.read()).get("width") == img["width"]
