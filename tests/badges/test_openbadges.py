"""Open Badges 2.0: hosted Issuer, BadgeClass and Assertion documents, and baked images."""

import hashlib
import json
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from badges import services as badges
from badges.models import Award
from badges.rules import EARLY_ADOPTER, FOUNDING
from badges.tasks import award_new_members
from referrals import tree

SITE = "https://passalong.example"
CONTEXT = "https://w3id.org/openbadges/v2"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OPENBADGES_NS = "{http://openbadges.org}"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def award(alice, bob):
    """alice's early-adopter award, after the fold and the join awards."""
    tree.fold_all()
    award_new_members()
    return Award.objects.get(member=alice, slug=EARLY_ADOPTER)


def fetch(client, url: str, status: int = 200) -> dict:
    """GET one of our document URLs by its id, as a verifier would."""
    assert url.startswith(SITE + "/")
    response = client.get(urlsplit(url).path)
    assert response.status_code == status, url
    assert response["Content-Type"] == "application/ld+json"
    return response.json()


def assertion_of(client, award: Award) -> dict:
    return fetch(client, f"{SITE}/openbadges/assertions/{award.pk}.json")


def assert_is_http_url(value):
    parts = urlsplit(value)
    assert parts.scheme in ("http", "https") and parts.netloc, value


def test_the_issuer_is_a_valid_profile_that_resolves_to_itself(client):
    issuer = fetch(client, f"{SITE}/openbadges/issuer.json")
    assert issuer["@context"] == CONTEXT
    assert issuer["type"] == "Issuer"
    for field in ("id", "name", "url", "email"):
        assert issuer[field], field
    assert issuer["id"] == f"{SITE}/openbadges/issuer.json"
    assert issuer["url"] == SITE
    assert "@" in issuer["email"] and "<" not in issuer["email"]
    assert fetch(client, issuer["id"]) == issuer


def test_a_badge_class_is_valid_and_its_links_resolve(client, campaign):
    badge = fetch(client, f"{SITE}/openbadges/badges/default/{EARLY_ADOPTER}.json")
    assert badge["@context"] == CONTEXT
    assert badge["type"] == "BadgeClass"
    for field in ("id", "name", "description", "image", "criteria", "issuer"):
        assert badge[field], field
    assert badge["name"] == "Early adopter · Passalong beta"
    assert badge["criteria"]["narrative"]
    assert fetch(client, badge["id"]) == badge
    assert fetch(client, badge["issuer"])["type"] == "Issuer"
    assert_is_http_url(badge["image"])
    image = client.get(urlsplit(badge["image"]).path)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    ET.fromstring(image.content)


def test_unknown_badge_classes_are_404(client, campaign):
    assert client.get("/openbadges/badges/default/astronaut.json").status_code == 404
    assert client.get(f"/openbadges/badges/nope/{EARLY_ADOPTER}.json").status_code == 404
    assert client.get("/openbadges/badges/default/astronaut.svg").status_code == 404


def test_an_assertion_is_valid_and_its_links_resolve(client, award):
    assertion = assertion_of(client, award)
    assert assertion["@context"] == CONTEXT
    assert assertion["type"] == "Assertion"
    for field in ("id", "recipient", "badge", "verification", "issuedOn"):
        assert assertion[field], field
    assert assertion["id"] == f"{SITE}/openbadges/assertions/{award.pk}.json"
    assert fetch(client, assertion["id"]) == assertion
    assert assertion["verification"] == {"type": "HostedBadge"}
    issued = datetime.fromisoformat(assertion["issuedOn"])
    assert issued.tzinfo is not None
    assert issued == award.awarded_at

    badge = fetch(client, assertion["badge"])
    assert badge["type"] == "BadgeClass"
    assert badge["id"] == assertion["badge"]
    issuer = fetch(client, badge["issuer"])
    # Hosted verification: the assertion lives on the issuer's own origin.
    assert urlsplit(assertion["id"]).netloc == urlsplit(issuer["id"]).netloc

    assert assertion["evidence"] == f"{SITE}/badges/alice/early-adopter/"
    assert client.get(urlsplit(assertion["evidence"]).path).status_code == 200
    assert assertion["image"] == f"{SITE}/badges/alice/early-adopter.svg"
    assert client.get(urlsplit(assertion["image"]).path).status_code == 200


def test_the_recipient_is_a_salted_hash_of_the_email(client, award):
    recipient = assertion_of(client, award)["recipient"]
    assert recipient["type"] == "email"
    assert recipient["hashed"] is True
    assert len(recipient["salt"]) >= 8
    expected = hashlib.sha256(("alice@example.com" + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == "sha256$" + expected
    assert "alice@example.com" not in json.dumps(assertion_of(client, award))


def test_each_award_has_its_own_salt(client, award):
    founding = Award.objects.get(member=award.member, slug=FOUNDING)
    one = assertion_of(client, award)["recipient"]
    two = assertion_of(client, founding)["recipient"]
    assert one["salt"] != two["salt"]
    assert one["identity"] != two["identity"]


def test_a_revoked_assertion_answers_410_with_revoked_true(client, award):
    badges.revoke(award=award, reason="Bought a seed code")
    data = fetch(client, award.assertion_id(), status=410)
    assert data["revoked"] is True
    assert data["id"] == award.assertion_id()
    assert data["revocationReason"] == "Bought a seed code"
    assert "recipient" not in data


def test_revoking_from_the_admin_shows_on_the_proof_page_and_the_assertion(admin_client, award):
    response = admin_client.post(
        "/admin/badges/award/",
        {"action": "revoke_selected", "_selected_action": [award.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Revoked 1 award(s)." in response.content.decode()
    admin_client.logout()
    page = admin_client.get("/badges/alice/early-adopter/").content.decode()
    assert "This badge was revoked" in page
    assert "Revoked by admin" in page
    data = fetch(admin_client, award.assertion_id(), status=410)
    assert data["revoked"] is True
    assert data["revocationReason"] == "Revoked by admin"
    assert admin_client.get("/badges/alice/early-adopter.svg").status_code == 404


def test_a_hidden_or_unknown_assertion_is_404(client, award):
    Award.objects.filter(pk=award.pk).update(hidden=True)
    assert client.get(f"/openbadges/assertions/{award.pk}.json").status_code == 404
    assert client.get("/openbadges/assertions/999999.json").status_code == 404


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, checking each CRC on the way."""
    assert png[:8] == PNG_SIGNATURE
    chunks = []
    position = 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        chunks.append((kind, data))
        position += 12 + length
    assert position == len(png)
    return chunks


def itxt(data: bytes) -> tuple[str, str]:
    """(keyword, text) of an uncompressed iTXt chunk."""
    keyword, rest = data.split(b"\x00", 1)
    compressed, method = rest[0], rest[1]
    assert (compressed, method) == (0, 0)
    _language, rest = rest[2:].split(b"\x00", 1)
    _translated, text = rest.split(b"\x00", 1)
    return keyword.decode("latin-1"), text.decode("utf-8")


def test_the_baked_png_carries_the_assertion_in_an_itxt_chunk(client, award):
    response = client.get("/badges/alice/early-adopter/baked.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="alice-early-adopter.png"'
    chunks = png_chunks(response.content)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    baked = [itxt(data) for kind, data in chunks if kind == b"iTXt"]
    [text] = [text for keyword, text in baked if keyword == "openbadges"]
    assert json.loads(text) == assertion_of(client, award)


def test_the_baked_svg_carries_the_assertion_and_is_still_xml(client, award):
    response = client.get("/badges/alice/early-adopter/baked.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="alice-early-adopter.svg"'
    content = response.content.decode()
    assert f'<openbadges:assertion verify="{award.assertion_id()}">' in content
    root = ET.fromstring(response.content)
    [element] = root.findall(f"{OPENBADGES_NS}assertion")
    assert element.get("verify") == award.assertion_id()
    assert json.loads(element.text) == assertion_of(client, award)


CSP = "default-src 'none'; style-src 'unsafe-inline'"


@pytest.mark.parametrize(
    "path",
    ["/openbadges/badges/default/early-adopter.svg", "/badges/alice/early-adopter/baked.svg"],
)
def test_the_badge_class_image_and_the_baked_svg_carry_the_svg_headers(client, award, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert not response.cookies


def test_revoked_or_hidden_badges_are_not_baked(client, award):
    badges.revoke(award=award, reason="fraud")
    assert client.get("/badges/alice/early-adopter/baked.png").status_code == 404
    assert client.get("/badges/alice/founding-member/baked.svg").status_code == 200
    Award.objects.filter(member=award.member, slug=FOUNDING).update(hidden=True)
    assert client.get("/badges/alice/founding-member/baked.svg").status_code == 404
    assert client.get("/badges/alice/passalong/baked.gif").status_code == 404
