"""Proof pages, public profiles, and the member's own /badges/ page with its snippets."""

import html
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from badges import services as badges
from badges.models import Award
from badges.rules import EARLY_ADOPTER, FOUNDING, SUMMARY
from referrals.models import Member

SITE = "https://passalong.example"
PROOF = "/badges/alice/early-adopter/"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)


def parse(content: bytes | str) -> _Tags:
    parser = _Tags()
    parser.feed(content.decode() if isinstance(content, bytes) else content)
    return parser


def tags(content, name: str, **attrs) -> list[dict]:
    """Attributes of every `name` element whose attributes include `attrs`."""
    return [
        found
        for tag, found in parse(content).found
        if tag == name and all(found.get(k.replace("_", "-")) == v for k, v in attrs.items())
    ]


def text_of(content) -> str:
    return " ".join(" ".join(parse(content).text).split())


def meta(content, key: str) -> str:
    [found] = [
        m["content"] for m in tags(content, "meta") if key in (m.get("property"), m.get("name"))
    ]
    return found


# --- The proof page ----------------------------------------------------------


def test_the_proof_page_shows_who_where_when_and_what(client, awarded):
    response = client.get(PROOF)
    assert response.status_code == 200
    text = text_of(response.content)
    award = Award.objects.get(member=awarded, slug=EARLY_ADOPTER)
    assert "Alice is verified: Early adopter" in text
    assert "Campaign Passalong beta" in text
    assert "Shows #1 · first 100" in text
    assert "Among the first members to join, by join number." in text
    [when] = tags(response.content, "time")
    assert when["datetime"] == award.awarded_at.isoformat()
    assert award.awarded_at.strftime("%B %Y") in text
    [image] = tags(response.content, "img", src=f"{SITE}/badges/alice/early-adopter.svg")
    assert image["alt"] == "Early adopter: #1 · first 100"


def test_the_proof_page_links_the_open_badges_assertion_and_baked_downloads(client, awarded):
    content = client.get(PROOF).content
    award = Award.objects.get(member=awarded, slug=EARLY_ADOPTER)
    hrefs = [a["href"] for a in tags(content, "a")]
    assert f"{SITE}/openbadges/assertions/{award.pk}.json" in hrefs
    assert "/badges/alice/early-adopter/baked.png" in hrefs
    assert "/badges/alice/early-adopter/baked.svg" in hrefs
    for path in ("/badges/alice/early-adopter/baked.png", "/badges/alice/early-adopter/baked.svg"):
        download = client.get(path)
        assert download.status_code == 200
        assert download["Content-Disposition"].startswith("attachment;")


def test_the_proof_page_announces_its_oembed_and_social_cards(client, awarded):
    content = client.get(PROOF).content
    [link] = tags(content, "link", rel="alternate", type="application/json+oembed")
    endpoint = urlsplit(link["href"])
    assert f"{endpoint.scheme}://{endpoint.netloc}{endpoint.path}" == f"{SITE}/oembed/"
    assert parse_qs(endpoint.query) == {"url": [SITE + PROOF], "format": ["json"]}
    assert meta(content, "og:title") == "Alice · Early adopter: #1 · first 100"
    assert meta(content, "og:image") == f"{SITE}/badges/alice/early-adopter.png"
    assert meta(content, "og:url") == SITE + PROOF
    assert meta(content, "twitter:card") == "summary"


def test_a_revoked_badges_page_says_so(client, awarded):
    award = Award.objects.get(member=awarded, slug=EARLY_ADOPTER)
    badges.revoke(award=award, reason="Bought a seed code")
    response = client.get(PROOF)
    assert response.status_code == 200
    text = text_of(response.content)
    assert "This badge was revoked" in text
    assert "Bought a seed code" in text
    assert "is verified" not in text
    assert not [a for a in tags(response.content, "a") if "/openbadges/" in a["href"]]


def test_a_revoked_badges_share_card_says_revoked_and_offers_no_embed(client, awarded):
    badges.revoke(award=Award.objects.get(member=awarded, slug=EARLY_ADOPTER), reason="fraud")
    content = client.get(PROOF).content
    assert meta(content, "og:title") == "Alice · Early adopter (revoked)"
    assert meta(content, "twitter:title") == "Alice · Early adopter (revoked)"
    assert not tags(content, "link", rel="alternate", type="application/json+oembed")
    assert not [m for m in tags(content, "meta") if m.get("property") == "og:image"]


def test_a_malformed_referer_is_ignored(client, awarded):
    response = client.get(PROOF, headers={"Referer": "http://[oops/"})
    assert response.status_code == 200


def test_a_name_with_a_nul_has_no_page(client, awarded):
    assert client.get("/badges/a%00b/early-adopter/").status_code == 404
    assert client.get("/u/a%00b/").status_code == 404
    assert client.get("/badges/a%00b/early-adopter/baked.svg").status_code == 404


def test_a_hidden_badge_has_no_page(client, awarded):
    Award.objects.filter(member=awarded, slug=EARLY_ADOPTER).update(hidden=True)
    assert client.get(PROOF).status_code == 404


def test_an_unknown_badge_or_member_has_no_page(client, awarded):
    assert client.get("/badges/alice/tree-builder/").status_code == 404
    assert client.get("/badges/nobody/early-adopter/").status_code == 404


def test_a_display_name_on_the_proof_page_is_text_not_markup(client, awarded):
    awarded.user.display_name = "<script>alert(1)</script>"
    awarded.user.save()
    content = client.get(PROOF).content.decode()
    assert "<script>alert(1)" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is verified" in content


# --- The public profile ------------------------------------------------------


def test_a_profile_is_private_unless_the_member_opts_in(client, awarded):
    assert client.get("/u/alice/").status_code == 404
    awarded.user.public_profile = True
    awarded.user.save()
    assert client.get("/u/alice/").status_code == 200


def test_a_deactivated_users_profile_is_gone(client, awarded):
    awarded.user.public_profile = True
    awarded.user.is_active = False
    awarded.user.save()
    assert client.get("/u/alice/").status_code == 404


def test_a_public_profile_shows_the_join_number_badges_and_oembed_link(client, awarded):
    awarded.user.public_profile = True
    awarded.user.save()
    Member.objects.filter(pk=awarded.pk).update(activated_invitee_count=12, join_number=42)
    Award.objects.filter(member=awarded, slug=FOUNDING).update(hidden=True)
    content = client.get("/u/alice/").content
    assert "Passalong beta: member #42, brought in 12 active members." in text_of(content)
    images = {img["src"] for img in tags(content, "img")}
    assert images == {
        f"{SITE}/badges/alice/{EARLY_ADOPTER}.svg",
        f"{SITE}/badges/alice/{SUMMARY}.svg",
    }
    for slug in (EARLY_ADOPTER, SUMMARY):  # each image links to its proof page
        assert (
            f'<a href="{SITE}/badges/alice/{slug}/"><img src="{SITE}/badges/alice/{slug}.svg"'
            in (content.decode())
        )
    [link] = tags(content, "link", rel="alternate", type="application/json+oembed")
    assert parse_qs(urlsplit(link["href"]).query)["url"] == [f"{SITE}/u/alice/"]


# --- My badges ---------------------------------------------------------------


def test_my_badges_needs_a_login(client, awarded):
    response = client.get("/badges/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/badges/"


class _Embed(HTMLParser):
    """From /badges/: the embed box (its badge, format and code) and the badges' embed links."""

    def __init__(self):
        super().__init__()
        self.slug = self.kind = self.code = ""
        self.in_kind = False
        self.badge_links: dict[str, str] = {}  # slug -> ?badge=... link
        self.format_links: dict[str, str] = {}  # kind -> ?badge=...&format=... link
        self.card = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("id") == "embed":
            self.slug = attrs["data-badge"]
        elif tag == "section" and (attrs.get("id") or "").startswith("badge-"):
            self.card = attrs["id"].removeprefix("badge-")
        elif tag == "a" and "?badge=" in (attrs.get("href") or ""):
            href = attrs["href"]
            if "format=" in href:
                self._format = href
            elif self.card:
                self.badge_links[self.card] = href
        elif tag == "span" and self.slug and not self.kind:
            self.in_kind = True
        elif tag == "button" and "data-copy" in attrs and self.slug and not self.code:
            self.code = attrs["data-copy"]

    def handle_endtag(self, tag):
        if tag == "span":
            self.in_kind = False

    def handle_data(self, data):
        if self.in_kind:
            self.kind += data
        elif getattr(self, "_format", None):
            self.format_links[data.strip()] = self._format
            self._format = None


def embed_of(content: str) -> _Embed:
    parser = _Embed()
    parser.feed(content)
    return parser


def snippet_blocks(client) -> dict[str, dict[str, str]]:
    """{badge slug: {snippet kind: code as its Copy button copies it}}, one page at a time:
    the page shows one badge in one format, and links to the others."""
    first = embed_of(client.get("/badges/").content.decode())
    if not first.slug:
        return {}
    links = {first.slug: "/badges/", **first.badge_links}
    found: dict[str, dict[str, str]] = {}
    for slug, link in links.items():
        path = html.unescape(link).split("#")[0]
        path = path if path.startswith("/") else "/badges/" + path
        shown = embed_of(client.get(path).content.decode())
        assert shown.slug == slug
        found[slug] = {}
        for kind, href in shown.format_links.items():
            page = embed_of(
                client.get("/badges/" + html.unescape(href).split("#")[0]).content.decode()
            )
            assert (page.slug, page.kind) == (slug, kind)
            found[slug][kind] = page.code
    return found


def links_image_to_page(kind: str, code: str) -> tuple[str, str, str]:
    """(image, page, alt) as a reader of `kind` markup understands the snippet."""
    if kind == "HTML":
        [a] = tags(code, "a")
        [img] = tags(code, "img")
        assert code.startswith("<a ") and code.endswith("</a>")
        return img["src"], a["href"], img["alt"]
    if kind == "Markdown":
        m = re.fullmatch(r"\[!\[([^\]]*)\]\(([^)\s]+)\)\]\(([^)\s]+)\)", code)
        return m[2], m[3], m[1]
    if kind == "BBCode":
        m = re.fullmatch(r"\[url=([^\]]+)\]\[img\]([^\[]+)\[/img\]\[/url\]", code)
        return m[2], m[1], ""
    if kind == "reStructuredText":
        first, *options = code.split("\n")
        image = re.fullmatch(r"\.\. image:: (\S+)", first)[1]
        fields = dict(re.fullmatch(r"   :(\w+): (.+)", line).groups() for line in options)
        return image, fields["target"], fields["alt"]
    if kind == "AsciiDoc":
        m = re.fullmatch(r"image:([^\[\s]+)\[(.*)\]", code)
        return m[1], *asciidoc_link_and_alt(m[2])
    raise AssertionError(kind)


def asciidoc_link_and_alt(attrlist: str) -> tuple[str, str]:
    """Asciidoctor's reading of an attribute list: commas split unless inside double quotes."""
    parts = re.findall(r'(?:"[^"]*"|[^,])+', attrlist)
    named = dict(p.split("=", 1) for p in parts if re.match(r"\s*\w+=", p))
    positional = [p.strip().strip('"') for p in parts if not re.match(r"\s*\w+=", p)]
    return named["link"].strip('"'), positional[0] if positional else ""


ALT = {
    SUMMARY: "Passalong beta: #1 · brought in 0",
    EARLY_ADOPTER: "Early adopter: #1 · first 100",
    FOUNDING: "Passalong beta: founding member",
}
KINDS = ["HTML", "Markdown", "BBCode", "reStructuredText", "AsciiDoc", "oEmbed URL"]


def test_my_badges_lists_every_badge_with_six_snippets_that_link_to_the_proof(client, awarded):
    client.force_login(awarded.user)
    response = client.get("/badges/")
    assert response.status_code == 200
    blocks = snippet_blocks(client)
    assert set(blocks) == {SUMMARY, EARLY_ADOPTER, FOUNDING}
    # One badge's snippet at a time, not eighteen boxes.
    assert response.content.decode().count("data-copy=") == 1
    for slug, snippets in blocks.items():
        image = f"{SITE}/badges/alice/{slug}.svg"
        page = f"{SITE}/badges/alice/{slug}/"
        assert list(snippets) == KINDS
        assert snippets["oEmbed URL"] == page
        for kind in KINDS[:-1]:
            src, href, alt = links_image_to_page(kind, snippets[kind])
            assert (src, href) == (image, page), (kind, snippets[kind])
            assert alt == ("" if kind == "BBCode" else ALT[slug]), (kind, snippets[kind])


def test_every_snippet_url_answers(client, awarded):
    client.force_login(awarded.user)
    snippets = snippet_blocks(client)[EARLY_ADOPTER]
    src, href, _ = links_image_to_page("Markdown", snippets["Markdown"])
    assert client.get(src.removeprefix(SITE)).status_code == 200
    assert client.get(href.removeprefix(SITE)).status_code == 200
    oembed = client.get("/oembed/", {"url": snippets["oEmbed URL"]})
    assert oembed.status_code == 200


def test_the_asciidoc_snippet_keeps_an_alt_text_with_a_comma_whole(client, awarded):
    Member.objects.filter(pk=awarded.pk).update(join_number=1234)
    client.force_login(awarded.user)
    snippets = snippet_blocks(client)[SUMMARY]
    _, page, alt = links_image_to_page("AsciiDoc", snippets["AsciiDoc"])
    assert page == f"{SITE}/badges/alice/{SUMMARY}/"
    assert alt == "Passalong beta: #1,234 · brought in 0"


def test_my_badges_shows_only_my_own(client, awarded, bob):
    client.force_login(bob.user)
    blocks = snippet_blocks(client)
    assert set(blocks) == {SUMMARY, EARLY_ADOPTER}
    assert all("/badges/bob/" in s["oEmbed URL"] for s in blocks.values())


def test_hiding_a_badge_takes_its_image_and_page_off_the_web_and_showing_brings_them_back(
    client, awarded
):
    award = Award.objects.get(member=awarded, slug=EARLY_ADOPTER)
    client.force_login(awarded.user)
    toggle = f"/settings/badges/{award.pk}/visibility/"

    response = client.post(toggle, follow=True)
    assert response.redirect_chain == [("/badges/", 302)]
    assert "Early adopter badge is now hidden from the web." in text_of(response.content)
    award.refresh_from_db()
    assert award.hidden
    assert client.get("/badges/alice/early-adopter.svg").status_code == 404
    assert client.get(PROOF).status_code == 404
    assert "hidden" in text_of(response.content)

    response = client.post(toggle, follow=True)
    assert "Early adopter badge is now shown on the web." in text_of(response.content)
    award.refresh_from_db()
    assert not award.hidden
    assert client.get("/badges/alice/early-adopter.svg").status_code == 200
    assert client.get(PROOF).status_code == 200


def test_nobody_can_hide_someone_elses_badge(client, awarded, bob):
    award = Award.objects.get(member=awarded, slug=EARLY_ADOPTER)
    client.force_login(bob.user)
    assert client.post(f"/settings/badges/{award.pk}/visibility/").status_code == 404
    award.refresh_from_db()
    assert not award.hidden


def test_hiding_takes_a_post(client, awarded):
    award = Award.objects.get(member=awarded, slug=EARLY_ADOPTER)
    client.force_login(awarded.user)
    assert client.get(f"/settings/badges/{award.pk}/visibility/").status_code == 405
