"""The referrals app's models, one module per part of the product.

tree: campaigns and members; invites: invites, their events, redemptions and
rewards; outbox: e-mail; dashboard: the marketers' figures, imports and grants.
"""

from .dashboard import BranchFigures, CampaignStats, DailyStat, ImportJob, InviteGrant
from .invites import Invite, InviteEvent, InviteQuerySet, Redemption, Reward, invite_status
from .moderation import ModerationAction
from .outbox import DoNotInvite, OutboundEmail
from .risk import CreditDecision, RiskSignal, SeenNetwork
from .tree import Campaign, Member, MemberQuerySet

__all__ = [
    "BranchFigures",
    "Campaign",
    "CampaignStats",
    "CreditDecision",
    "DailyStat",
    "DoNotInvite",
    "ImportJob",
    "Invite",
    "InviteEvent",
    "InviteGrant",
    "InviteQuerySet",
    "Member",
    "MemberQuerySet",
    "ModerationAction",
    "OutboundEmail",
    "Redemption",
    "Reward",
    "RiskSignal",
    "SeenNetwork",
    "invite_status",
]
