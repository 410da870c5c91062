"""Tree design benchmark on PostgreSQL: reads and concurrent signups at scale.

Builds a synthetic campaign (manage.py generate_campaign) in a scratch
database, then measures, beside the alternative each design choice beat:

- reads: downline size (recursive CTE | materialized-path range scan |
  stored counter), ancestors (recursive CTE | one lookup by the stored
  path), members per generation (recursive CTE | range scan), top members.
- writes: concurrent signups through the real service (insert only, the
  fold runs later) against the same signup that also bumps every
  ancestor's counter in its transaction; and the fold's own rate.

Run: make bench (or python -m benchmarks.tree [--members N] [--clients C]).
Needs PostgreSQL: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/passalong_bench
(the database is dropped and made anew), and Redis: BENCH_BROKER_URL, default
redis://127.0.0.1:6379/13 (flushed at the end).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/passalong_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per signup run")
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database")
    parser.add_argument("--skip-reads", action="store_true", help="measure the signups only")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="ERROR")
    # Tasks go to a real broker as in production, but no worker takes them:
    # the fold is measured on its own, after the signups.
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
    os.environ["CELERY_BROKER_URL"] = broker
    generated = None
    if not args.reuse:
        _recreate_database(url)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
        started = time.monotonic()
        out = subprocess.run(
            [sys.executable, "manage.py", "generate_campaign", "--members", str(args.members)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        generated = (time.monotonic() - started, out.strip().splitlines()[-1])

    import django

    django.setup()
    from django.db import connection

    from referrals.models import Campaign, Member

    campaign = Campaign.objects.exclude(is_default=True).order_by("-pk").first()
    members = Member.objects.filter(campaign=campaign)
    biggest = members.order_by("-downline_size").first()
    typical = members.filter(downline_size__gte=50).order_by("downline_size").first() or biggest
    deepest = members.order_by("-depth").first()
    total = members.count()

    print(f"\nTree benchmark: {total:,} members, PostgreSQL, {os.cpu_count()} cores")
    if generated:
        seconds, summary = generated
        print(f"generate_campaign: {seconds:.1f} s (target <= 60 s)\n  {summary}")
    print(
        f"biggest downline #{biggest.pk}: {biggest.downline_size:,}; typical #{typical.pk}: "
        f"{typical.downline_size:,}; deepest member: generation {deepest.depth}"
    )

    if not args.skip_reads:
        reads = _reads(connection, biggest, typical, deepest)
        print("\nReads (ms, median of 5; runs over a second once)")
        print(f"{'read':<46} {'baseline':>10} {'ours':>10}  design")
        for name, baseline, ours, how in reads:
            base = f"{baseline:>10.1f}" if baseline is not None else f"{'-':>10}"
            print(f"{name:<46} {base} {ours:>10.2f}  {how}")
    connection.close()

    print(f"\nSignups, {args.clients} concurrent clients, {args.seconds:.0f} s each")
    print("(the service path: user, member, redemption, outbox, events, enqueue to Redis;")
    print(" 'SQL alone': the invite claim and member insert that the design is about)")
    print(f"{'signup':<52} {'per s':>8} {'errors':>7}")
    for mode, label in [
        ("counters", "baseline: + UPDATE every ancestor's counter"),
        ("insert", "ours: insert only, counters folded later"),
        ("sql-counters", "SQL alone, baseline: + ancestors' counters"),
        ("sql-insert", "SQL alone, ours: claim + insert"),
    ]:
        done, failed = _signups(campaign.pk, mode, args.clients, args.seconds)
        print(f"{label:<52} {done / args.seconds:>8.0f} {failed:>7}")
    folded, seconds = _fold()
    print(f"{'fold: members counted into their ancestors':<52} {folded / seconds:>8.0f}")
    _reparent_report(campaign.pk, args.clients)
    import redis

    redis.Redis.from_url(broker).flushdb()  # the tasks nobody ran


def _recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.replace(parts.path, "/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _timed(run, repeat: int = 5) -> float:
    """Median milliseconds of `repeat` runs; a run over a second is not repeated."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
        if times[0] > 1000:
            break
    return statistics.median(times)


_CTE_DOWN = """
WITH RECURSIVE sub(id, depth) AS (
  SELECT id, 0 FROM referrals_member WHERE inviter_id = %s
  UNION ALL SELECT m.id, sub.depth + 1 FROM referrals_member m JOIN sub ON m.inviter_id = sub.id
) SELECT {select} FROM sub {tail}
"""
_CTE_UP = """
WITH RECURSIVE up(id, inviter_id) AS (
  SELECT id, inviter_id FROM referrals_member WHERE id = %s
  UNION ALL SELECT m.id, m.inviter_id FROM referrals_member m JOIN up ON m.id = up.inviter_id
) SELECT id FROM up
"""


def _reads(connection, biggest, typical, deepest):
    from referrals import tree
    from referrals.models import Member

    def sql(statement, params):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                cursor.fetchall()

        return run

    def cte_count(member):
        return sql(_CTE_DOWN.format(select="count(*)", tail=""), [member.pk])

    def path_count(member):
        return lambda: Member.objects.downline_of(member).count()

    def counter(member):
        return lambda: Member.objects.values_list("downline_size", flat=True).get(pk=member.pk)

    def generations(member):
        def run():
            from django.core.cache import cache

            cache.clear()  # measure the scan, not the cache
            tree.generations_below(member)

        return run

    rows = []
    for label, member in [("biggest", biggest), ("typical", typical)]:
        rows.append(
            (
                f"downline size, {label} ({member.downline_size:,})",
                _timed(cte_count(member)),
                _timed(counter(member)),
                "stored counter",
            )
        )
        rows.append(
            (
                f"  same, counted by path range scan ({label})",
                None,
                _timed(path_count(member)),
                "ancestry LIKE 'prefix%'",
            )
        )
    rows.append(
        (
            f"members per generation, biggest ({biggest.downline_size:,})",
            _timed(
                sql(_CTE_DOWN.format(select="depth, count(*)", tail="GROUP BY depth"), [biggest.pk])
            ),
            _timed(generations(biggest)),
            "range scan on (ancestry, depth)",
        )
    )
    rows.append(
        (
            f"members per generation, typical ({typical.downline_size:,})",
            _timed(
                sql(_CTE_DOWN.format(select="depth, count(*)", tail="GROUP BY depth"), [typical.pk])
            ),
            _timed(generations(typical)),
            "range scan on (ancestry, depth)",
        )
    )
    rows.append(
        (
            f"ancestors of the deepest (generation {deepest.depth})",
            _timed(sql(_CTE_UP, [deepest.pk])),
            _timed(
                sql("SELECT id FROM referrals_member WHERE id = ANY(%s)", [deepest.ancestor_ids()])
            ),
            "ids from the stored path, one query",
        )
    )
    rows.append(
        (
            "direct invitees, first page of 50 (biggest)",
            None,
            _timed(lambda: tree.direct_invitees(biggest)),
            "keyset on (inviter, id)",
        )
    )
    rows.append(
        (
            "top 10 members by downline (with their users)",
            None,
            _timed(lambda: tree.top_members(biggest.campaign, limit=10)),
            "index on (campaign, -downline_size)",
        )
    )
    return rows


def _signup_worker(args) -> tuple[int, int]:
    """One client: sign up members under its own inviter until time is up."""
    campaign_id, inviter_id, mode, seconds, worker = args
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import OperationalError, connection, transaction
    from django.db.models import F

    from referrals import services
    from referrals.models import Invite, Member

    User = get_user_model()
    inviter = Member.objects.select_related("campaign").get(pk=inviter_id)
    invite = Invite.objects.create(
        campaign_id=campaign_id, owner=inviter, max_uses=1_000_000, created_at=inviter.joined_at
    )
    done = failed = 0
    deadline = time.monotonic() + seconds
    if mode.startswith("sql"):
        return _sql_signups(invite, inviter, mode == "sql-counters", deadline)
    while time.monotonic() < deadline:
        try:
            with transaction.atomic():
                user = User.objects.create(
                    username=f"bench-{mode}-{worker}-{done}-{time.monotonic_ns()}",
                    password="!",
                )
                member = services.redeem_invite(code=invite.code, user=user)
                if mode == "counters":
                    # The alternative: every ancestor's counter in the signup itself.
                    Member.objects.filter(pk__in=member.ancestor_ids()).update(
                        downline_size=F("downline_size") + 1
                    )
            done += 1
        except OperationalError:  # deadlock or serialization failure
            failed += 1
    connection.close()
    return done, failed


def _sql_signups(invite, inviter, counters: bool, deadline: float) -> tuple[int, int]:
    """The database's share of a signup alone: claim a use, insert the member (no user)."""
    from django.db import OperationalError, connection, transaction

    ancestors = [*inviter.ancestor_ids(), inviter.pk]
    done = failed = 0
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            try:
                with transaction.atomic():
                    cursor.execute(
                        "UPDATE referrals_invite SET uses = uses + 1"
                        " WHERE id = %s AND uses < max_uses",
                        [invite.pk],
                    )
                    cursor.execute(
                        "INSERT INTO referrals_member (campaign_id, inviter_id, depth, ancestry,"
                        " joined_at, invites_left, activated_invitee_count, invitee_count,"
                        " downline_size, tree_counted) VALUES (%s, %s, %s, %s, now(), 3, 0, 0, 0,"
                        " false)",
                        [
                            inviter.campaign_id,
                            inviter.pk,
                            inviter.depth + 1,
                            inviter.subtree_prefix,
                        ],
                    )
                    if counters:
                        cursor.execute(
                            "UPDATE referrals_member SET downline_size = downline_size + 1"
                            " WHERE id = ANY(%s)",
                            [ancestors],
                        )
                done += 1
            except OperationalError:  # deadlock or serialization failure
                failed += 1
    connection.close()
    return done, failed


def _signups(campaign_id: int, mode: str, clients: int, seconds: float) -> tuple[int, int]:
    import django

    django.setup()
    from django.db import connection

    from referrals.models import Member

    # Inviters deep inside the biggest tree: every signup shares its root.
    root = (
        Member.objects.filter(campaign_id=campaign_id, depth=0).order_by("-downline_size").first()
    )
    inviters = list(
        Member.objects.downline_of(root)
        .filter(depth__gte=3)
        .order_by("-depth")
        .values_list("id", flat=True)[:clients]
    )
    connection.close()
    jobs = [(campaign_id, inviters[i % len(inviters)], mode, seconds, i) for i in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(_signup_worker, jobs)
    return sum(r[0] for r in results), sum(r[1] for r in results)


def _fold() -> tuple[int, float]:
    from referrals import tree

    started = time.monotonic()
    folded = tree.fold_all()
    return folded, max(time.monotonic() - started, 1e-6)


# --- Moving a subtree --------------------------------------------------------------


def _timed_signups(args) -> list[tuple[float, float, bool]]:
    """One client: sign up under `inviter_id` until `until` (time.time()); (start, s, ok) each."""
    inviter_id, until, worker = args
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError, connection, transaction

    from referrals import errors, services
    from referrals.models import Invite, Member

    User = get_user_model()
    inviter = Member.objects.get(pk=inviter_id)
    invite = Invite.objects.create(
        campaign_id=inviter.campaign_id, owner=inviter, max_uses=1_000_000
    )
    timings = []
    while time.time() < until:
        started = time.time()
        try:
            with transaction.atomic():
                user = User.objects.create(
                    username=f"bench-move-{worker}-{time.monotonic_ns()}", password="!"
                )
                services.redeem_invite(code=invite.code, user=user)
            timings.append((started, time.time() - started, True))
        except (DatabaseError, errors.InviteRefused):
            timings.append((started, time.time() - started, False))
    connection.close()
    return timings


def _naive_move_ms(member_id: int, to_id: int) -> float:
    """Baseline: the same move row by row through the ORM (then rolled back)."""
    from django.db import transaction

    from referrals.models import Member

    member = Member.objects.get(pk=member_id)
    to = Member.objects.get(pk=to_id)
    started = time.perf_counter()
    with transaction.atomic():
        old, new = member.subtree_prefix, f"{to.subtree_prefix}{member.pk}/"
        shift = to.depth + 1 - member.depth
        for row in Member.objects.filter(campaign_id=member.campaign_id, ancestry__startswith=old):
            row.ancestry = new + row.ancestry[len(old) :]
            row.depth += shift
            row.save(update_fields=["ancestry", "depth"])
        transaction.set_rollback(True)
    return (time.perf_counter() - started) * 1000


def _reparent_report(campaign_id: int, clients: int) -> None:
    """Move a ~10,000-member subtree to another root's tree and back, with signups running."""
    import django

    django.setup()
    from django.db import connection

    from referrals import tree
    from referrals.models import Member

    members = Member.objects.filter(campaign_id=campaign_id)
    moved = members.filter(downline_size__gte=9_999).order_by("downline_size", "id").first()
    root_id = moved.ancestor_ids()[0] if moved.ancestry else moved.pk
    to = members.filter(depth=3).exclude(ancestry__startswith=f"{root_id}/").order_by("id").first()
    home = moved.inviter_id
    inside = list(
        Member.objects.downline_of(moved).order_by("-depth").values_list("id", flat=True)[:clients]
    )
    connection.close()
    naive = _naive_move_ms(moved.pk, to.pk)
    connection.close()

    until = time.time() + 8.0
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        pending = pool.map_async(_timed_signups, [(inside[i], until, i) for i in range(clients)])
        time.sleep(2.0)
        windows = []
        for target in (to.pk, home):
            started = time.time()
            tree.move_subtree(
                member=Member.objects.get(pk=moved.pk), new_inviter=Member.objects.get(pk=target)
            )
            windows.append((started, time.time()))
            time.sleep(2.0)
        timings = [t for result in pending.get() for t in result]
    tree.fold_all()
    moved.refresh_from_db()
    below = Member.objects.downline_of(moved).count()

    def during(start, _seconds, _ok):
        return any(a <= start <= b or a <= start + _seconds <= b for a, b in windows)

    hit = [t for t in timings if during(*t)]
    rest = [t for t in timings if not during(*t)]

    def stats(rows):
        if not rows:
            return "-", "-"
        seconds = sorted(r[1] * 1000 for r in rows)
        return f"{statistics.median(seconds):.0f}", f"{seconds[-1]:.0f}"

    move_ms = [(b - a) * 1000 for a, b in windows]
    print(
        f"\nMoving a subtree of {moved.downline_size + 1:,} members (another root's tree, and back)"
    )
    print(f"{'move':<52} {'baseline':>10} {'ours':>10}")
    label = "ms to move (row by row | one UPDATE + two paths)"
    print(f"{label:<52} {naive:>10.0f} {move_ms[0]:>10.0f}")
    print(f"{'ms to move back':<52} {'':>10} {move_ms[1]:>10.0f}")
    print(f"Signups by {clients} clients inside the moving subtree, 8 s:")
    print(f"{'signups':<52} {'count':>10} {'median ms':>10} {'max ms':>8} {'errors':>7}")
    for label, rows in [("while a move ran", hit), ("the rest of the time", rest)]:
        median, worst = stats(rows)
        errors = sum(1 for r in rows if not r[2])
        print(f"{label:<52} {len(rows):>10} {median:>10} {worst:>8} {errors:>7}")
    consistent = below == moved.downline_size and moved.inviter_id == home
    print(f"after the fold: subtree count by ancestry {below:,} == downline_size: {consistent}")


if __name__ == "__main__":
    main()
