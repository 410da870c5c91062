"""Dashboard personas: mia is a marketer who runs the default campaign."""

import pytest

from tests.helpers import make_marketer


@pytest.fixture
def mia(campaign):
    """A marketer who runs the default campaign."""
    return make_marketer("mia", campaign)


@pytest.fixture
def as_mia(client, mia):
    client.force_login(mia)
    return client
