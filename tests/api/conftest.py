"""API personas: mara runs the default campaign, olga another; alice and bob are members."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from referrals import services, tree
from referrals.models import Campaign
from tests.conftest import make_user, marketer_of


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def other_campaign(db):
    return Campaign.objects.create(slug="other", name="Other launch")


@pytest.fixture
def olga(other_campaign):
    return marketer_of(other_campaign, "olga")


@pytest.fixture
def mara_api(mara):
    return token_client(mara)


@pytest.fixture
def tree_of_three(bob):
    """alice -> bob -> carol, folded so counters and join numbers are set."""
    invite = services.create_invite(member=bob)
    carol = services.redeem_invite(code=invite.code, user=make_user("carol"))
    tree.fold_all()
    return bob.inviter, bob, carol
