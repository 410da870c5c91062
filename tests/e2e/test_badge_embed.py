"""A badge hot-linked from someone's blog, in a real browser: the blog is another
origin, the images load across it, and clicking the badge lands on its proof."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from badges.tasks import award_new_members
from referrals import tree

from .conftest import DESKTOP

PASSWORD = "correct horse battery staple"


@contextmanager
def blog_serving(page: str):
    """A plain web server on another port (another origin) that serves one page."""
    body = page.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_badge_embedded_on_another_site_loads_and_links_to_its_proof(
    live_server, browser, shoot, settings, campaign, alice, bob
):
    settings.SITE_URL = live_server.url
    tree.fold_all()
    award_new_members()
    proof = f"{live_server.url}/badges/alice/early-adopter/"
    image = f"{live_server.url}/badges/alice/early-adopter.svg"
    query = urlencode({"url": f"{live_server.url}/badges/alice/passalong/", "format": "json"})
    with urlopen(f"{live_server.url}/oembed/?{query}", timeout=5) as response:
        embed = json.load(response)["html"]

    post = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Alice's blog</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>Alice's blog</h1>
<p>I got in early. <a id="markdown-badge" href="{proof}"><img src="{image}"
  alt="Early adopter: #1 · first 100"></a></p>
<p>And the live one from oEmbed: {embed}</p>
</body></html>"""

    with blog_serving(post) as blog:
        assert not blog.startswith(live_server.url)
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(blog, wait_until="load")
        widths = page.evaluate(
            "() => [...document.images].map(i => [i.src, i.complete, i.naturalWidth])"
        )
        assert [src for src, _, _ in widths] == [
            image,
            f"{live_server.url}/badges/alice/passalong.svg",
        ]
        assert all(complete and width > 0 for _, complete, width in widths), widths
        shoot(page, "badge-embed")

        page.click("#markdown-badge")
        page.wait_for_url(proof)
        assert page.inner_text("h1") == "Alice is verified: Early adopter"
        assert page.locator(".badge-preview img").evaluate("i => i.naturalWidth") > 0
        shoot(page, "badge-proof")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_member_sees_their_badges_and_snippets(
    live_server, browser, shoot, settings, campaign, alice, bob
):
    settings.SITE_URL = live_server.url
    tree.fold_all()
    award_new_members()
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/badges/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/badges/")
    assert page.locator(".badge-card").count() == 3
    # One badge's snippet at a time, with a format picker (not 18 boxes).
    assert page.locator(".snippet").count() == 1
    page.click(".format-picker >> text=Markdown")
    expect(page.locator("[data-testid=embed] .snippet-head span")).to_have_text("Markdown")
    assert page.locator("[data-testid=embed] pre").inner_text().startswith("[![")
    page.locator("[data-testid=embed-link]").first.click()
    expect(page.locator("[data-testid=embed] h2")).not_to_have_text("Embed Early adopter")
    assert all(
        width > 0
        for width in page.eval_on_selector_all(
            ".badge-head img", "imgs => imgs.map(i => i.naturalWidth)"
        )
    )
    shoot(page, "my-badges")
