"""/badges/<username>/<slug>.svg and .png: hot-linked from blogs, cached, cookie-free."""

import re
import struct
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badges import services as badges
from badges.models import Award, BadgeSetting
from badges.rules import EARLY_ADOPTER, SUMMARY
from referrals import services

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CSP = "default-src 'none'; style-src 'unsafe-inline'"
SUMMARY_SVG = "/badges/alice/passalong.svg"


def parse(response) -> ET.Element:
    return ET.fromstring(response.content)


def shown_texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def assert_safe_to_hotlink(response, content_type="image/svg+xml"):
    assert response["Content-Type"] == content_type
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "public" in cache_control
    [max_age] = [int(p.split("=")[1]) for p in cache_control if p.startswith("max-age=")]
    assert 0 < max_age <= 300
    # A cache in front (nginx, a CDN) keeps showing it while the site is down.
    [stale] = [int(p.split("=")[1]) for p in cache_control if p.startswith("stale-if-error=")]
    assert stale >= 3600
    assert re.fullmatch(r'"[^"\s]+"', response["ETag"])  # strong: quoted, no W/
    assert not response.cookies
    assert not response.has_header("Set-Cookie")


def test_a_badge_image_is_an_svg_that_shows_the_live_figure(client, awarded):
    response = client.get(SUMMARY_SVG)
    assert response.status_code == 200
    assert_safe_to_hotlink(response)
    root = parse(response)
    assert root.tag == f"{SVG}svg"
    assert shown_texts(root) == ["Passalong beta", "#1 · brought in 0"]
    assert root.find(f"{SVG}title").text == "Alice: Passalong beta · #1 · brought in 0"


def test_a_logged_in_member_viewing_a_badge_gets_no_cookie(client, awarded):
    client.force_login(awarded.user)
    response = client.get(SUMMARY_SVG)
    assert response.status_code == 200
    assert_safe_to_hotlink(response)
    again = client.get(SUMMARY_SVG, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    assert not again.cookies


def test_a_matching_etag_gets_a_304_with_no_body(client, awarded):
    first = client.get(SUMMARY_SVG)
    response = client.get(SUMMARY_SVG, headers={"If-None-Match": first["ETag"]})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == first["ETag"]
    assert_safe_to_hotlink(response)


def test_any_matching_etag_in_the_list_gets_a_304(client, awarded):
    etag = client.get(SUMMARY_SVG)["ETag"]
    response = client.get(SUMMARY_SVG, headers={"If-None-Match": f'"stale", {etag}'})
    assert response.status_code == 304


def test_a_stale_etag_gets_the_full_image(client, awarded):
    response = client.get(SUMMARY_SVG, headers={"If-None-Match": '"not-this-one"'})
    assert response.status_code == 200
    assert response.content.startswith(b"<svg")


def test_a_deploy_that_changes_the_renderer_gives_every_badge_a_new_etag(
    client, awarded, monkeypatch
):
    from badges.views import images

    before = client.get("/badges/alice/early-adopter.svg")["ETag"]
    monkeypatch.setattr(images, "_RENDERER_VERSION", "next-release")
    after = client.get("/badges/alice/early-adopter.svg", HTTP_IF_NONE_MATCH=before)
    assert after.status_code == 200
    assert after["ETag"] != before


def test_a_weak_form_of_the_etag_still_gets_a_304(client, awarded):
    etag = client.get(SUMMARY_SVG)["ETag"]
    response = client.get(SUMMARY_SVG, headers={"If-None-Match": f"W/{etag}"})
    assert response.status_code == 304


def test_a_changed_figure_gives_a_new_etag_and_new_bytes(client, awarded, bob):
    before = client.get(SUMMARY_SVG)
    services.activate_member(member=bob)  # alice brought in one active member
    after = client.get(SUMMARY_SVG, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.content != before.content
    assert shown_texts(parse(after))[1] == "#1 · brought in 1"


def test_a_new_activated_invitee_shows_on_the_cached_badge_at_once(client, awarded, bob):
    before = client.get(SUMMARY_SVG)
    assert client.get(SUMMARY_SVG, headers={"If-None-Match": before["ETag"]}).status_code == 304
    services.activate_member(member=bob)
    after = client.get(SUMMARY_SVG, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert shown_texts(parse(after))[1] == "#1 · brought in 1"
    assert "max-age=60," in after["Cache-Control"]  # browsers ask again within a minute


def test_a_campaign_renaming_or_recolouring_a_badge_changes_its_etag_and_bytes(
    client, awarded, campaign
):
    path = "/badges/alice/early-adopter.svg"
    before = client.get(path)
    setting = BadgeSetting.objects.create(campaign=campaign, slug=EARLY_ADOPTER, name="Pioneer")
    renamed = client.get(path, headers={"If-None-Match": before["ETag"]})
    assert renamed.status_code == 200
    assert shown_texts(parse(renamed))[0] == "Pioneer"
    setting.color = "red"
    setting.save()
    recoloured = client.get(path, headers={"If-None-Match": renamed["ETag"]})
    assert recoloured.status_code == 200
    assert recoloured.content != renamed.content


def test_a_repeat_request_is_served_from_the_cache(client, awarded, django_assert_max_num_queries):
    first = client.get(SUMMARY_SVG)
    with django_assert_max_num_queries(1):
        again = client.get(SUMMARY_SVG)
    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_a_304_costs_at_most_one_query(client, awarded, django_assert_max_num_queries):
    etag = client.get(SUMMARY_SVG)["ETag"]
    with django_assert_max_num_queries(1):
        assert client.get(SUMMARY_SVG, headers={"If-None-Match": etag}).status_code == 304


def test_the_three_styles_look_different_and_unknown_styles_fall_back(client, awarded):
    flat = client.get(SUMMARY_SVG)
    square = client.get(SUMMARY_SVG, {"style": "flat-square"})
    big = client.get(SUMMARY_SVG, {"style": "for-the-badge"})
    unknown = client.get(SUMMARY_SVG, {"style": "<script>"})
    assert len({flat.content, square.content, big.content}) == 3
    assert len({flat["ETag"], square["ETag"], big["ETag"]}) == 3
    assert parse(flat).get("height") == "20"
    assert parse(square).find(f"{SVG}clipPath") is None  # square corners
    assert parse(big).get("height") == "28"
    assert shown_texts(parse(big)) == ["PASSALONG BETA", "#1 · BROUGHT IN 0"]
    assert unknown.status_code == 200
    assert unknown.content == flat.content
    assert unknown["ETag"] == flat["ETag"]


def test_the_png_comes_at_1x_and_2x(client, awarded):
    svg_width = int(parse(client.get(SUMMARY_SVG)).get("width"))
    one = client.get("/badges/alice/passalong.png")
    two = client.get("/badges/alice/passalong.png", {"scale": "2"})
    assert one.status_code == two.status_code == 200
    assert_safe_to_hotlink(one, "image/png")
    assert_safe_to_hotlink(two, "image/png")
    assert png_size(one.content) == (svg_width, 20)
    assert png_size(two.content) == (2 * svg_width, 40)
    assert one["ETag"] != two["ETag"]


def test_an_unknown_png_scale_gives_the_1x_image(client, awarded):
    one = client.get("/badges/alice/passalong.png")
    odd = client.get("/badges/alice/passalong.png", {"scale": "9"})
    assert odd.content == one.content


def assert_not_found_image(response):
    assert response.status_code == 404
    assert_safe_to_hotlink(response)
    root = parse(response)
    assert root.tag == f"{SVG}svg"
    assert shown_texts(root) == ["badge", "not found"]


def test_an_unknown_user_gets_the_neutral_not_found_image(client, awarded):
    assert_not_found_image(client.get("/badges/nobody/passalong.svg"))


def test_an_unknown_badge_gets_the_neutral_not_found_image(client, awarded):
    assert_not_found_image(client.get("/badges/alice/astronaut.svg"))


def test_a_badge_not_earned_gets_the_neutral_not_found_image(client, awarded):
    assert_not_found_image(client.get("/badges/alice/tree-builder.svg"))


def test_a_hidden_badge_gets_the_neutral_not_found_image(client, awarded):
    Award.objects.filter(member=awarded, slug=EARLY_ADOPTER).update(hidden=True)
    assert_not_found_image(client.get("/badges/alice/early-adopter.svg"))


def test_a_revoked_badge_gets_the_neutral_not_found_image(client, awarded):
    badges.revoke(award=Award.objects.get(member=awarded, slug=SUMMARY), reason="fraud")
    response = client.get(SUMMARY_SVG)
    assert_not_found_image(response)
    # ...the same bytes as for someone who never existed: nothing leaks.
    assert response.content == client.get("/badges/nobody/passalong.svg").content


@pytest.mark.parametrize(
    "path",
    [
        "/badges/alice/Früh.svg",
        "/badges/alice/early.adopter.svg",
        "/badges/alice/x!.svg",
        "/badges/a%00b/passalong.svg",  # PostgreSQL refuses NUL in a query
        "/badges/%ED%A0%80/passalong.svg",
    ],
)
def test_any_odd_badge_url_gets_the_not_found_image_not_an_error_page(client, awarded, path):
    assert_not_found_image(client.get(path))


def test_a_missing_png_is_a_404_too(client, awarded):
    response = client.get("/badges/nobody/passalong.png")
    assert response.status_code == 404
    assert response.content[:8] == PNG_SIGNATURE


def test_a_hostile_display_name_is_shown_as_text(client, awarded):
    awarded.user.display_name = "</text><script>alert(1)</script>"
    awarded.user.save()
    response = client.get(SUMMARY_SVG)
    assert b"<script" not in response.content
    root = parse(response)
    assert not [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "script"]
    assert root.find(f"{SVG}title").text.startswith("</text><script>alert(1)</script>: ")


def test_a_hostile_campaign_name_is_shown_as_text(client, awarded, campaign):
    campaign.name = '"><script>alert(1)</script>'
    campaign.save()
    response = client.get(SUMMARY_SVG)
    root = parse(response)
    assert not [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "script"]
    assert shown_texts(root)[0] == '"><script>alert(1)</script>'


# Any name a member can save: no NUL (PostgreSQL) and no lone surrogates (UTF-8).
storable_names = st.text(
    alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co", "Cn"]),
    max_size=80,
).filter(lambda name: "\x00" not in name)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=storable_names)
def test_any_display_name_gives_a_well_formed_badge(client, awarded, name):
    awarded.user.display_name = name
    awarded.user.save(update_fields=["display_name"])
    response = client.get(SUMMARY_SVG)
    assert response.status_code == 200
    root = parse(response)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text.endswith(": Passalong beta · #1 · brought in 0")
