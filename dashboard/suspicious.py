"""Signup patterns worth a human look, for /dashboard/<slug>/review/.

The rules are pure functions over plain rows. The two reads at the bottom
keep them cheap on a million-member campaign: recent signups come from the
last RECENT_CAP join numbers (the (campaign, join_number) unique index) plus
the not-yet-folded members (a partial index), never from a scan; inactive
chains are looked for among the largest downlines (the (campaign,
-downline_size) index). Every rule's output is capped.

Nothing here blocks anyone: a finding is a reason to look, not a verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from referrals import addresses
from referrals.models import Member
from referrals.networks import network_of

RECENT = timedelta(days=7)  # signups the network and e-mail rules look at
RECENT_CAP = 5_000  # at most this many of them, the newest (keeps the joins index lookups)
BURST_WINDOW = timedelta(hours=1)
BURST_MIN = 5  # signups from one network within BURST_WINDOW
INACTIVE_MIN_INVITEES = 3
INACTIVE_AFTER = timedelta(days=14)
INACTIVE_AMONG = 5_000  # the largest downlines searched for inactive chains
MAX_FINDINGS = 50  # per rule
MAX_MEMBERS = 25  # shown per finding


@dataclass(frozen=True)
class Signup:
    member_id: int
    joined_at: datetime
    email: str = ""
    ip: str | None = None


@dataclass
class Finding:
    rule: str  # "network", "alias", "disposable", "inactive"
    title: str
    member_ids: list[int] = field(default_factory=list)
    total: int = 0  # members involved; member_ids holds at most MAX_MEMBERS


# --- Networks ------------------------------------------------------------------


def network_bursts(
    signups: Iterable[Signup], *, window: timedelta = BURST_WINDOW, minimum: int = BURST_MIN
) -> list[Finding]:
    """Networks with at least `minimum` signups inside one `window`, busiest first."""
    by_network: dict[str, list[Signup]] = defaultdict(list)
    for signup in signups:
        if signup.ip and (network := network_of(signup.ip)):
            by_network[network].append(signup)
    findings = []
    for network, group in by_network.items():
        if len(group) < minimum:
            continue
        group.sort(key=lambda s: s.joined_at)
        best_start, best_end, start = 0, 0, 0
        for end in range(len(group)):  # the busiest window, two pointers
            while group[end].joined_at - group[start].joined_at > window:
                start += 1
            if end + 1 - start > best_end - best_start:
                best_start, best_end = start, end + 1
        burst = group[best_start:best_end]
        if len(burst) >= minimum:
            minutes = max(1, round((burst[-1].joined_at - burst[0].joined_at).total_seconds() / 60))
            findings.append(
                Finding(
                    rule="network",
                    title=f"{len(burst)} signups from {network} within {minutes} min",
                    member_ids=[s.member_id for s in burst[:MAX_MEMBERS]],
                    total=len(burst),
                )
            )
    findings.sort(key=lambda f: -f.total)
    return findings[:MAX_FINDINGS]


# --- E-mail addresses ----------------------------------------------------------


def email_aliases(signups: Iterable[Signup]) -> list[Finding]:
    """Groups of different addresses that normalize to one mailbox, largest first."""
    groups: dict[str, list[Signup]] = defaultdict(list)
    for signup in signups:
        if signup.email:
            groups[addresses.mailbox_of(signup.email)].append(signup)
    findings = []
    for mailbox, group in groups.items():
        if len({s.email.lower() for s in group}) < 2:
            continue
        group.sort(key=lambda s: s.member_id)
        findings.append(
            Finding(
                rule="alias",
                title=f"{len(group)} addresses that all reach {mailbox}",
                member_ids=[s.member_id for s in group[:MAX_MEMBERS]],
                total=len(group),
            )
        )
    findings.sort(key=lambda f: -f.total)
    return findings[:MAX_FINDINGS]


def disposable_signups(signups: Iterable[Signup]) -> list[Finding]:
    """Signups with throwaway addresses, one finding per domain, most used first."""
    domains = addresses.disposable_domains()
    by_domain: dict[str, list[Signup]] = defaultdict(list)
    for signup in signups:
        if signup.email and addresses.is_disposable(signup.email, domains):
            by_domain[addresses.domain_of(signup.email)].append(signup)
    findings = [
        Finding(
            rule="disposable",
            title=f"{len(group)} signup{'s' if len(group) > 1 else ''} with @{domain} addresses",
            member_ids=sorted(s.member_id for s in group)[:MAX_MEMBERS],
            total=len(group),
        )
        for domain, group in by_domain.items()
    ]
    findings.sort(key=lambda f: -f.total)
    return findings[:MAX_FINDINGS]


# --- Reads -----------------------------------------------------------------------


def recent_signups(campaign, *, now: datetime, cap: int = RECENT_CAP) -> list[Signup]:
    """The newest signups (at most `cap`, joined within RECENT) with address and IP."""
    newest = Q(join_number__gt=campaign.members_counted - cap) | Q(tree_counted=False)
    rows = (
        Member.objects.filter(newest, campaign=campaign, joined_at__gte=now - RECENT)
        .order_by()
        .values_list("id", "joined_at", "user__email", "redemption__signup_ip")[: cap * 2]
    )
    return [Signup(pk, joined, email or "", ip) for pk, joined, email, ip in rows]


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
    signups = recent_signups(campaign, now=now)
    return {
        "network": network_bursts(signups),
        "alias": email_aliases(signups),
        "disposable": disposable_signups(signups),
        "inactive": inactive_chains(campaign, now=now),
    }
