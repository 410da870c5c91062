"""A mixed load on the production server: 90% badge hits, 8% invite and landing pages, 2% signups.

The signup benchmark's database and server (benchmarks.signup: PostgreSQL,
gunicorn as production runs it, Redis as cache and broker with no worker,
a local SMTP sink, Django's default hasher), driven by
locust from the bench environment (.venv-bench, headless, loopback only)
for a bounded time with `--users` visitors at `--rate` tasks a second each
(benchmarks/locustfile.py says what a task is). Prints requests/s, p50 and
p99 per route and the errors (any unexpected answer, failed connection or
PostgreSQL deadlock). Goal: 0 errors, p99 < 250 ms.

Run: make bench (or python -m benchmarks.load [--seconds 60] [--users 20] [--rate 2]).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.signup import (
    BROKER_URL,
    CACHE_URL,
    PORT,
    WORKERS,
    Browser,
    MailSink,
    database_url,
    deadlocks,
    prepare,
    signup,
    start_server,
    stop_server,
)

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
P99_GOAL_MS = 250
WARM_CLIENTS = 2 * WORKERS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=20, help="concurrent visitors")
    parser.add_argument("--rate", type=float, default=2.0, help="tasks a second per visitor")
    parser.add_argument("--locust", type=Path, default=LOCUST, help="the bench env's locust")
    args = parser.parse_args()
    if not args.locust.exists():
        sys.exit(f"{args.locust} is missing: make bench installs requirements-bench.txt there")
    url = database_url()
    seeded = prepare(url, seeds=200)
    warm_codes, seeded.codes = seeded.codes[: WARM_CLIENTS * 2], seeded.codes[WARM_CLIENTS * 2 :]
    scratch = Path(tempfile.mkdtemp(prefix="passalong-load-"))
    data = scratch / "data.json"
    data.write_text(
        json.dumps(
            {
                "badge_paths": seeded.badge_paths,
                "spare_codes": seeded.spare_codes,
                "codes": seeded.codes,
            }
        )
    )
    with MailSink():
        server = start_server(url, PORT, scratch / "gunicorn.log")
        try:
            _warm_up(seeded, warm_codes)
            before = deadlocks(url)
            locust = subprocess.run(
                [
                    str(args.locust),
                    "-f",
                    str(ROOT / "benchmarks" / "locustfile.py"),
                    "--headless",
                    "--host",
                    f"http://127.0.0.1:{PORT}",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.users),
                    "--run-time",
                    f"{args.seconds}s",
                    "--csv",
                    str(scratch / "locust"),
                    "--only-summary",
                    "--loglevel",
                    "ERROR",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "PASSALONG_LOAD_DATA": str(data),
                    "PASSALONG_LOAD_RATE": str(args.rate),
                },
                capture_output=True,
                text=True,
                timeout=args.seconds + 120,
            )
        finally:
            stop_server(server)
        time.sleep(1.5)  # PostgreSQL's counters, once the server's connections closed
        locked = deadlocks(url) - before
    rows = _stats(scratch / "locust_stats.csv")
    if not rows:
        sys.exit(f"locust reported nothing:\n{locust.stdout[-3000:]}\n{locust.stderr[-3000:]}")
    logged = (scratch / "gunicorn.log").read_text(errors="replace").count("deadlock detected")
    _report(args, rows, _failures(scratch / "locust_failures.csv"), locked, logged)
    import redis

    for db_url in (CACHE_URL, BROKER_URL):
        redis.Redis.from_url(db_url).flushdb()


def _warm_up(seeded, codes: list[str]) -> None:
    """Every route a few times from several clients at once, so that each worker has
    imported and compiled what it needs before anything is measured (not counted)."""

    def client(n: int) -> None:
        for round_ in range(2):
            for path in [
                *seeded.badge_paths[n * 3 : n * 3 + 3],
                "/",
                f"/i/{seeded.spare_codes[0]}/",
            ]:
                Browser(PORT).request("GET", path)
            name = f"warm{n}x{round_}"
            signup(
                PORT,
                "/accounts/signup/",
                username=name,
                email=f"{name}@warm.test",
                code=codes[n * 2 + round_],
            )

    with ThreadPoolExecutor(WARM_CLIENTS) as pool:
        list(pool.map(client, range(WARM_CLIENTS)))


def _stats(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as stats:
        return list(csv.DictReader(stats))


def _failures(path: Path) -> list[dict]:
    return _stats(path)


def _report(args, rows, failures, locked, logged) -> None:
    print(
        f"\nMixed load: locust, {args.users} visitors at {args.rate:g} tasks/s each, "
        f"{args.seconds} s; gunicorn -c deploy/gunicorn.conf.py ({WORKERS} sync workers), DEBUG=0, "
        f"PostgreSQL, Django's default hasher; {os.cpu_count()} cores shared with locust"
    )
    print(f"{'route':<28} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", -int(r["Request Count"]))):
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"{name:<28} {int(row['Request Count']):>9} {float(row['Requests/s']):>7.1f} "
            f"{_ms(row['50%']):>7} {_ms(row['99%']):>7} {int(row['Failure Count']):>7}"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    errors = int(total["Failure Count"])
    pages = [r for r in rows if r["Name"] != "Aggregated" and not r["Name"].startswith("signup")]
    worst = max((_ms(r["99%"]) for r in pages), default=0)
    post = next((r for r in rows if r["Name"] == "signup: submit (POST)"), None)
    print(
        f"errors: {errors} (goal 0); deadlocks: {locked} (PostgreSQL's count), "
        f"{logged} in gunicorn's log (goal 0)"
    )
    print(f"worst p99 of the pages (badges, invite, landing): {worst} ms (goal < {P99_GOAL_MS} ms)")
    if post is not None:
        print(
            f"signup POST p99: {_ms(post['99%'])} ms: one PBKDF2 hash (1,000,000 iterations) "
            "is most of it"
        )
    for failure in failures:
        print(
            f"  {failure['Occurrences']}x {failure['Method']} {failure['Name']}: {failure['Error']}"
        )


def _ms(value: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        return 0


if __name__ == "__main__":
    main()
