"""The dashboard's figures at 1M members: a full rebuild beside the fold of what changed.

Reuses the tree benchmark's database (make bench runs this after it; or
BENCH_DATABASE_URL with a generated campaign). Prints, in one run:

- the full rebuild (`referrals.figures.rebuild`, every contribution from the
  tables) and the old way, every figure by aggregate scans (`from_tables`);
- 1,000 new signups through the service path, then the fold of what they
  changed (`figures.fold_all`), and its speed-up over the full rebuild
  (goal: >= 100x);
- one signup's way to the dashboard: the tree fold and figures fold a
  worker runs after it (the figures are fresh once it returns);
- the campaign page (with generations and branches) and the API's stats.

Run: python -m benchmarks.figures
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/passalong_bench"
SIGNUPS = 1000


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="ERROR",
        ACCESS_LOG_LEVEL="WARNING",  # reads timed in-process: no line per request
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
        ALLOWED_HOSTS="testserver",
        # Tasks go to a broker nobody reads: the folds are run and timed here.
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from dashboard import stats
    from referrals import figures, services, tree
    from referrals.models import Campaign, Member
    from tests.helpers import make_marketer

    campaign = Campaign.objects.exclude(is_default=True).order_by("-pk").first()
    if campaign is None:
        sys.exit("no generated campaign: run python -m benchmarks.tree first")
    tree.fold_all()
    members = Member.objects.filter(campaign=campaign).count()

    def once(run) -> float:
        started = time.perf_counter()
        run()
        return (time.perf_counter() - started) * 1000

    rebuild_ms = once(lambda: figures.rebuild(campaign))
    scans_ms = once(lambda: stats.from_tables(campaign))

    # 1,000 signups under members spread over the tree, through the service path.
    User = get_user_model()
    inviters = list(
        Member.objects.filter(campaign=campaign)
        .order_by("?")
        .values_list("pk", flat=True)[:SIGNUPS]
    )
    tag = int(time.time())
    for n, pk in enumerate(inviters):
        inviter = Member.objects.select_related("campaign").get(pk=pk)
        Member.objects.filter(pk=pk).update(invites_left=5, can_invite=True)
        inviter.invites_left, inviter.can_invite = 5, True
        invite = services.create_invite(member=inviter)
        user = User.objects.create_user(f"bench-{tag}-{n}", f"bench-{tag}-{n}@example.com")
        services.redeem_invite(code=invite.code, user=user)
    tree.fold_all()
    fold_ms = once(figures.fold_all)

    # One more signup, then what a worker does before the dashboard shows it.
    inviter = Member.objects.select_related("campaign").get(pk=inviters[0])
    Member.objects.filter(pk=inviter.pk).update(invites_left=5)
    inviter.invites_left = 5
    invite = services.create_invite(member=inviter)
    user = User.objects.create_user(f"bench-{tag}-x", f"bench-{tag}-x@example.com")
    services.redeem_invite(code=invite.code, user=user)
    fresh_ms = once(tree.fold_tree)

    marketer = get_user_model().objects.filter(username="bench-mia").first() or make_marketer(
        "bench-mia", campaign
    )
    client = Client()
    client.force_login(marketer)
    token, _ = Token.objects.get_or_create(user=marketer)
    api = Client(headers={"Authorization": f"Token {token.key}"})

    def median_ms(c, path: str, repeat: int = 7) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert c.get(path).status_code == 200, path
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    page_ms = median_ms(client, f"/dashboard/{campaign.slug}/")
    api_ms = median_ms(api, f"/api/v1/campaigns/{campaign.slug}/stats/")

    def row(label: str, baseline: str = "", ours: str = "", note: str = "") -> None:
        print(f"{label:<60} {baseline:>10} {ours:>10}  {note}")

    print(f"\nDashboard figures: {members:,} members, PostgreSQL, {os.cpu_count()} cores")
    row("refresh (ms)", "baseline", "ours")
    row("full rebuild of every contribution (the repair)", "", f"{rebuild_ms:.0f}")
    row(
        f"after {SIGNUPS:,} signups: the fold of what changed",
        f"{rebuild_ms:.0f}",
        f"{fold_ms:.1f}",
        f"{rebuild_ms / fold_ms:,.0f}x the rebuild (goal >= 100x)",
    )
    row(
        "every figure by aggregate scans (the old refresh)",
        f"{scans_ms:.0f}",
        f"{fold_ms:.1f}",
        f"{scans_ms / fold_ms:,.0f}x",
    )
    row("one signup to fresh figures (a worker's tree + figures fold)", "", f"{fresh_ms:.1f}")
    row("\nread (ms, median of 7)", "", "ours")
    row("campaign page, with generations and branches", "", f"{page_ms:.1f}", "goal < 50")
    row("API /stats/, with generations and branches", "", f"{api_ms:.1f}")


if __name__ == "__main__":
    main()
