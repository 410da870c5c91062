"""What a badge shows: one function for the image, the pages, oEmbed and Open Badges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import rules
from .services import facts_of

if TYPE_CHECKING:
    from referrals.models import Campaign, Member


@dataclass(frozen=True)
class Face:
    label: str
    value: str
    title: str  # the SVG <title>: who holds it, then what it says

    @property
    def alt(self) -> str:
        return f"{self.label}: {self.value}"


def face(
    *, award_slug: str, tier: int, member: Member, campaign: Campaign, badge: rules.Definition
) -> Face:
    """The face of one award from the member's standing (saved, or built from a raw row)."""
    label, value = rules.face(award_slug, facts_of(member), tier, campaign.name, badge.name)
    return Face(label=label, value=value, title=f"{member.name}: {label} · {value}")
