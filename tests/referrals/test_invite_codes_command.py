"""manage.py invite_codes: seed codes, one per line."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from referrals import codes
from referrals.models import Campaign, Invite


def run(*args) -> list[str]:
    out = StringIO()
    call_command("invite_codes", *args, stdout=out)
    return out.getvalue().split()


def test_it_prints_one_new_seed_code_per_line_for_the_default_campaign(campaign):
    printed = run("--count", "3")
    assert len(printed) == 3
    invites = [Invite.objects.get(code=codes.normalize(line)) for line in printed]
    assert all(i.campaign == campaign and i.owner is None and i.max_uses == 1 for i in invites)
    assert all(i.expires_at is None for i in invites)


def test_it_takes_uses_expiry_and_a_campaign(campaign):
    other = Campaign.objects.create(slug="spring", name="Spring beta")
    [line] = run("--campaign", "spring", "--count", "1", "--uses", "5", "--expires", "7")
    invite = Invite.objects.get(code=codes.normalize(line))
    assert invite.campaign == other
    assert invite.max_uses == 5
    assert abs(invite.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_it_refuses_an_unknown_campaign_and_silly_numbers(campaign):
    with pytest.raises(CommandError, match="no campaign"):
        run("--campaign", "nope", "--count", "1")
    with pytest.raises(CommandError, match="positive"):
        run("--count", "0")
    assert not Invite.objects.exists()


def test_it_refuses_numbers_too_big_instead_of_a_traceback(campaign):
    # 999,999,999 days overflows a datetime; a billion codes would exhaust memory.
    with pytest.raises(CommandError, match="--expires at most 36,500 days"):
        run("--count", "1", "--expires", "999999999")
    with pytest.raises(CommandError, match="--count is at most 100,000"):
        run("--count", "1000000000")
    assert not Invite.objects.exists()
