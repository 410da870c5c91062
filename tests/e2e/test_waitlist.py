"""The door without an invite, in a real browser, end to end: a visitor asks on the home
page, confirms from the e-mail, refers two friends and moves up; a member gives an unused
invite to the pool; the marketer, watching the dashboard move, releases a pool wave; the
visitor signs up with the e-mailed code and appears in the tree under the donor, on the
marketer's open explorer, without a reload."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from referrals import tree
from referrals.models import Member
from tests.helpers import deliver_outbox, make_marketer
from waitlist import services
from waitlist.models import Entry

from .conftest import DESKTOP

PASSWORD = "correct horse battery staple"


def link_to(address, pattern=r"https?://\S+"):
    deliver_outbox()
    [message] = [m for m in mail.outbox if address in m.to][-1:]
    return re.search(pattern, message.body).group(0)


def ask_and_confirm(page, url, address):
    page.goto(url)
    form = page.locator("[data-testid=waitlist-form]")
    form.locator("input[name=email]").fill(address)
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=check-inbox]")).to_be_visible()
    page.goto(link_to(address))
    page.click("button[type=submit]")
    page.locator("[data-testid=waitlist-page]").wait_for()


def log_in(browser, live_server, username, then):
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/?next={then}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{then}")
    return page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_visitor_waits_moves_up_is_let_in_by_a_donation_and_joins_under_the_donor(
    live_server, browser, shoot, settings, campaign, alice, bob, mailoutbox, tasks_in_process
):
    settings.SITE_URL = live_server.url
    tree.fold_all()  # Bob, counted under Alice (the fixtures ran before tasks ran in-process)
    for i in range(12):  # twelve people already wait
        entry = services.request_invite(campaign=campaign, email=f"early{i}@example.com").entry
        services.confirm(entry=entry)
    make_marketer("mia", campaign)

    # The marketer watches the campaign's figures; the tree explorer is open on Alice
    # (her invitee Bob shown).
    dashboard = log_in(browser, live_server, "mia", f"/dashboard/{campaign.slug}/")
    waiting = dashboard.locator('[data-kpi="waitlist"] dd')
    expect(waiting).to_have_text("12")
    explorer = log_in(
        browser, live_server, "mia", f"/dashboard/{campaign.slug}/tree/?member={alice.pk}"
    )

    # Zoe has no code: she asks on the home page and confirms.
    zoe = browser.new_context(viewport=DESKTOP).new_page()
    ask_and_confirm(zoe, live_server.url + "/", "zoe@example.com")
    expect(zoe.locator("[data-field=position]")).to_have_text("#13")
    share = zoe.locator("#share").input_value()
    shoot(zoe, "waitlist-page")
    expect(waiting).to_have_text("13", timeout=15_000)  # the dashboard moved by itself

    # Two friends join through her link; her open page catches up on its own.
    for friend in ("kim", "lou"):
        page = browser.new_context(viewport=DESKTOP).new_page()
        ask_and_confirm(page, share, f"{friend}@example.com")
    expect(zoe.locator("[data-field=referrals]")).to_have_text("2", timeout=20_000)
    expect(zoe.locator("[data-field=position]")).to_have_text("#3")
    shoot(zoe, "waitlist-moved-up")

    # Alice gives an unused invite to the pool.
    Member.objects.filter(pk=alice.pk).update(invites_left=1)
    donor = log_in(browser, live_server, "alice", "/invites/pool/")
    donor.click(f"[data-testid=donate-{campaign.slug}] button[type=submit]")
    expect(donor.locator("ul.messages")).to_contain_text("1 invite given")
    shoot(donor, "waitlist-pool")

    # The marketer releases a hand-picked wave of one from the pool: Zoe.
    dashboard.goto(f"{live_server.url}/dashboard/{campaign.slug}/waitlist/")
    dashboard.check(f'input[name=picked][value="{Entry.objects.get(email="zoe@example.com").pk}"]')
    dashboard.select_option("select[name=order]", "picked")
    dashboard.select_option("select[name=source]", "pool")
    dashboard.fill("input[name=size]", "1")
    shoot(dashboard, "waitlist-dashboard")
    dashboard.click("[data-testid=wave-form] button[type=submit]")
    expect(dashboard.locator("ul.messages")).to_contain_text("Wave of 1 released")

    # Zoe's e-mail: Alice passed her an invite. She joins with it.
    invite_link = link_to("zoe@example.com", rf"{re.escape(live_server.url)}/i/\S+/")
    assert "Alice passed you one of their invites" in mail.outbox[-1].body
    zoe.goto(invite_link)
    zoe.click("text=Accept invite")
    zoe.fill("input[name=email]", "zoe@example.com")
    zoe.fill("input[name=username]", "zoe")
    zoe.fill("input[name=password1]", "zoe's own passphrase 2026")
    zoe.fill("input[name=password2]", "zoe's own passphrase 2026")
    zoe.click("button[type=submit]")
    zoe.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))
    assert Member.objects.get(user__username="zoe").inviter_id == alice.pk

    # The marketer's open explorer shows Zoe under Alice without a reload.
    explorer.bring_to_front()  # (a page polls only while it is visible)
    expect(explorer.locator(f"#kids-{alice.pk} .node-name", has_text="zoe")).to_be_visible(
        timeout=20_000
    )
    shoot(explorer, "waitlist-explorer-live")
