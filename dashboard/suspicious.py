"""Signup patterns worth a human look, for /dashboard/<slug>/review/.

The redemption-level patterns are the risk signals stored at each
redemption (referrals.credit), grouped: one implementation of each rule,
whether it scores a signup or lists a pattern. One bounded read takes the
newest RECENT_CAP signals of the last RECENT days; inactive chains are a
pattern of the tree, looked for among the largest downlines (the (campaign,
-downline_size) index). Every rule's output is capped.

Nothing here blocks anyone: a finding is a reason to look, not a verdict
(held credit, listed above the patterns, is what the score decided).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from referrals import credit
from referrals.models import Member, RiskSignal

RECENT = timedelta(days=7)  # signals the patterns look at
RECENT_CAP = 5_000  # at most this many of them, the newest
INACTIVE_MIN_INVITEES = 3
INACTIVE_AFTER = timedelta(days=14)
INACTIVE_AMONG = 5_000  # the largest downlines searched for inactive chains
MAX_FINDINGS = 50  # per rule
MAX_MEMBERS = 25  # shown per finding


@dataclass
class Finding:
    rule: str  # a referrals.credit rule, or "inactive"
    title: str
    member_ids: list[int] = field(default_factory=list)
    total: int = 0  # members involved; member_ids holds at most MAX_MEMBERS


# What groups one rule's signals into one finding, and how the finding reads.
_GROUP_BY = {
    "inviter_network": "network",
    "network_burst": "network",
    "known_mailbox": "mailbox",
    "disposable_address": "domain",
    "own_link": "inviter_id",
}


def _title(rule: str, key, n: int) -> str:
    signups = f"{n} signup{'s' if n != 1 else ''}"
    if rule == "inviter_network":
        return f"{signups} from {key}, a network their inviter uses"
    if rule == "network_burst":
        return f"{signups} from {key} with one inviter's codes within an hour"
    if rule == "known_mailbox":
        return f"{n} addresses that all reach {key}"
    if rule == "disposable_address":
        return f"{signups} with @{key} addresses"
    return f"{signups} on a browser where their inviter opened the link logged in"


def signal_patterns(campaign, *, now: datetime, cap: int = RECENT_CAP) -> dict[str, list[Finding]]:
    """The campaign's recent risk signals grouped per rule and evidence, largest group first."""
    rows = (
        RiskSignal.objects.filter(
            redemption__member__campaign=campaign, redemption__redeemed_at__gte=now - RECENT
        )
        .order_by("-redemption_id")
        .values_list("rule", "evidence", "redemption__member_id")[:cap]
    )
    groups: dict[tuple[str, object], set[int]] = defaultdict(set)
    for rule, evidence, member_id in rows:
        evidence = evidence or {}
        if rule in _GROUP_BY:
            group = groups[(rule, evidence.get(_GROUP_BY[rule], ""))]
            group.add(member_id)
            if rule == "known_mailbox" and isinstance(evidence.get("member_id"), int):
                group.add(evidence["member_id"])  # the earlier member it matched
    found: dict[str, list[Finding]] = {rule: [] for rule in credit.RULES}
    for (rule, key), members in groups.items():
        found[rule].append(
            Finding(
                rule=rule,
                title=_title(rule, key, len(members)),
                member_ids=sorted(members)[:MAX_MEMBERS],
                total=len(members),
            )
        )
    for rule in found:
        found[rule].sort(key=lambda f: (-f.total, f.title))
        found[rule] = found[rule][:MAX_FINDINGS]
    return found


def inactive_chains(
    campaign, *, now: datetime, minimum: int = INACTIVE_MIN_INVITEES, among: int = INACTIVE_AMONG
) -> list[Finding]:
    """Members with `minimum`+ invitees, none of them activated, who joined long enough ago."""
    largest = (
        Member.objects.filter(campaign=campaign, downline_size__gte=minimum)
        .order_by("-downline_size")
        .values("id")[:among]
    )
    rows = (
        Member.objects.filter(
            pk__in=largest,
            invitee_count__gte=minimum,
            activated_invitee_count=0,
            joined_at__lt=now - INACTIVE_AFTER,
        )
        .order_by("-downline_size", "id")
        .values_list("id", "invitee_count", "downline_size")[:MAX_FINDINGS]
    )
    return [
        Finding(
            rule="inactive",
            title=f"{invitees} invitees, none active ({downline} in the downline)",
            member_ids=[pk],
            total=1,
        )
        for pk, invitees, downline in rows
    ]


def review(campaign, *, now: datetime) -> dict[str, list[Finding]]:
    """Every rule's findings for `campaign`: two bounded queries in all."""
    return {**signal_patterns(campaign, now=now), "inactive": inactive_chains(campaign, now=now)}
