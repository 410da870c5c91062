"""Swagger UI at /api/docs/ really renders in Chromium under the site's CSP."""

import pytest

from .conftest import ARTIFACTS, DESKTOP


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_api_docs_render_in_a_browser_without_csp_violations(browser, live_server, campaign):
    page = browser.new_page(viewport=DESKTOP)
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=15000)
    assert page.locator(".opblock").count() >= 10
    assert "Passalong API" in page.locator(".info .title").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "api-docs-desktop.png")
    page.close()
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert problems == []
