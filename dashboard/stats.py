"""The dashboard's figures: kept up to date by adding what changed, read as one row per view.

The figures live in CampaignStats, DailyStat and BranchFigures rows that
the figures fold (`referrals.figures`) keeps: the fold task runs after
every signup's tree fold, and Celery beat calls `refresh` every minute, so
the figures follow the tables within seconds and a refresh costs what
changed, not the campaign's size. `from_tables` computes them afresh from
the tables with aggregate scans: the repair command's check and the tests'.
Pages never aggregate over members themselves.

Definitions (shown on the dashboard, keep them in step with DEFINITIONS):

- members: every member of the campaign, seeds included.
- member invites: codes that members created to pass along; the campaign's
  own seed codes are left out of every invite figure.
- invites sent: member invites, minus those revoked before anyone used them.
  A link or QR code counts as sent when it is created: we cannot see where
  it was shared, only when someone opens or uses it.
- the funnel, each stage a subset of the one before: created (every member
  invite) → sent → opened (someone visited the invite page, or used the code)
  → redeemed (used at least once) → activated (at least one of the people
  it brought in became active).
- redemption rate: redeemed invites / invites sent.
- activation rate: activated members / members.
- K (viral coefficient): invites sent per member x redemption rate, i.e.
  redeemed member invites per member. Above 1 the campaign grows by itself.
- cycle time: from a member invite's creation to its redemption, averaged
  over redemptions.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.core.cache import cache
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from config.celery import enqueue_on_commit
from referrals import figures, tree
from referrals.models import (
    Campaign,
    CampaignStats,
    DailyStat,
    Invite,
    InviteEvent,
    Member,
    Redemption,
)

from . import branches

logger = logging.getLogger(__name__)

# A campaign this small (by join numbers handed out) is refreshed inside the
# page view the first time it is opened; a bigger one is queued.
SYNC_REFRESH_MAX_MEMBERS = 20_000
_QUEUED_KEY = "stats:queued:{}"
_RUNNING_KEY = "stats:running:{}"
MIN_INTERVAL_SECONDS = 50  # beat runs every 60 s

DEFINITIONS = [
    ("Members", "Everyone in the campaign, seed members included."),
    (
        "Invites sent",
        "Invite codes members created to pass along, minus those revoked before anyone "
        "used them. Seed codes are not counted. A link or QR code counts as sent when it "
        "is created: we cannot see where it was shared.",
    ),
    ("Redemption rate", "Invites sent that someone used to join ÷ invites sent."),
    ("Activation rate", "Activated members ÷ members."),
    (
        "Viral coefficient K",
        "Invites sent per member x redemption rate (= redeemed member invites per member). "
        "Above 1 the campaign grows by itself.",
    ),
    ("Cycle time", "From a member invite's creation to its redemption, averaged."),
    (
        "Conversion by generation",
        "Each generation's member invites (by their owner's generation): sent, redeemed and "
        "the redemption rate; and its members who became active ÷ its members.",
    ),
    (
        "Branch",
        "A member and everyone below them. Its figures are the campaign's, over the branch's "
        "members and the invites they created; its K is redeemed invites ÷ members, its cycle "
        "time averaged over the joins below the member.",
    ),
    (
        "Funnel",
        "Each stage is a subset of the one before: created → sent → opened (someone visited "
        "the invite page, or used the code) → redeemed → activated (someone it brought in "
        "became active).",
    ),
]


def refresh(*, campaign: Campaign, rebuild: bool = False) -> CampaignStats:
    """Bring a campaign's figures up to date and return them.

    The figures are kept by the figures fold (referrals.figures), which adds
    only what changed since the last fold; it runs after the tree's fold of
    new members. A campaign without kept figures (new, or from before they
    were kept), or any campaign if `rebuild`, is rebuilt from the tables.
    """
    started = time.monotonic()
    # New members into the tree (and their badges' event), then the figures.
    tree.fold_tree()
    if rebuild or not CampaignStats.objects.filter(campaign=campaign, folded=True).exists():
        figures.rebuild(campaign)
    CampaignStats.objects.filter(campaign=campaign).update(
        refresh_seconds=round(time.monotonic() - started, 3)
    )
    cache.delete(_QUEUED_KEY.format(campaign.pk))
    return CampaignStats.objects.get(campaign=campaign)


def from_tables(campaign: Campaign) -> dict:
    """Every figure computed afresh from the tables with aggregate scans: the check of the
    kept figures (`manage.py rebuild_figures --check`, the tests), never a page's source."""
    members = Member.objects.filter(campaign=campaign)
    result = members.aggregate(
        members=Count("id"),
        seed_members=Count("id", filter=Q(inviter__isnull=True)),
        activated_members=Count("id", filter=Q(activated_at__isnull=False)),
        invited_members=Count("id", filter=Q(inviter__isnull=False)),
        deepest_generation=Max("depth"),
    )
    result["deepest_generation"] = result["deepest_generation"] or 0
    # Held or rejected credit is not "activated" until a marketer approves.
    result["activated_members"] -= _uncredited_activations(campaign).count()
    result |= _funnel(campaign)
    result["avg_cycle_seconds"] = _avg_cycle_seconds(campaign)
    result["generation_figures"] = branches.generation_figures_from_tables(campaign)
    result["generations"] = {
        depth: row["members"] for depth, row in result["generation_figures"].items()
    }
    result["daily"] = {day: tuple(counts) for day, counts in _daily(campaign).items()}
    return result


def kept(campaign: Campaign) -> dict:
    """The kept figures in `from_tables`' shape, to compare the two."""
    stats = CampaignStats.objects.get(campaign=campaign)
    result = {field: getattr(stats, field) for field in _COMPARED}
    result["daily"] = {
        d.day: (d.joined, d.activated)
        for d in DailyStat.objects.filter(campaign=campaign)
        if d.joined or d.activated
    }
    return result


_COMPARED = [
    "members",
    "seed_members",
    "activated_members",
    "invited_members",
    "deepest_generation",
    "invites_created",
    "invites_sent",
    "invites_opened",
    "invites_redeemed",
    "invites_activated",
    "avg_cycle_seconds",
    "generation_figures",
    "generations",
]


def is_due(campaign: Campaign, now=None) -> bool:
    """Time for the periodic refresh? Every minute, or every 10 refresh-durations if longer.

    A 1,000,000-member campaign takes tens of seconds to refresh: refreshing
    it back to back would keep a database core busy for figures nobody reads.
    """
    current = getattr(campaign, "stats", None)
    if current is None:
        return True
    interval = max(MIN_INTERVAL_SECONDS, 10 * current.refresh_seconds)
    return ((now or timezone.now()) - current.refreshed_at).total_seconds() >= interval


def refresh_once(*, campaign: Campaign) -> bool:
    """Refresh unless another worker is refreshing this campaign right now; True if it ran."""
    key = _RUNNING_KEY.format(campaign.pk)
    if not cache.add(key, 1, timeout=900):
        return False
    try:
        refresh(campaign=campaign)
    finally:
        cache.delete(key)
    return True


def _funnel(campaign: Campaign) -> dict[str, int]:
    opened = InviteEvent.objects.filter(invite=OuterRef("pk"), kind=InviteEvent.Kind.OPENED)
    # Held or rejected credit is not "activated" until a marketer approves it.
    activated = Redemption.objects.filter(
        invite=OuterRef("pk"),
        member__activated_at__isnull=False,
        credit__in=[Redemption.Credit.COUNTED, Redemption.Credit.APPROVED],
    )
    sent = ~Q(revoked_at__isnull=False, uses=0)
    return (
        Invite.objects.filter(campaign=campaign, owner__isnull=False)
        .annotate(was_opened=Exists(opened), was_activated=Exists(activated))
        .aggregate(
            invites_created=Count("id"),
            invites_sent=Count("id", filter=sent),
            invites_opened=Count("id", filter=sent & (Q(was_opened=True) | Q(uses__gt=0))),
            invites_redeemed=Count("id", filter=Q(uses__gt=0)),
            invites_activated=Count("id", filter=Q(uses__gt=0, was_activated=True)),
        )
    )


def _avg_cycle_seconds(campaign: Campaign) -> float | None:
    average = Redemption.objects.filter(
        invite__campaign=campaign, invite__owner__isnull=False
    ).aggregate(
        cycle=Avg(
            ExpressionWrapper(
                F("redeemed_at") - F("invite__created_at"), output_field=DurationField()
            )
        )
    )["cycle"]
    return average.total_seconds() if average is not None else None


def _uncredited_activations(campaign: Campaign):
    """Redemptions whose invitee activated but whose credit is held or was rejected."""
    return Redemption.objects.filter(
        member__campaign=campaign,
        member__activated_at__isnull=False,
        credit__in=[Redemption.Credit.HELD, Redemption.Credit.REJECTED],
    ).order_by()


def _daily(campaign: Campaign) -> dict:
    members = Member.objects.filter(campaign=campaign).order_by()
    days: dict = {}
    for row in members.annotate(day=TruncDate("joined_at")).values("day").annotate(n=Count("id")):
        days[row["day"]] = [row["n"], 0]
    activations = (
        members.filter(activated_at__isnull=False)
        .annotate(day=TruncDate("activated_at"))
        .values("day")
        .annotate(n=Count("id"))
    )
    uncredited = (
        _uncredited_activations(campaign)
        .annotate(day=TruncDate("member__activated_at"))
        .values("day")
        .annotate(n=Count("id"))
    )
    held_by_day = {row["day"]: row["n"] for row in uncredited}
    for row in activations:
        row["n"] -= held_by_day.get(row["day"], 0)
        days.setdefault(row["day"], [0, 0])[1] = row["n"]
    return days


def current(campaign: Campaign) -> CampaignStats | None:
    """The stored figures; a campaign without any gets them by `refresh_now_or_queue`."""
    try:
        return CampaignStats.objects.get(campaign=campaign)
    except CampaignStats.DoesNotExist:
        return refresh_now_or_queue(campaign)


def refresh_now_or_queue(campaign: Campaign, *, rebuild: bool = False) -> CampaignStats | None:
    """The refresh rule: a small campaign is refreshed now (its figures returned; rebuilt from
    the tables if `rebuild`, as "Refresh now" does), a big one is queued for a worker (None),
    so no page view scans a big campaign's members."""
    if campaign.members_counted <= SYNC_REFRESH_MAX_MEMBERS:
        return refresh(campaign=campaign, rebuild=rebuild)
    queue_refresh(campaign)
    return None


def queue_refresh(campaign: Campaign) -> bool:
    """Ask a worker to refresh a campaign's figures, at most once until it has run."""
    if not cache.add(_QUEUED_KEY.format(campaign.pk), 1, timeout=300):
        return False
    enqueue_on_commit(refresh_campaign_stats, campaign.pk, what="refresh_campaign_stats")
    return True


def chart_data(stats: CampaignStats, daily: list[DailyStat]) -> dict:
    """Everything static/js/dashboard.js draws, as plain JSON-able values."""
    generations = sorted((int(depth), n) for depth, n in stats.generations.items())
    return {
        "daily": {
            "days": [d.day.isoformat() for d in daily],
            "joined": [d.joined for d in daily],
            "activated": [d.activated for d in daily],
        },
        "funnel": {
            "labels": ["Created", "Sent", "Opened", "Redeemed", "Activated"],
            "values": [
                stats.invites_created,
                stats.invites_sent,
                stats.invites_opened,
                stats.invites_redeemed,
                stats.invites_activated,
            ],
        },
        "generations": {
            "labels": [str(depth) for depth, _ in generations],
            "values": [n for _, n in generations],
        },
    }


def headline(stats: CampaignStats) -> list[dict]:
    """The headline figures as display strings, in the order the page shows them."""
    cycle = stats.avg_cycle_time
    return [
        {"key": "members", "label": "Members", "value": f"{stats.members:,}"},
        {"key": "invites_sent", "label": "Invites sent", "value": f"{stats.invites_sent:,}"},
        {
            "key": "redemption_rate",
            "label": "Redemption rate",
            "value": f"{stats.redemption_rate:.1%}",
        },
        {
            "key": "activation_rate",
            "label": "Activation rate",
            "value": f"{stats.activation_rate:.1%}",
        },
        {"key": "k_factor", "label": "Viral coefficient K", "value": f"{stats.k_factor:.2f}"},
        {
            "key": "cycle_time",
            "label": "Avg. cycle time",
            "value": format_duration(cycle) if cycle is not None else "-",
        },
        {
            "key": "deepest_generation",
            "label": "Deepest generation",
            "value": f"{stats.deepest_generation:,}",
        },
    ]


def format_duration(duration) -> str:
    """A short human duration: 45 min, 5.2 h, 3.4 days."""
    seconds = duration.total_seconds()
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# --- Task (beside what it runs; its name is kept from referrals.tasks for queued messages) ---


@shared_task(name="referrals.tasks.refresh_campaign_stats", ignore_result=True)
def refresh_campaign_stats(campaign_id: int | None = None) -> int:
    """Rebuild one campaign's dashboard figures, or every campaign's (Celery beat)."""
    campaigns = Campaign.objects.select_related("stats").order_by("id")
    if campaign_id is not None:
        campaigns = campaigns.filter(pk=campaign_id)
    refreshed = 0
    for campaign in campaigns:
        # The periodic run skips campaigns refreshed lately (a big one less often).
        if campaign_id is None and not is_due(campaign):
            continue
        refreshed += refresh_once(campaign=campaign)
    return refreshed
