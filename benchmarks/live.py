"""Live dashboards at scale: 50 open dashboards polling live.json once a second, at 1M members.

Reuses the tree benchmark's database (make bench runs this after it; or
BENCH_DATABASE_URL with a generated campaign) and prints, beside the
baseline of reloading the whole page, what one poll costs: its queries,
its latency under 50 concurrent pages, and the database's share.

Run: python -m benchmarks.live [--pages 50] [--seconds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/passalong_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="ERROR",
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
        ALLOWED_HOSTS="testserver",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dashboard import stats
    from referrals.models import Campaign, Member
    from tests.helpers import make_marketer

    campaign = Campaign.objects.exclude(is_default=True).order_by("-pk").first()
    if campaign is None:
        sys.exit("no generated campaign: run python -m benchmarks.tree first")
    if stats.current(campaign) is None:
        stats.refresh(campaign=campaign)
    from django.contrib.auth import get_user_model

    marketer = get_user_model().objects.filter(username="bench-mia").first() or make_marketer(
        "bench-mia", campaign
    )
    members = Member.objects.filter(campaign=campaign).count()
    base = f"/dashboard/{campaign.slug}/"

    def timed(client, path, repeat=5):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        return statistics.median(times)

    # Django clears the query log at each request's start: keep it for the counts.
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)
    client = Client()
    client.force_login(marketer)
    client.get(base)  # the session's daily write
    with CaptureQueriesContext(connection) as page_queries:
        client.get(base)
    with CaptureQueriesContext(connection) as poll_queries:
        client.get(base + "live.json")
    page_count, poll_count = len(page_queries), len(poll_queries)  # (views on the live log)
    request_started.connect(reset_queries)
    page_ms, poll_ms = timed(client, base), timed(client, base + "live.json", 20)

    # 50 open pages, each polling once a second.
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()

    def page_open(i: int) -> None:
        mine = Client()
        mine.force_login(marketer)
        next_at = time.monotonic() + (i / args.pages)
        while next_at < deadline:
            time.sleep(max(0.0, next_at - time.monotonic()))
            started = time.perf_counter()
            ok = mine.get(base + "live.json").status_code == 200
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                errors[0] += not ok
            next_at += 1.0
        connection.close()

    threads = [threading.Thread(target=page_open, args=(i,)) for i in range(args.pages)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0

    print(f"\nLive dashboard: {members:,} members, PostgreSQL, {os.cpu_count()} cores")
    print(f"{'per open page, per refresh':<44} {'baseline':>12} {'ours':>12}")
    print(f"{'':<44} {'(reload page)':>12} {'(live.json)':>12}")
    print(f"{'queries':<44} {page_count:>12} {poll_count:>12}")
    print(f"{'ms, one client (median)':<44} {page_ms:>12.1f} {poll_ms:>12.1f}")
    rate = len(latencies) / elapsed
    print(
        f"{args.pages} pages polling every second for {args.seconds:.0f} s: {rate:.0f} polls/s, "
        f"median {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, {errors[0]} errors"
    )


if __name__ == "__main__":
    main()
