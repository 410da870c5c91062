"""The dashboard's figures, kept by adding what changed: a fold, like the tree's.

Every member and member invite *contributes* to the figures: a member to
"members", its generation, its day of joining, and (once activated with
its credit counted) to "activated", its day of activation and every branch
it is in; an invite to the funnel stage it reached, its owner's generation
and its owner's branches. Each row keeps what it contributes now
(`fig_*`) and two numbers: `figures_version`, which every change to the
row's contribution bumps (in the same UPDATE as the change where it can),
and `figures_counted`, the version the figures hold. The fold takes rows
whose version is ahead, subtracts what they gave, adds what they give now,
and records the version it read; a change that lands meanwhile bumps the
version again and is counted by the next fold. So a refresh reads only
what changed since the last one, whatever the campaign's size, and no row
is locked by it.

What bumps a version: a new row (version 1, counted 0); a claimed use and a
revocation (the invite's own UPDATE); an "opened" event; an activation (the
member's own UPDATE); a credit held, approved or rejected; a move (every
moved member and their invites). The fold bumps an invite whose redeemer's
counted activation changed (its "activated" stage depends on it).

Branch totals (`BranchFigures`, one row per member with a non-zero branch)
are added along the current ancestry; a move takes the moved branch's
totals off the old path and adds them to the new one, as it does downline
sizes, under the same lock. `rebuild` recomputes every contribution from
the tables (the repair, and the first build of a campaign); the test suite
checks that folding random changes gives what a rebuild gives.

Funnel stages of a member invite (each includes the ones after it):
created (1, revoked before anyone used it), sent (2), opened (3),
redeemed (4), activated (5). Seed codes contribute nothing (0).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import (
    BranchFigures,
    Campaign,
    CampaignStats,
    DailyStat,
    Invite,
    InviteEvent,
    Member,
    Redemption,
)
from .treelock import lock_the_tree

FOLD_BATCH = 2000
# Cycles are counted in whole milliseconds, so a kept average cycle is within half
# a millisecond of the exact one (the tables'); comparisons allow this much.
CYCLE_TOLERANCE_SECONDS = 1e-3
CREATED, SENT, OPENED, REDEEMED, ACTIVATED = 1, 2, 3, 4, 5
FUNNEL = {
    CREATED: "invites_created",
    SENT: "invites_sent",
    OPENED: "invites_opened",
    REDEEMED: "invites_redeemed",
    ACTIVATED: "invites_activated",
}
UNCREDITED = [Redemption.Credit.HELD, Redemption.Credit.REJECTED]
CREDITED = [Redemption.Credit.COUNTED, Redemption.Credit.APPROVED]
DUE = ~Q(figures_version=F("figures_counted"))
# An UPDATE's keyword: this row's contribution may have changed.
BUMP = {"figures_version": F("figures_version") + 1}


def bump(queryset) -> int:
    """Say that these members' or invites' contributions may have changed; how many rows."""
    return queryset.update(**BUMP)


class _Milliseconds(Func):
    """A duration in whole milliseconds, rounded half up (SQLite's date difference is in
    microseconds)."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="round(EXTRACT(EPOCH FROM (%(expressions)s)) * 1000)::bigint",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND((%(expressions)s) / 1000.0) AS INTEGER)",
            **extra,
        )


def _cycle_ms_of_redemption():
    """A join's cycle: its invite's creation to its redemption, for member invites only."""
    return Case(
        When(
            invite__owner__isnull=False,
            then=_Milliseconds(
                ExpressionWrapper(
                    F("redeemed_at") - F("invite__created_at"), output_field=DurationField()
                )
            ),
        ),
        default=Value(None),
        output_field=BigIntegerField(),
    )


def _cycle_ms_of_member():
    """A member's own join's cycle, as a subquery (the rebuild's set-based UPDATE)."""
    return Subquery(
        Redemption.objects.filter(member=OuterRef("pk"), invite__owner__isnull=False)
        .annotate(ms=_cycle_ms_of_redemption())
        .values("ms")[:1]
    )


def _credited_activation():
    held = Redemption.objects.filter(member=OuterRef("pk"), credit__in=UNCREDITED)
    return Q(activated_at__isnull=False) & ~Exists(held)


def _stage_case():
    opened = InviteEvent.objects.filter(invite=OuterRef("pk"), kind=InviteEvent.Kind.OPENED)
    activated = Redemption.objects.filter(
        invite=OuterRef("pk"), member__activated_at__isnull=False, credit__in=CREDITED
    )
    return Case(
        When(owner__isnull=True, then=Value(0)),
        When(Q(uses__gt=0) & Exists(activated), then=Value(ACTIVATED)),
        When(uses__gt=0, then=Value(REDEEMED)),
        When(revoked_at__isnull=False, then=Value(CREATED)),
        When(Exists(opened), then=Value(OPENED)),
        default=Value(SENT),
    )


# --- The fold ------------------------------------------------------------------------------


class _Changes:
    """What one fold adds, per campaign, before it is written."""

    def __init__(self) -> None:
        self.totals: dict[int, Counter] = defaultdict(Counter)
        self.generations: dict[int, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
        self.days: dict[int, dict[date, Counter]] = defaultdict(lambda: defaultdict(Counter))
        self.branches: dict[int, Counter] = defaultdict(Counter)
        self.branch_campaign: dict[int, int] = {}

    def branch(self, campaign_id: int, member_ids, field: str, amount: int) -> None:
        if not amount:
            return
        for member_id in member_ids:
            self.branches[member_id][field] += amount
            self.branch_campaign[member_id] = campaign_id


def _path(ancestry: str) -> list[int]:
    return [int(part) for part in ancestry.split("/") if part]


def _day(moment: datetime) -> date:
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()


def _one_campaign(campaign_id: int) -> dict:
    """One campaign, written as a range so that the due rows are read from their partial
    index in its order. PostgreSQL cannot estimate "version <> counted", takes most rows
    to be due, and with `campaign_id = X` (which makes ORDER BY id the primary key's
    order too) walked the primary key through the whole campaign instead: 0.6 s per
    fold at 1,000,000 members, where the partial index answers at once."""
    return {"campaign_id__gte": campaign_id, "campaign_id__lte": campaign_id}


def fold(batch: int = FOLD_BATCH) -> int:
    """Count one batch of changed members and invites into the figures; how many rows."""
    with transaction.atomic():
        lock_the_tree()
        kept = CampaignStats.objects.filter(folded=True).order_by("campaign_id")
        changes, done = _Changes(), 0
        # Campaign by campaign: each reads its own part of the partial indexes in id order.
        for campaign_id in kept.values_list("campaign_id", flat=True):
            done += _fold_members(changes, campaign_id, batch)
            done += _fold_invites(changes, campaign_id, batch)
        if done:
            _write(changes)
    return done


def fold_all() -> int:
    """Fold until nothing is due; how many rows were counted."""
    total = 0
    while done := fold():
        total += done
    return total


def _fold_members(changes: _Changes, campaign_id: int, batch: int) -> int:
    # Rows someone is changing right now are skipped: their change bumps them, so the next
    # fold counts them; the fold then writes only rows it holds, and never waits on a row.
    rows = list(
        Member.objects.filter(DUE, tree_counted=True, **_one_campaign(campaign_id))
        .select_for_update(skip_locked=True)
        .order_by("campaign_id", "id")
        .values_list(
            "id",
            "ancestry",
            "depth",
            "inviter_id",
            "joined_at",
            "activated_at",
            "figures_version",
            "fig_depth",
            "fig_seed",
            "fig_activated",
            "fig_cycle_ms",
        )[:batch]
    )
    ids = [row[0] for row in rows]
    # Their own invites' counted contributions move with them between generations.
    own = {
        member_id: (sent, redeemed)
        for member_id, sent, redeemed in BranchFigures.objects.filter(
            member_id__in=ids
        ).values_list("member_id", "own_invites_sent", "own_invites_redeemed")
    }
    # Their redemptions, by primary-key lookups (a plan that cannot turn into a scan).
    joins = {
        member_id: (credit, cycle)
        for member_id, credit, cycle in Redemption.objects.filter(member_id__in=ids).values_list(
            "member_id", "credit", _cycle_ms_of_redemption()
        )
    }
    written, invites_to_bump = [], []
    for (
        pk,
        ancestry,
        depth,
        inviter_id,
        joined_at,
        activated_at,
        version,
        old_depth,
        old_seed,
        old_activated,
        counted_cycle_ms,
    ) in rows:
        credit, cycle_ms = joins.get(pk, (None, None))
        if old_depth is not None:
            cycle_ms = counted_cycle_ms  # a join's cycle is counted once, when first counted
        seed = inviter_id is None
        activated = activated_at is not None and credit not in UNCREDITED
        total = changes.totals[campaign_id]
        if old_depth is not None:  # take back what it gave
            total["members"] -= 1
            total["seed_members"] -= old_seed
            total["invited_members"] -= not old_seed
            total["activated_members"] -= old_activated
            generation = changes.generations[campaign_id][old_depth]
            generation["members"] -= 1
            generation["activated"] -= old_activated
        else:  # first counted: its join, once
            changes.days[campaign_id][_day(joined_at)]["joined"] += 1
            if cycle_ms is not None:
                total["cycle_total_ms"] += cycle_ms
                total["cycle_count"] += 1
                ancestors = _path(ancestry)
                changes.branch(campaign_id, ancestors, "cycle_total_ms", cycle_ms)
                changes.branch(campaign_id, ancestors, "cycle_count", 1)
        total["members"] += 1
        total["seed_members"] += seed
        total["invited_members"] += not seed
        total["activated_members"] += activated
        generation = changes.generations[campaign_id][depth]
        generation["members"] += 1
        generation["activated"] += activated
        if old_depth is not None and old_depth != depth and pk in own:  # it was moved
            sent, redeemed = own[pk]
            changes.generations[campaign_id][old_depth]["invites_sent"] -= sent
            changes.generations[campaign_id][old_depth]["invites_redeemed"] -= redeemed
            generation["invites_sent"] += sent
            generation["invites_redeemed"] += redeemed
        if activated != (old_activated if old_depth is not None else False):
            delta = 1 if activated else -1
            changes.days[campaign_id][_day(activated_at)]["activated"] += delta
            changes.branch(campaign_id, [*_path(ancestry), pk], "activated", delta)
            invites_to_bump.append(pk)
        written.append((pk, version, depth, seed, activated, cycle_ms))
    _update_rows(Member, _MEMBER_COLUMNS, written)
    if invites_to_bump:
        # The redeemed invite's "activated" stage follows its redeemer's counted activation.
        bump(Invite.objects.filter(redemptions__member_id__in=invites_to_bump))
    return len(rows)


def _stage_of(uses, revoked_at, owner_id, opened, activated) -> int:
    if owner_id is None:
        return 0
    if uses:
        return ACTIVATED if activated else REDEEMED
    if revoked_at:
        return CREATED
    return OPENED if opened else SENT


def _fold_invites(changes: _Changes, campaign_id: int, batch: int) -> int:
    # An invite counts at its owner's counted generation (`fig_depth`), where all of the
    # owner's counted invites are; the owner's fold moves them if the owner moves. An
    # invite whose owner is not counted yet waits (the owner is counted within seconds).
    rows = list(
        Invite.objects.filter(DUE, **_one_campaign(campaign_id))
        .exclude(owner__isnull=False, owner__fig_depth__isnull=True)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("campaign_id", "id")
        .values_list(
            "id",
            "owner_id",
            "owner__fig_depth",
            "owner__ancestry",
            "uses",
            "revoked_at",
            "figures_version",
            "fig_stage",
        )[:batch]
    )
    ids = [row[0] for row in rows]
    # What their stage depends on, by index lookups on the batch's ids.
    opened = set(
        InviteEvent.objects.filter(invite_id__in=ids, kind=InviteEvent.Kind.OPENED).values_list(
            "invite_id", flat=True
        )
    )
    activated = set(
        Redemption.objects.filter(
            invite_id__in=ids, member__activated_at__isnull=False, credit__in=CREDITED
        ).values_list("invite_id", flat=True)
    )
    written = []
    for (
        pk,
        owner_id,
        depth,
        ancestry,
        uses,
        revoked_at,
        version,
        old_stage,
    ) in rows:
        stage = _stage_of(uses, revoked_at, owner_id, pk in opened, pk in activated)
        total = changes.totals[campaign_id]
        for threshold, field in FUNNEL.items():
            total[field] += (stage >= threshold) - (old_stage >= threshold)
        if owner_id is not None:
            sent = (stage >= SENT) - (old_stage >= SENT)
            redeemed = (stage >= REDEEMED) - (old_stage >= REDEEMED)
            generation = changes.generations[campaign_id][depth]
            generation["invites_sent"] += sent
            generation["invites_redeemed"] += redeemed
            branch = [*_path(ancestry), owner_id]
            changes.branch(campaign_id, branch, "invites_sent", sent)
            changes.branch(campaign_id, branch, "invites_redeemed", redeemed)
            changes.branch(campaign_id, [owner_id], "own_invites_sent", sent)
            changes.branch(campaign_id, [owner_id], "own_invites_redeemed", redeemed)
        written.append((pk, version, stage))
    _update_rows(Invite, _INVITE_COLUMNS, written)
    return len(rows)


_MEMBER_COLUMNS = {
    "figures_counted": "integer",
    "fig_depth": "integer",
    "fig_seed": "boolean",
    "fig_activated": "boolean",
    "fig_cycle_ms": "bigint",
}
_INVITE_COLUMNS = {"figures_counted": "integer", "fig_stage": "smallint"}


def _update_rows(model, columns: dict[str, str], rows: list[tuple]) -> None:
    """Set `columns` of many rows, (id, *values) each, in one UPDATE per chunk: FROM arrays
    unnested on PostgreSQL, FROM a VALUES list on SQLite. (Django's bulk_update builds a
    CASE per column and row, which costs more to compile than the fold's arithmetic.)"""
    if not rows:
        return
    table, names = model._meta.db_table, list(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in ["bigint", *(columns[n] for n in names)])
            assigned = ", ".join(f"{name} = v.{name}" for name in names)
            # Table and column names are this module's constants; values are parameters.
            cursor.execute(
                f"UPDATE {table} SET {assigned} FROM unnest({arrays}) "  # noqa: S608
                f"AS v(id, {', '.join(names)}) WHERE {table}.id = v.id",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        assigned = ", ".join(f"{name} = v.{name}" for name in names)
        placeholders = "(" + ", ".join(["%s"] * (len(names) + 1)) + ")"
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cursor.execute(
                f"WITH v(id, {', '.join(names)}) AS (VALUES {', '.join([placeholders] * len(chunk))}) "  # noqa: E501, S608
                f"UPDATE {table} SET {assigned} FROM v WHERE {table}.id = v.id",
                [value for row in chunk for value in row],
            )


def _write(changes: _Changes) -> None:
    now = timezone.now()
    campaigns = set(changes.totals) | set(changes.generations) | set(changes.days)
    for campaign_id in sorted(campaigns):
        stats = CampaignStats.objects.select_for_update().get(campaign_id=campaign_id)
        for field, amount in changes.totals[campaign_id].items():
            setattr(stats, field, getattr(stats, field) + amount)
        by_depth = {int(depth): dict(row) for depth, row in stats.generation_figures.items()}
        for depth, row in changes.generations[campaign_id].items():
            merged = Counter(by_depth.get(depth, {}))
            merged.update(row)
            by_depth[depth] = merged
        set_generations(stats, by_depth)
        stats.avg_cycle_seconds = (
            stats.cycle_total_ms / stats.cycle_count / 1e3 if stats.cycle_count else None
        )
        stats.refreshed_at = now
        stats.save()
        for day, row in sorted(changes.days[campaign_id].items()):
            DailyStat.objects.get_or_create(campaign_id=campaign_id, day=day)
            DailyStat.objects.filter(campaign_id=campaign_id, day=day).update(
                joined=F("joined") + row["joined"], activated=F("activated") + row["activated"]
            )
    _add_to_branches(changes)


_GENERATION_FIELDS = ("members", "activated", "invites_sent", "invites_redeemed")


def set_generations(stats: CampaignStats, by_depth: dict[int, dict]) -> None:
    """Store per-generation figures (empty generations dropped) and what derives from them."""
    kept = {
        depth: {field: int(row.get(field, 0)) for field in _GENERATION_FIELDS}
        for depth, row in by_depth.items()
        if any(row.get(field, 0) for field in _GENERATION_FIELDS)
    }
    stats.generation_figures = {str(depth): kept[depth] for depth in sorted(kept)}
    stats.generations = {
        str(depth): row["members"] for depth, row in sorted(kept.items()) if row["members"]
    }
    stats.deepest_generation = max(
        (depth for depth, row in kept.items() if row["members"]), default=0
    )


_BRANCH_FIELDS = (
    "invites_sent",
    "invites_redeemed",
    "activated",
    "cycle_total_ms",
    "cycle_count",
    "own_invites_sent",
    "own_invites_redeemed",
)
# What a move carries from the old path to the new (its own invites stay with it).
_PATH_FIELDS = _BRANCH_FIELDS[:5]


def _add_to_branches(changes: _Changes) -> None:
    """One upsert for every branch the batch touched, adding to what is there."""
    rows = [
        (member_id, changes.branch_campaign[member_id], *(amounts[f] for f in _BRANCH_FIELDS))
        for member_id, amounts in sorted(changes.branches.items())
        if any(amounts.values())
    ]
    if not rows:
        return
    table = BranchFigures._meta.db_table
    columns = ", ".join(_BRANCH_FIELDS)
    added = ", ".join(f"{f} = {table}.{f} + excluded.{f}" for f in _BRANCH_FIELDS)
    upsert = f"ON CONFLICT (member_id) DO UPDATE SET {added}"
    # Table and column names are this module's constants; values are parameters.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            kinds = ["bigint", "bigint", "integer", "integer", "integer", "bigint", "integer"]
            kinds += ["integer", "integer"]
            arrays = ", ".join(f"%s::{kind}[]" for kind in kinds)
            cursor.execute(
                f"INSERT INTO {table} (member_id, campaign_id, {columns}) "  # noqa: S608
                f"SELECT * FROM unnest({arrays}) {upsert}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = ", ".join(["(" + ", ".join(["%s"] * 9) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (member_id, campaign_id, {columns}) "  # noqa: S608
                f"VALUES {values} {upsert}",
                [value for row in chunk for value in row],
            )


# --- A move ------------------------------------------------------------------------------


def move_branch(*, member: Member, old_path: list[int], new_path: list[int]) -> None:
    """`member`'s branch moves from under `old_path` to under `new_path` (ids, root first).

    Called by tree.move_subtree under the tree's lock, after the rows moved:
    the ancestors only on the old path lose the branch's totals (and the
    member's own join, which counts for its ancestors), those only on the
    new path gain them. The move's own UPDATEs bump the moved rows, whose
    fold moves them (and their own invites) to their new generation.
    """
    own = Member.objects.filter(pk=member.pk).values_list("fig_depth", "fig_cycle_ms").get()
    totals = BranchFigures.objects.filter(member=member).values(*_PATH_FIELDS).first() or {}
    amounts = Counter({field: totals.get(field, 0) for field in _PATH_FIELDS})
    if own[0] is not None and own[1] is not None:  # the moved member's own counted join
        amounts["cycle_total_ms"] += own[1]
        amounts["cycle_count"] += 1
    # Only what is counted moves; what is not folded yet is added at the new place.
    changes = _Changes()
    old, new = set(old_path), set(new_path)
    for field, amount in amounts.items():
        changes.branch(member.campaign_id, sorted(old - new), field, -amount)
        changes.branch(member.campaign_id, sorted(new - old), field, amount)
    _add_to_branches(changes)


# --- The repair ----------------------------------------------------------------------------


def rebuild(campaign: Campaign) -> CampaignStats:
    """Recompute every contribution of `campaign` from the tables, and the figures from them.

    A few set-based UPDATEs and scans (seconds at 1,000,000 members): the
    first build of a campaign's figures, and the repair if they ever drift.
    """
    with transaction.atomic():
        lock_the_tree()
        members = Member.objects.filter(campaign=campaign)
        members.filter(tree_counted=True).update(
            fig_depth=F("depth"),
            fig_seed=Case(When(inviter__isnull=True, then=Value(True)), default=Value(False)),
            fig_activated=Case(
                When(_credited_activation(), then=Value(True)), default=Value(False)
            ),
            fig_cycle_ms=_cycle_ms_of_member(),
            figures_counted=F("figures_version"),
        )
        members.filter(tree_counted=False).update(
            fig_depth=None,
            fig_seed=False,
            fig_activated=False,
            fig_cycle_ms=None,
            figures_counted=0,
        )
        invites = Invite.objects.filter(campaign=campaign)
        # An invite counts once its owner does (the fold waits for the owner likewise).
        owner_counted = Q(owner__isnull=True) | Q(owner__fig_depth__isnull=False)
        invites.filter(owner_counted).update(
            fig_stage=_stage_case(), figures_counted=F("figures_version")
        )
        invites.exclude(owner_counted).update(fig_stage=0, figures_counted=0)
        stats, _ = CampaignStats.objects.get_or_create(campaign=campaign)
        _sum_contributions(campaign, stats)
        stats.folded = True
        stats.refreshed_at = timezone.now()
        stats.save()
        _rebuild_days(campaign)
        _rebuild_branches(campaign)
    return stats


def _sum_contributions(campaign: Campaign, stats: CampaignStats) -> None:
    counted = Member.objects.filter(campaign=campaign, fig_depth__isnull=False).order_by()
    totals = counted.aggregate(
        members=Count("id"),
        seed_members=Count("id", filter=Q(fig_seed=True)),
        activated_members=Count("id", filter=Q(fig_activated=True)),
        cycle_total_ms=Sum("fig_cycle_ms"),
        cycle_count=Count("fig_cycle_ms"),
    )
    stats.members = totals["members"]
    stats.seed_members = totals["seed_members"]
    stats.invited_members = totals["members"] - totals["seed_members"]
    stats.activated_members = totals["activated_members"]
    stats.cycle_total_ms = totals["cycle_total_ms"] or 0
    stats.cycle_count = totals["cycle_count"]
    stats.avg_cycle_seconds = (
        stats.cycle_total_ms / stats.cycle_count / 1e3 if stats.cycle_count else None
    )
    invites = Invite.objects.filter(campaign=campaign, fig_stage__gt=0).order_by()
    funnel = invites.aggregate(
        **{field: Count("id", filter=Q(fig_stage__gte=stage)) for stage, field in FUNNEL.items()}
    )
    for field, value in funnel.items():
        setattr(stats, field, value)
    by_depth: dict[int, Counter] = defaultdict(Counter)
    for row in counted.values("fig_depth").annotate(
        n=Count("id"), act=Count("id", filter=Q(fig_activated=True))
    ):
        by_depth[row["fig_depth"]].update(members=row["n"], activated=row["act"])
    for row in invites.values("owner__fig_depth").annotate(
        sent=Count("id", filter=Q(fig_stage__gte=SENT)),
        redeemed=Count("id", filter=Q(fig_stage__gte=REDEEMED)),
    ):
        by_depth[row["owner__fig_depth"]].update(
            invites_sent=row["sent"], invites_redeemed=row["redeemed"]
        )
    set_generations(stats, by_depth)


def _rebuild_days(campaign: Campaign) -> None:
    counted = Member.objects.filter(campaign=campaign, fig_depth__isnull=False).order_by()
    days: dict[date, Counter] = defaultdict(Counter)
    for row in counted.annotate(day=TruncDate("joined_at")).values("day").annotate(n=Count("id")):
        days[row["day"]]["joined"] += row["n"]
    activated = counted.filter(fig_activated=True).annotate(day=TruncDate("activated_at"))
    for row in activated.values("day").annotate(n=Count("id")):
        days[row["day"]]["activated"] += row["n"]
    DailyStat.objects.filter(campaign=campaign).delete()
    DailyStat.objects.bulk_create(
        [
            DailyStat(campaign=campaign, day=day, joined=row["joined"], activated=row["activated"])
            for day, row in sorted(days.items())
        ],
        batch_size=1000,
    )


_BRANCHES_SQL = """
INSERT INTO {branches} (member_id, campaign_id, {fields})
SELECT branch, %(campaign)s, SUM(sent), SUM(redeemed), SUM(act), SUM(cycle), SUM(joins),
       SUM(own_sent), SUM(own_redeemed)
FROM (
    SELECT unnest(string_to_array(m.ancestry || m.id::text, '/'))::bigint AS branch,
           0 AS sent, 0 AS redeemed, 1 AS act, 0::bigint AS cycle, 0 AS joins,
           0 AS own_sent, 0 AS own_redeemed
    FROM {members} m
    WHERE m.campaign_id = %(campaign)s AND m.fig_depth IS NOT NULL AND m.fig_activated
    UNION ALL
    SELECT unnest(string_to_array(rtrim(m.ancestry, '/'), '/'))::bigint, 0, 0, 0,
           m.fig_cycle_ms, 1, 0, 0
    FROM {members} m
    WHERE m.campaign_id = %(campaign)s AND m.fig_depth IS NOT NULL
      AND m.fig_cycle_ms IS NOT NULL AND m.ancestry <> ''
    UNION ALL
    SELECT b.branch, 1, (i.fig_stage >= {redeemed})::int, 0, 0, 0,
           (b.branch = o.id)::int, (i.fig_stage >= {redeemed} AND b.branch = o.id)::int
    FROM {invites} i JOIN {members} o ON o.id = i.owner_id
    CROSS JOIN LATERAL (
        SELECT unnest(string_to_array(o.ancestry || o.id::text, '/'))::bigint AS branch
    ) AS b
    WHERE i.campaign_id = %(campaign)s AND i.fig_stage >= {sent} AND o.fig_depth IS NOT NULL
) AS contributions
GROUP BY branch
"""


def _rebuild_branches(campaign: Campaign) -> None:
    """Every branch's totals from the stored contributions: one pass over each table
    (on PostgreSQL one INSERT … SELECT that unnests the ancestry paths)."""
    BranchFigures.objects.filter(campaign=campaign).delete()
    if connection.vendor == "postgresql":
        statement = _BRANCHES_SQL.format(
            branches=BranchFigures._meta.db_table,
            members=Member._meta.db_table,
            invites=Invite._meta.db_table,
            fields=", ".join(_BRANCH_FIELDS),
            sent=SENT,
            redeemed=REDEEMED,
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, {"campaign": campaign.pk})
        return
    changes = _Changes()
    counted = Member.objects.filter(campaign=campaign, fig_depth__isnull=False).order_by()
    for pk, ancestry, activated, cycle_ms in counted.values_list(
        "id", "ancestry", "fig_activated", "fig_cycle_ms"
    ).iterator(chunk_size=10_000):
        path = _path(ancestry)
        if activated:
            changes.branch(campaign.pk, [*path, pk], "activated", 1)
        if cycle_ms is not None:
            changes.branch(campaign.pk, path, "cycle_total_ms", cycle_ms)
            changes.branch(campaign.pk, path, "cycle_count", 1)
    invites = Invite.objects.filter(campaign=campaign, fig_stage__gte=SENT).order_by()
    for owner_id, ancestry, stage in (
        invites.filter(owner__fig_depth__isnull=False)
        .values_list("owner_id", "owner__ancestry", "fig_stage")
        .iterator(chunk_size=10_000)
    ):
        branch = [*_path(ancestry), owner_id]
        redeemed = int(stage >= REDEEMED)
        changes.branch(campaign.pk, branch, "invites_sent", 1)
        changes.branch(campaign.pk, branch, "invites_redeemed", redeemed)
        changes.branch(campaign.pk, [owner_id], "own_invites_sent", 1)
        changes.branch(campaign.pk, [owner_id], "own_invites_redeemed", redeemed)
    BranchFigures.objects.bulk_create(
        [
            BranchFigures(member_id=member_id, campaign=campaign, **amounts)
            for member_id, amounts in changes.branches.items()
            if any(amounts.values())
        ],
        batch_size=2000,
    )
