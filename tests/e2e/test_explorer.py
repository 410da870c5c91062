"""The tree explorer in a real browser: a marketer opens the seed members,
expands nodes (by mouse and by keyboard), loads more, and follows a search
result to the path from its root."""

import pytest
from playwright.sync_api import expect

from referrals import services, tree
from referrals.models import Member
from tests.helpers import join, make_marketer

from .conftest import DESKTOP

PASSWORD = "correct horse battery staple"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_marketer_explores_the_tree(live_server, browser, shoot, campaign, alice, bob):
    join(bob, "carol")
    services.activate_member(member=join(alice, "dave"))
    Member.objects.filter(pk=bob.pk).update(invites_left=60)
    bob.refresh_from_db()
    for i in range(52):  # more than one page of bob's invitees
        join(bob, f"fan{i:02d}")
    tree.fold_all()
    make_marketer("mia", campaign)

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = []
    # Failed loads are caught by status below (the browser's own /favicon.ico aside).
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/{campaign.slug}/tree/")
    page.fill("input[name=login]", "mia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/{campaign.slug}/tree/")

    alice_toggle = page.locator(f'.node[data-id="{alice.pk}"] > .node-row > button.toggle')
    assert alice_toggle.get_attribute("aria-expanded") == "false"
    alice_toggle.click()
    kids = page.locator(f"#kids-{alice.pk} > li.node .node-name")
    kids.first.wait_for()
    assert kids.all_inner_texts() == ["Bob", "Dave"]
    assert alice_toggle.get_attribute("aria-expanded") == "true"

    # The keyboard opens Bob: Tab to his button, Enter.
    bob_toggle = page.locator(f'.node[data-id="{bob.pk}"] > .node-row > button.toggle')
    bob_toggle.focus()
    page.keyboard.press("Enter")
    page.locator(f"#kids-{bob.pk} > li.node").first.wait_for()
    assert page.locator(f"#kids-{bob.pk} > li.node").count() == 50
    more = page.locator(f"#kids-{bob.pk} > li.more button")
    assert "50 of 53" in more.inner_text()
    shoot(page, "explorer-expanded")

    more.click()
    expect(page.locator(f"#kids-{bob.pk} > li.node")).to_have_count(53)
    assert page.locator(f"#kids-{bob.pk} > li.more").count() == 0

    # Collapse hides, and keeps what was loaded.
    alice_toggle.click()
    assert page.locator(f"#kids-{alice.pk}").is_hidden()
    assert alice_toggle.get_attribute("aria-expanded") == "false"

    # Search by join number, then open the result: the path from its root.
    page.fill("input[name=q]", "#3")
    page.click("form[role=search] button[type=submit]")
    page.click("[data-testid=results] .node-name")
    crumbs = page.locator("[data-testid=path]")
    crumbs.wait_for()
    assert crumbs.inner_text().split(" \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} ") == [
        "Alice",
        "Bob",
        "Carol",
    ]
    shoot(page, "explorer-path")

    # A moderator moves Carol under Dave: the panel, a join number, a reason.
    dave = Member.objects.get(user__username="dave")
    page.click("[data-testid=moderate] summary")
    page.check("input[name=action][value=reparent]")
    page.fill("input[name=new_inviter]", f"#{dave.join_number}")
    page.fill("textarea[name=reason]", "She says Dave invited her")
    shoot(page, "explorer-moderate")
    page.click("[data-testid=moderate] button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("now hang under Dave")
    assert page.locator("[data-testid=path]").inner_text().split(
        " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
    ) == ["Alice", "Dave", "Carol"]
    shoot(page, "explorer-moved")

    assert problems == []
    context.close()
