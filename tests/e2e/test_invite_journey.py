"""The whole pass-along, in a real browser: an inviter e-mails an invite, the
invitee opens the e-mailed link in a private window, joins, and both sides
update."""

import re

import pytest
from django.core import mail

from referrals import tree
from tests.helpers import deliver_outbox

from .conftest import DESKTOP

PASSWORD = "correct horse battery staple"


def last_mail_to(address):
    return [m for m in mail.outbox if address in m.to][-1]


def link_in(message, pattern):
    return re.search(pattern, message.body).group(0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_invite_travels_by_email_and_both_sides_see_the_join(
    live_server, browser, shoot, settings, alice, mailoutbox
):
    settings.SITE_URL = live_server.url

    # The inviter logs in and sees the invites they can pass along.
    inviter = browser.new_context(viewport=DESKTOP).new_page()
    inviter.goto(f"{live_server.url}/accounts/login/")
    inviter.fill("input[name=login]", "alice")
    inviter.fill("input[name=password]", PASSWORD)
    inviter.click("button[type=submit]")
    inviter.wait_for_url(f"{live_server.url}/invites/")
    assert inviter.inner_text("[data-testid=invites-left]") == "3"
    shoot(inviter, "invites")

    # ...and sends one, personally, by e-mail.
    inviter.fill("input[name=email]", "zed@example.com")
    inviter.fill("textarea[name=note]", "Zed, this is the one I told you about.")
    inviter.click("text=Send invite")
    assert "Invite on its way to zed@example.com" in inviter.inner_text(".messages")
    assert inviter.inner_text("[data-testid=invites-left]") == "2"
    shoot(inviter, "invites-sent")

    deliver_outbox()
    invite_mail = last_mail_to("zed@example.com")
    assert "Zed, this is the one I told you about." in invite_mail.body
    invite_link = link_in(invite_mail, rf"{re.escape(live_server.url)}/i/[0-9A-Z]+/")

    # The invitee opens the e-mailed link in a private window and joins.
    invitee = browser.new_context(viewport=DESKTOP).new_page()
    invitee.goto(invite_link)
    assert "Alice invited you" in invitee.inner_text("h1")
    shoot(invitee, "landing")
    invitee.click("text=Accept invite")
    shoot(invitee, "signup")
    invitee.fill("input[name=email]", "zed@example.com")
    invitee.fill("input[name=username]", "zed")
    invitee.fill("input[name=password1]", "zed's own passphrase 2026")
    invitee.fill("input[name=password2]", "zed's own passphrase 2026")
    invitee.click("button[type=submit]")
    invitee.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))
    shoot(invitee, "verify-email")

    confirm_link = link_in(
        last_mail_to("zed@example.com"), rf"{re.escape(live_server.url)}/accounts/confirm-email/\S+"
    )
    invitee.goto(confirm_link)
    invitee.click("button[type=submit]")
    invitee.wait_for_url(f"{live_server.url}/invites/")
    assert invitee.inner_text("[data-testid=invites-left]") == "3"
    assert "Invited by Alice" in invitee.inner_text("main")
    shoot(invitee, "invitee-invites")

    # Both sides update: the inviter sees the join on /invites/ and /network/.
    tree.fold_all()  # what the on-commit task or the periodic fold does
    deliver_outbox()
    assert "zed joined" in last_mail_to("alice@example.com").subject
    inviter.goto(f"{live_server.url}/invites/")
    assert "joined" in inviter.inner_text("li.invite .status")
    assert "zed joined" in inviter.inner_text("li.invite .timeline")
    inviter.goto(f"{live_server.url}/network/")
    assert inviter.inner_text("[data-testid=brought-in]") == "1"
    assert "zed" in inviter.inner_text(".people")
    shoot(inviter, "network")
