"""Which badges a member has earned and what each one says: pure rules, no database."""

from pathlib import Path

import pytest

from badges import rules
from badges.render import COLORS
from badges.rules import (
    CONNECTOR,
    DEFAULTS,
    EARLY_ADOPTER,
    FOUNDING,
    ORDER,
    SUMMARY,
    TREE_BUILDER,
    Facts,
    earned_tier,
    face,
)


def facts(join_number=1, *, is_seed=False, activated_invitees=0, downline=0) -> Facts:
    return Facts(
        join_number=join_number,
        is_seed=is_seed,
        activated_invitees=activated_invitees,
        downline=downline,
    )


def tier(slug, the_facts, thresholds=None):
    return earned_tier(
        slug, the_facts, DEFAULTS[slug].thresholds if thresholds is None else thresholds
    )


def test_every_badge_in_the_order_has_a_definition_with_a_palette_colour():
    assert set(ORDER) == set(DEFAULTS)
    for slug in ORDER:
        assert DEFAULTS[slug].slug == slug
        assert DEFAULTS[slug].color in COLORS


def test_the_default_thresholds_are_the_documented_ones():
    assert DEFAULTS[EARLY_ADOPTER].thresholds == (100, 1000)
    assert DEFAULTS[CONNECTOR].thresholds == (1, 5, 25)
    assert DEFAULTS[TREE_BUILDER].thresholds == (100,)


@pytest.mark.parametrize("slug", ORDER)
def test_a_member_the_tree_has_not_counted_yet_earns_nothing(slug):
    uncounted = facts(None, is_seed=True, activated_invitees=100, downline=10_000)
    assert tier(slug, uncounted) is None


def test_every_counted_member_earns_the_summary_badge_untiered():
    assert tier(SUMMARY, facts(1)) == 0
    assert tier(SUMMARY, facts(987_654)) == 0


def test_only_seed_members_earn_the_founding_badge():
    assert tier(FOUNDING, facts(7, is_seed=True)) == 0
    assert tier(FOUNDING, facts(2, is_seed=False)) is None


@pytest.mark.parametrize(
    ("join_number", "expected"),
    [(1, 100), (99, 100), (100, 100), (101, 1000), (1000, 1000), (1001, None), (50_000, None)],
)
def test_early_adopter_is_the_smallest_first_n_the_join_number_fits_in(join_number, expected):
    assert tier(EARLY_ADOPTER, facts(join_number)) == expected


def test_early_adopter_thresholds_may_come_in_any_order():
    assert tier(EARLY_ADOPTER, facts(100), (1000, 100)) == 100
    assert tier(EARLY_ADOPTER, facts(101), (1000, 100)) == 1000


@pytest.mark.parametrize(
    ("activated", "expected"),
    [(0, None), (1, 1), (4, 1), (5, 5), (24, 5), (25, 25), (10_000, 25)],
)
def test_connector_is_the_highest_tier_reached_by_activated_invitees(activated, expected):
    assert tier(CONNECTOR, facts(3, activated_invitees=activated)) == expected


def test_connector_ignores_signups_that_never_became_active():
    # A thousand people below but none active: volume is not quality.
    assert tier(CONNECTOR, facts(3, activated_invitees=0, downline=1000)) is None


@pytest.mark.parametrize(("downline", "expected"), [(0, None), (99, None), (100, 100), (5000, 100)])
def test_tree_builder_needs_a_downline_of_a_hundred(downline, expected):
    assert tier(TREE_BUILDER, facts(3, downline=downline)) == expected


def test_tree_builder_counts_the_downline_not_activations():
    assert tier(TREE_BUILDER, facts(3, activated_invitees=500, downline=10)) is None


def test_a_tiered_badge_without_thresholds_is_never_earned():
    assert tier(CONNECTOR, facts(3, activated_invitees=50), ()) is None
    assert tier(EARLY_ADOPTER, facts(1), ()) is None


def test_an_unknown_badge_is_an_error_not_a_silent_miss():
    with pytest.raises(ValueError, match="unknown badge"):
        earned_tier("astronaut", facts(1), ())
    with pytest.raises(ValueError, match="unknown badge"):
        face("astronaut", facts(1), 0, "Passalong beta", "Astronaut")


def test_the_summary_face_shows_the_join_number_and_active_invitees():
    assert face(SUMMARY, facts(42, activated_invitees=12), 0, "Passalong beta", "Passalong") == (
        "Passalong beta",
        "#42 · brought in 12",
    )


def test_faces_group_thousands():
    big = facts(1234, activated_invitees=1000, downline=25_000)
    assert face(SUMMARY, big, 0, "Beta", "Passalong")[1] == "#1,234 · brought in 1,000"
    assert face(CONNECTOR, big, 25, "Beta", "Connector")[1] == "1,000 active invitees"
    assert face(TREE_BUILDER, big, 100, "Beta", "Tree builder")[1] == "25,000 in tree"


def test_the_early_adopter_face_names_the_tier():
    assert face(EARLY_ADOPTER, facts(42), 100, "Beta", "Early adopter") == (
        "Early adopter",
        "#42 · first 100",
    )
    assert face(EARLY_ADOPTER, facts(101), 1000, "Beta", "Early adopter")[1] == (
        "#101 · first 1,000"
    )


def test_the_founding_face_carries_the_campaign_name():
    assert face(FOUNDING, facts(1, is_seed=True), 0, "Passalong beta", "Founding member") == (
        "Passalong beta",
        "founding member",
    )


def test_the_connector_face_says_invitee_in_the_singular_for_one():
    assert face(CONNECTOR, facts(3, activated_invitees=1), 1, "Beta", "Connector") == (
        "Connector",
        "1 active invitee",
    )
    assert face(CONNECTOR, facts(3, activated_invitees=12), 5, "Beta", "Connector")[1] == (
        "12 active invitees"
    )


def test_a_campaigns_own_badge_name_is_the_label():
    assert face(TREE_BUILDER, facts(3, downline=100), 100, "Beta", "Gardener") == (
        "Gardener",
        "100 in tree",
    )


def test_a_face_without_a_join_number_yet_shows_a_placeholder():
    assert face(SUMMARY, facts(None), 0, "Beta", "Passalong")[1] == "#… · brought in 0"


def test_faces_show_live_numbers_not_the_tier_reached():
    # Tier 5 was reached once; the face tells today's count.
    assert face(CONNECTOR, facts(3, activated_invitees=7), 5, "Beta", "Connector")[1] == (
        "7 active invitees"
    )


def test_the_rules_module_is_plain_python_without_django():
    source = Path(rules.__file__).read_text()
    assert "import django" not in source
    assert "from django" not in source
