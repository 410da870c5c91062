"""Which badges a member has earned, and what each one says. Pure functions.

Tiers never count raw signups: connector and the summary badge count
*activated* invitees (the quality of referrals, not their volume).
"""

from __future__ import annotations

from dataclasses import dataclass

EARLY_ADOPTER = "early-adopter"
FOUNDING = "founding-member"
CONNECTOR = "connector"
TREE_BUILDER = "tree-builder"
SUMMARY = "passalong"

ORDER = [SUMMARY, EARLY_ADOPTER, FOUNDING, CONNECTOR, TREE_BUILDER]


@dataclass(frozen=True)
class Definition:
    slug: str
    name: str
    description: str
    thresholds: tuple[int, ...]
    color: str


DEFAULTS: dict[str, Definition] = {
    d.slug: d
    for d in [
        Definition(
            SUMMARY,
            "Passalong",
            "Membership with its join number and how many active members they brought in.",
            (),
            "blue",
        ),
        Definition(
            EARLY_ADOPTER,
            "Early adopter",
            "Among the first members to join, by join number.",
            (100, 1000),
            "purple",
        ),
        Definition(
            FOUNDING,
            "Founding member",
            "Joined with one of the campaign's own seed invites: the first generation.",
            (),
            "gold",
        ),
        Definition(
            CONNECTOR,
            "Connector",
            "Invited people who became active members.",
            (1, 5, 25),
            "green",
        ),
        Definition(
            TREE_BUILDER,
            "Tree builder",
            "Their invites grew a tree of this many members below them.",
            (100,),
            "teal",
        ),
    ]
}


@dataclass(frozen=True)
class Facts:
    """What the rules look at, read from a member row."""

    join_number: int | None
    is_seed: bool
    activated_invitees: int
    downline: int


def earned_tier(slug: str, facts: Facts, thresholds: tuple[int, ...]) -> int | None:
    """The tier reached for one badge (0 for untiered badges), or None if not earned."""
    if facts.join_number is None:
        return None  # not counted into the tree yet
    if slug == SUMMARY:
        return 0
    if slug == FOUNDING:
        return 0 if facts.is_seed else None
    if slug == EARLY_ADOPTER:
        fitting = [t for t in sorted(thresholds) if facts.join_number <= t]
        return fitting[0] if fitting else None
    if slug == CONNECTOR:
        reached = [t for t in sorted(thresholds) if facts.activated_invitees >= t]
        return reached[-1] if reached else None
    if slug == TREE_BUILDER:
        reached = [t for t in sorted(thresholds) if facts.downline >= t]
        return reached[-1] if reached else None
    raise ValueError(f"unknown badge {slug!r}")


def face(slug: str, facts: Facts, tier: int, campaign_name: str, name: str) -> tuple[str, str]:
    """(label, value) shown on the badge: live numbers, so it updates as the tree grows."""
    number = f"#{facts.join_number:,}" if facts.join_number else "#…"
    if slug == SUMMARY:
        return campaign_name, f"{number} · brought in {facts.activated_invitees:,}"
    if slug == EARLY_ADOPTER:
        return name, f"{number} · first {tier:,}"
    if slug == FOUNDING:
        return campaign_name, name.lower()
    if slug == CONNECTOR:
        n = facts.activated_invitees
        return name, f"{n:,} active invitee{'s' if n != 1 else ''}"
    if slug == TREE_BUILDER:
        return name, f"{facts.downline:,} in tree"
    raise ValueError(f"unknown badge {slug!r}")
