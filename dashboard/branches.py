"""Tree-native figures: each generation's conversion, and each big branch's own funnel.

Both are kept by the figures fold (referrals.figures): per generation in
the CampaignStats row, per branch in BranchFigures rows (one per member),
so the page and the API read them with a few index lookups whatever the
campaign's size. The functions named `*_from_tables` compute the same
figures afresh with scans: the check of the kept ones.

Definitions (the campaign's own, applied to a part of the tree):

- a generation: the members at one depth (0: seed members); its invites are
  the member invites its members created.
- a branch: a member and everyone below them. Listed: the seed members with
  the biggest downlines, and the top connectors (most activated invitees).
- invites sent, redeemed, redemption rate, activated and K: as for the
  campaign (`dashboard.stats`), over that generation's or branch's members
  and the invites they created. K = redeemed invites per member.
- a branch's cycle time: the average, over the members below its root, from
  the creation of the invite each joined with to its redemption.
"""

from __future__ import annotations

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
)

from referrals.models import BranchFigures, Campaign, Invite, Member, Redemption

BRANCHES_LISTED = 10
_SENT = ~Q(revoked_at__isnull=False, uses=0)
_UNCREDITED = [Redemption.Credit.HELD, Redemption.Credit.REJECTED]


def generation_figures_from_tables(campaign: Campaign) -> dict[str, dict[str, int]]:
    """{"<depth>": {members, activated, invites_sent, invites_redeemed}}: two scans."""
    rows: dict[str, dict[str, int]] = {}
    members = (
        Member.objects.filter(campaign=campaign)
        .order_by()
        .values("depth")
        .annotate(members=Count("id"), activated=Count("id", filter=Q(activated_at__isnull=False)))
    )
    for row in members:
        rows[str(row["depth"])] = {
            "members": row["members"],
            "activated": row["activated"],
            "invites_sent": 0,
            "invites_redeemed": 0,
        }
    # Held or rejected credit is not "activated" (as for the campaign): few rows.
    uncredited = (
        Redemption.objects.filter(
            member__campaign=campaign, member__activated_at__isnull=False, credit__in=_UNCREDITED
        )
        .order_by()
        .values("member__depth")
        .annotate(n=Count("id"))
    )
    for row in uncredited:
        rows[str(row["member__depth"])]["activated"] -= row["n"]
    invites = (
        Invite.objects.filter(campaign=campaign, owner__isnull=False)
        .order_by()
        .values("owner__depth")
        .annotate(sent=Count("id", filter=_SENT), redeemed=Count("id", filter=Q(uses__gt=0)))
    )
    for row in invites:
        figures = rows.setdefault(
            str(row["owner__depth"]),
            {"members": 0, "activated": 0, "invites_sent": 0, "invites_redeemed": 0},
        )
        figures["invites_sent"] = row["sent"]
        figures["invites_redeemed"] = row["redeemed"]
    return rows


def listed_roots(campaign: Campaign, connectors=None) -> list[tuple[str, Member]]:
    """The branches the dashboard follows: big seed branches, then top connectors
    (`connectors`: the top connectors in order, if the caller has read them already)."""
    seeds = list(
        Member.objects.filter(campaign=campaign, inviter__isnull=True)
        .select_related("user")
        .order_by("-downline_size", "id")[:BRANCHES_LISTED]
    )
    if connectors is None:
        connectors = (
            Member.objects.filter(campaign=campaign)
            .select_related("user")
            .order_by("-activated_invitee_count", "id")[:BRANCHES_LISTED]
        )
    connectors = [m for m in connectors if m.activated_invitee_count][:BRANCHES_LISTED]
    return [("seed", m) for m in seeds] + [("connector", m) for m in connectors]


def branch_figures_from_tables(root: Member) -> dict:
    """One branch's funnel: a few index range scans on the ancestry prefix."""
    below = Member.objects.filter(
        campaign_id=root.campaign_id, ancestry__startswith=root.subtree_prefix
    )
    activated = below.filter(activated_at__isnull=False).count() + (1 if root.activated_at else 0)
    activated -= Redemption.objects.filter(
        Q(member=root) | Q(member__in=below.values("pk")),
        member__activated_at__isnull=False,
        credit__in=_UNCREDITED,
    ).count()
    invites = Invite.objects.filter(
        Q(owner=root) | Q(owner__in=below.values("pk")), campaign_id=root.campaign_id
    ).aggregate(sent=Count("id", filter=_SENT), redeemed=Count("id", filter=Q(uses__gt=0)))
    cycle = Redemption.objects.filter(
        member__in=below.values("pk"), invite__owner__isnull=False
    ).aggregate(
        cycle=Avg(
            ExpressionWrapper(
                F("redeemed_at") - F("invite__created_at"), output_field=DurationField()
            )
        )
    )["cycle"]
    return {
        "member_id": root.pk,
        "members": root.downline_size + 1,
        "activated": activated,
        "invites_sent": invites["sent"],
        "invites_redeemed": invites["redeemed"],
        "avg_cycle_seconds": cycle.total_seconds() if cycle is not None else None,
    }


# --- Reading the stored figures -------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    """part / whole; None (shown "-") when there is nothing to divide by."""
    return part / whole if whole else None


def generation_rows(stored: dict) -> list[dict]:
    """The stored per-generation figures with their rates, shallowest first."""
    rows = []
    for depth, f in sorted(stored.items(), key=lambda item: int(item[0])):
        rows.append(
            {
                "generation": int(depth),
                **f,
                "redemption_rate": rate(f["invites_redeemed"], f["invites_sent"]),
                "activation_rate": rate(f["activated"], f["members"]),
            }
        )
    return rows


def listed_branches(campaign: Campaign, connectors=None) -> list[dict]:
    """The listed branches' kept figures, with their rates and K: three indexed queries
    (two with `connectors`, see listed_roots)."""
    roots = listed_roots(campaign, connectors)
    kept = BranchFigures.objects.in_bulk([root.pk for _, root in roots])
    return [
        {"kind": kind, "member_id": root.pk, "member": root, **_figures(root, kept.get(root.pk))}
        for kind, root in roots
    ]


def branch_of(member: Member) -> dict:
    """One member's branch figures, from its kept row (select_related("branch_figures"))."""
    try:
        kept = member.branch_figures
    except BranchFigures.DoesNotExist:
        kept = None
    return _figures(member, kept)


def _figures(root: Member, kept: BranchFigures | None) -> dict:
    branch = kept or BranchFigures(member=root)
    members = root.downline_size + 1
    cycle = branch.cycle_total_ms / branch.cycle_count / 1e3 if branch.cycle_count else None
    return {
        "members": members,
        "invites_sent": branch.invites_sent,
        "invites_redeemed": branch.invites_redeemed,
        "activated": branch.activated,
        "avg_cycle_seconds": cycle,
        "redemption_rate": rate(branch.invites_redeemed, branch.invites_sent),
        "activation_rate": rate(branch.activated, members),
        "k_factor": rate(branch.invites_redeemed, members),
    }
