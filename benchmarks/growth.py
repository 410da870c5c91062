"""Growth: the same reads at 100,000, 1,000,000 and (opt-in) 10,000,000 members.

Each size is its own generated campaign (manage.py generate_campaign, slug
growth-<N>) in one PostgreSQL database that is kept between runs, so a size
is generated once (and timed, with the generating process's peak memory,
when it is). Every read is then timed on every size, in the same run:

- the tree: a downline's size (stored counter), the ancestors of the deepest
  member (one lookup by the stored path), the first page of direct invitees,
  members per generation below a typical member, the top 10 by downline;
- the dashboard's campaign page (with its generations and branches);
- the tree explorer's JSON (the seed members, a member's invitees);
- the API's member list (first page, and seed members with their branches);
- one badge render (the image view, render cache emptied first).

Reads served from stored counters and indexes must stay flat: within 2x
from the smallest size to the largest. The table says which grow and why.

Run: make bench (BENCH_SIZES, default 100000,1000000; add 10000000 for the
10M size: about 10 minutes to generate, 15 GB of disk, kept for later runs),
or python -m benchmarks.growth [--sizes ...] [--fresh].
Needs PostgreSQL: BENCH_GROWTH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/passalong_growth, and Redis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/passalong_growth"
DEFAULT_SIZES = "100000,1000000"
MANAGE = [sys.executable, "manage.py"]
FLAT = 2.0  # a read "stays flat" when the largest size takes at most this many times the smallest
# Reads that grow with what they return, not with the campaign: the reason, for the table.
GROWS_WITH_ITS_ANSWER = {
    "members per generation below a typical member": "scans the member's downline",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", DEFAULT_SIZES))
    parser.add_argument("--fresh", action="store_true", help="drop the database first")
    parser.add_argument("--repeat", type=int, default=15, help="runs per read (median)")
    args = parser.parse_args()
    sizes = sorted({int(size.replace("_", "")) for size in args.sizes.split(",") if size})
    url = os.environ.get("BENCH_GROWTH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="ERROR",
        ACCESS_LOG_LEVEL="WARNING",  # reads timed in-process: no line per request
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
        ALLOWED_HOSTS="testserver",
        # Tasks go to a broker nobody reads (badges for 10M members would take hours).
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
    )
    _ensure_database(url, fresh=args.fresh)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from referrals.models import Campaign

    generated = {}
    for size in sizes:
        if not Campaign.objects.filter(slug=_slug(size)).exists():
            generated[size] = _generate(size)
    campaigns = {size: Campaign.objects.get(slug=_slug(size)) for size in sizes}

    listed = ", ".join(f"{size:,}" for size in sizes)
    print(f"\nGrowth: {listed} members, PostgreSQL, {os.cpu_count()} cores")
    if generated:
        print(
            "\ngenerate_campaign (this run)      seconds   peak MB  goal (10M): <= 600 s, < 2048 MB"
        )
        for size, (seconds, peak_mb) in generated.items():
            print(f"  {size:>12,} members       {seconds:>9.1f} {peak_mb:>9.0f}")
    columns = {size: _measure(campaign, args.repeat) for size, campaign in campaigns.items()}
    names = list(next(iter(columns.values())))
    width = max(len(name) for name in names) + 2
    header = "".join(f"{f'{size:,}':>12}" for size in sizes)
    print(f"\nreads (ms, median of {args.repeat})".ljust(width) + header + "   largest/smallest")
    for name in names:
        values = [columns[size][name] for size in sizes]
        ratio = values[-1] / values[0] if values[0] else float("inf")
        verdict = "flat" if ratio <= FLAT else f"grows: {GROWS_WITH_ITS_ANSWER.get(name, '?')}"
        cells = "".join(f"{value:>12.2f}" for value in values)
        print(f"{name:<{width}}{cells}   {ratio:>5.2f}x {verdict}")
    biggest = {
        size: campaign.members.order_by("-downline_size").values_list("downline_size", flat=True)[0]
        for size, campaign in campaigns.items()
    }
    sizes_note = ", ".join(f"{size:,}: biggest downline {n:,}" for size, n in biggest.items())
    print(f"({sizes_note})")


def _slug(size: int) -> str:
    return f"growth-{size}"


def _ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.replace(parts.path, "/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _generate(size: int) -> tuple[float, float]:
    """Generate one size in a child process; its seconds and that process's peak memory (MB)."""
    started = time.monotonic()
    child = subprocess.Popen(
        [*MANAGE, "generate_campaign", "--members", str(size), "--slug", _slug(size)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"generate_campaign --members {size} failed ({child.returncode})")
    return time.monotonic() - started, usage.ru_maxrss / 1024  # Linux reports KB


def _measure(campaign, repeat: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from badges import services as badges
    from referrals import tree
    from referrals.models import Member
    from tests.helpers import make_marketer

    members = Member.objects.filter(campaign=campaign)
    biggest = members.order_by("-downline_size").first()
    typical = members.filter(downline_size__gte=50).order_by("downline_size", "pk").first()
    deepest = members.order_by("-depth", "pk").first()
    username = f"growth-mia-{campaign.pk}"
    marketer = get_user_model().objects.filter(username=username).first() or make_marketer(
        username, campaign
    )
    page = Client()
    page.force_login(marketer)
    token, _ = Token.objects.get_or_create(user=marketer)
    api = Client(headers={"Authorization": f"Token {token.key}"})
    badges.refresh_awards(member=biggest)
    award = list(biggest.awards.all())
    badge_url = f"/badges/{biggest.user.username}/{award[0].slug}.svg" if award else None

    def get(client, path: str):
        def run():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return run

    def uncached(run):
        def wrapped():
            cache.clear()
            run()

        return wrapped

    def sql(statement, params):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                cursor.fetchall()

        return run

    slug = campaign.slug
    reads = {
        "downline size of the biggest member (stored counter)": lambda: members.values_list(
            "downline_size", flat=True
        ).get(pk=biggest.pk),
        "ancestors of the deepest member (stored path)": sql(
            "SELECT id FROM referrals_member WHERE id = ANY(%s)", [deepest.ancestor_ids()]
        ),
        "direct invitees of the biggest, first 50": lambda: tree.direct_invitees(biggest),
        "members per generation below a typical member": uncached(
            lambda: tree.generations_below(typical)
        ),
        "top 10 members by downline": lambda: tree.top_members(campaign, limit=10),
        "dashboard campaign page": get(page, f"/dashboard/{slug}/"),
        "explorer: seed members JSON": get(page, f"/dashboard/{slug}/tree/roots.json"),
        "explorer: the biggest's invitees JSON": get(
            page, f"/dashboard/{slug}/tree/{biggest.pk}/invitees.json"
        ),
        "API members, first page": get(api, f"/api/v1/campaigns/{slug}/members/"),
        "API seed members with branches": get(api, f"/api/v1/campaigns/{slug}/members/?depth=0"),
    }
    if badge_url:
        reads["one badge render (cache emptied)"] = uncached(get(Client(), badge_url))
    for _ in range(3):  # warm: connections, the database's and the OS's page caches
        for run in reads.values():
            run()
    return {name: _median_ms(run, repeat) for name, run in reads.items()}


def _median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
