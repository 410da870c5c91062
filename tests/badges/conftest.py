"""Badge personas: alice and bob, counted by the tree and awarded their badges."""

import pytest

from badges.tasks import award_new_members
from referrals import tree


@pytest.fixture
def awarded(alice, bob):
    """alice (#1, seed) and bob (#2, her invitee), counted and awarded."""
    tree.fold_all()
    award_new_members()
    return alice
