"""API personas: mara runs the default campaign, olga another; alice and bob are members."""

import pytest

from referrals import services, tree
from referrals.models import Campaign
from tests.helpers import make_user, marketer_of


@pytest.fixture
def other_campaign(db):
    return Campaign.objects.create(slug="other", name="Other launch")


@pytest.fixture
def olga(other_campaign):
    return marketer_of(other_campaign, "olga")


@pytest.fixture
def tree_of_three(bob):
    """alice -> bob -> carol, folded so counters and join numbers are set."""
    invite = services.create_invite(member=bob)
    carol = services.redeem_invite(code=invite.code, user=make_user("carol"))
    tree.fold_all()
    return bob.inviter, bob, carol
