"""The whole signup over HTTP: our invite signup beside django-allauth's own form.

Starts gunicorn as production does (`-c deploy/gunicorn.conf.py`: sync
workers, two per core; DEBUG=0 and the rest of the production settings,
Django's default password hasher) on PostgreSQL, with Redis as the cache
and the Celery broker (no worker takes the tasks) and a local SMTP sink
for allauth's confirmation e-mail, and drives it with concurrent clients for a bounded time. Each
client is a fresh browser per signup: GET the form (the CSRF cookie and
token), POST it with a new username and address, expect the 302 to "verify
your e-mail". Clients come from distinct addresses, as the TLS proxy of
production forwards them (TRUSTED_PROXY_COUNT=1, X-Forwarded-For), so
per-address rate limits count people, not the benchmark.

- ours: /accounts/signup/?code=… with a fresh one-use code of a seeded
  member: user, e-mail address, member, redemption, risk signals, the
  inviter's notice (outbox), a webhook event, the on-commit enqueue.
- allauth: /bench/allauth-signup/ (BENCHMARK_VIEWS=1 only): allauth's stock
  SignupView and SignupForm with an adapter that does not gate; the run
  checks that it made users and e-mail addresses and nothing of ours.

The two alternate in rounds in one server process; errors are responses
other than the expected ones (and failed connections), deadlocks are
PostgreSQL's own count (pg_stat_database) plus any in gunicorn's log.

Run: make bench (or python -m benchmarks.signup [--seconds N] [--clients C]).
Needs PostgreSQL: BENCH_SIGNUP_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/passalong_signup_bench (dropped and made
anew), and Redis: databases 11 (cache) and 14 (broker), flushed.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import client as http_client
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/passalong_signup_bench"
CACHE_URL = "redis://127.0.0.1:6379/11"
BROKER_URL = "redis://127.0.0.1:6379/14"
PORT = 8190
SMTP_PORT = 8199
PASSWORD = "a long unusual passphrase 42"
SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnop"
# deploy/gunicorn.conf.py's sync workers: WEB_CONCURRENCY, else two per core.
WORKERS = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
ALLAUTH_PATH = "/bench/allauth-signup/"
CPU_PARTS = ("web", "PostgreSQL")
VERIFY_PATH = "/accounts/confirm-email/"  # where both signups send a new account
CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def database_url() -> str:
    return os.environ.get("BENCH_SIGNUP_DATABASE_URL", DEFAULT_URL)


# --- The database, the server, the mail sink (benchmarks.load reuses these) ----------


@dataclass
class Seeded:
    """What prepare() made: one-use codes to sign up with, and pages to read."""

    codes: list[str]
    spare_codes: list[str]  # never redeemed: their /i/<code>/ pages stay open
    badge_paths: list[str]


def prepare(url: str, *, seeds: int = 200, environ: dict[str, str] | None = None) -> Seeded:
    """A new database: migrated, static files collected, `seeds` seed members of the default
    campaign with their join badges and all their invites (3 each), and one webhook endpoint.

    Sets Django up in this process with `environ` (default: tasks run here, no broker).
    """
    recreate_database(url)
    env = server_env(url, PORT)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    # DEBUG=0 serves static files through WhiteNoise's manifest, which pages need.
    subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(environ or _local_env(url))
    if not environ:
        os.environ.pop("CELERY_BROKER_URL", None)
    import django
    import redis

    django.setup()
    logging.disable(logging.INFO)  # this process's own request and task lines
    for db_url in (CACHE_URL, BROKER_URL):
        redis.Redis.from_url(db_url).flushdb()
    return _seed(seeds)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.replace(parts.path, "/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _local_env(url: str) -> dict[str, str]:
    """Django in this process, for seeding and checking: tasks run here (no broker)."""
    return {
        "DATABASE_URL": url,
        "CACHE_URL": CACHE_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "ERROR",
        "EMAIL_URL": "dummymail://",
    }


def _seed(seeds: int) -> Seeded:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from badges.models import Award
    from badges.tasks import award_new_members
    from referrals import services, tree
    from referrals.models import Campaign, Member
    from webhooks.models import Endpoint

    User = get_user_model()
    campaign = Campaign.default()
    with transaction.atomic():  # the fold (and join badges) run once, on commit
        for invite in services.create_seed_codes(campaign=campaign, count=seeds):
            n = invite.pk
            user = User.objects.create_user(f"seed{n}", f"seed{n}@example.com")  # no password
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            services.redeem_invite(code=invite.code, user=user)
    # Join numbers and join badges; with a broker and no worker their tasks wait, so run here.
    tree.fold_tree()
    award_new_members()
    # A marketer's receiver: every signup from now on writes its member.joined event and
    # delivery. Nothing is ever sent: no worker runs, and a loopback URL is refused anyway.
    Endpoint.objects.create(
        campaign=campaign, url="http://127.0.0.1:8198/passalong-hook", events=["member.joined"]
    )
    codes = [
        services.create_invite(member=member).code
        for member in Member.objects.filter(campaign=campaign).select_related("campaign")
        for _ in range(campaign.default_quota)
    ]
    awards = Award.objects.filter(member__campaign=campaign).values_list(
        "member__user__username", "slug"
    )
    spare = max(len(codes) // 20, 1)
    return Seeded(
        codes=codes[spare:],
        spare_codes=codes[:spare],
        badge_paths=[f"/badges/{username}/{slug}.svg" for username, slug in awards],
    )


def server_env(url: str, port: int) -> dict[str, str]:
    """The production settings, on loopback behind an imagined TLS proxy."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CACHE_URL": CACHE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "SITE_URL": f"https://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",  # loopback: no TLS terminator to redirect to
        "TRUSTED_PROXY_COUNT": "1",  # as in production: the proxy's X-Forwarded-For
        "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "BENCHMARK_VIEWS": "1",
        "LOG_LEVEL": "ERROR",
    }


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    """gunicorn as production runs it (docs/operations.md: deploy/gunicorn.conf.py, its
    workers and flags), on `port`; its error log (tracebacks, request lines) goes to `log`."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=server_env(url, port) | {"GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"gunicorn did not start; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class MailSink:
    """A local SMTP server that accepts every message and counts recipients by domain."""

    def __init__(self, port: int = SMTP_PORT):
        from aiosmtpd.controller import Controller

        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        with self._lock:
            for address in envelope.rcpt_tos:
                self.received[address.rsplit("@", 1)[-1]] += 1
        return "250 OK"

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def deadlocks(url: str) -> int:
    """PostgreSQL's own count of deadlocks detected in the bench database."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0])


# --- One visitor, one signup -------------------------------------------------------

_addresses = itertools.count(1)


def client_address() -> str:
    """A new address for each visitor, on a /24 no recent visitor had (198.18.0.0/15 is set
    aside for benchmarks: 512 networks), so that no risk signal sees one network bursting."""
    n = next(_addresses)
    return f"198.{18 + n % 512 // 256}.{n % 256}.{1 + n // 512 % 254}"


class Browser:
    """One visitor behind the proxy: its cookies (Secure ones too), its forwarded address."""

    def __init__(self, port: int, address: str | None = None):
        self.port = port
        self.address = address or client_address()
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        origin = f"https://127.0.0.1:{self.port}"
        headers = {
            "X-Forwarded-For": self.address,
            "X-Forwarded-Proto": "https",
            "User-Agent": "passalong-bench",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers |= {"Origin": origin, "Referer": origin + path}
        conn = http_client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, content


@dataclass
class Outcome:
    ok: bool
    seconds: float  # the POST's
    status: str


def signup(port: int, path: str, *, username: str, email: str, code: str = "") -> Outcome:
    """GET the signup form at `path`, then POST it; ok when it answers 302 to 'verify'."""
    browser = Browser(port)
    try:
        status, _, page = browser.request("GET", path + (f"?code={code}" if code else ""))
        token = CSRF_TOKEN.search(page)
        if status != 200 or token is None:
            return Outcome(False, 0.0, f"GET {status}")
        form = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "email": email,
            "username": username,
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
        if code:
            form["code"] = code
        started = time.perf_counter()
        status, headers, _ = browser.request("POST", path, form)
        seconds = time.perf_counter() - started
    except OSError as exc:
        return Outcome(False, 0.0, type(exc).__name__)
    ok = status == 302 and (headers.get("Location") or "").endswith(VERIFY_PATH)
    return Outcome(ok, seconds, str(status))


# --- Driving both ------------------------------------------------------------------


@dataclass
class Run:
    done: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    cpu: Counter[str] = field(default_factory=Counter)  # seconds: "web", "PostgreSQL"

    def add(self, other: Run) -> None:
        self.done += other.done
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.failures += other.failures
        self.cpu += other.cpu


def cpu_seconds(server: subprocess.Popen, database: str) -> Counter[str]:
    """CPU time so far of gunicorn's workers and of PostgreSQL's backends on `database`.

    What a signup costs whatever else the machine runs (the throughput is
    what it costs plus how much of the machine was left to us).
    """
    used: Counter[str] = Counter()
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    workers = set(children.read_text().split()) if children.exists() else set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.name in workers:
                kind = "web"
            elif f" {database} " in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                kind = "PostgreSQL"  # "postgres: 15/main: postgres <database> 127.0.0.1(…) idle"
            else:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            used[kind] += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except OSError:
            continue  # gone meanwhile
    return used


class Flows:
    """The two signups, with their own usernames, addresses and (ours) codes."""

    def __init__(self, port: int, codes: list[str]):
        self.port = port
        self._codes = iter(codes)
        self._lock = threading.Lock()
        self._n = itertools.count(1)

    def ours(self) -> Outcome:
        with self._lock:
            code = next(self._codes, None)
        if code is None:
            return Outcome(False, 0.0, "out of codes")
        n = next(self._n)
        return signup(
            self.port,
            "/accounts/signup/",
            username=f"inv{n}",
            email=f"inv{n}@invite.test",
            code=code,
        )

    def allauth(self) -> Outcome:
        n = next(self._n)
        return signup(self.port, ALLAUTH_PATH, username=f"aa{n}", email=f"aa{n}@allauth.test")


def drive(flow, *, clients: int, seconds: float) -> Run:
    """`clients` threads run `flow` back to back until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    run = Run()

    def client() -> None:
        while time.monotonic() < deadline:
            outcome = flow()
            with lock:
                if outcome.ok:
                    run.done += 1
                    run.latencies.append(outcome.seconds)
                else:
                    run.failures[outcome.status] += 1
                    if outcome.status == "out of codes":
                        return

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(client)
    run.seconds = time.monotonic() - started
    return run


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def _made(prefix: str) -> dict[str, int]:
    """What the signups named `prefix…` left in the database."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from referrals.models import Member, OutboundEmail, Redemption
    from webhooks.models import Event

    users = get_user_model().objects.filter(username__startswith=prefix)
    members = Member.objects.filter(user__in=users)
    return {
        "users": users.count(),
        "e-mail addresses": EmailAddress.objects.filter(user__in=users).count(),
        "members": members.count(),
        "redemptions": Redemption.objects.filter(member__in=members).count(),
        "inviter notices": OutboundEmail.objects.filter(subject_member__in=members).count(),
        "webhook events": Event.objects.filter(
            key__in=[f"member.joined:{pk}" for pk in members.values_list("pk", flat=True)]
        ).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0, help="measured, per signup kind")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two kinds")
    args = parser.parse_args()
    url = database_url()
    seeded = prepare(url, seeds=200)
    log = Path(tempfile.mkdtemp(prefix="passalong-signup-bench-")) / "gunicorn.log"
    flows = Flows(PORT, seeded.codes)
    runs = {"ours": Run(), "allauth": Run()}
    with MailSink() as sink:
        server = start_server(url, PORT, log)
        try:
            before = deadlocks(url)
            for kind in runs:  # warm every worker up (imports, templates, connections)
                drive(getattr(flows, kind), clients=args.clients, seconds=2)
            sink.received.clear()
            warm = {kind: _made(prefix) for kind, prefix in (("ours", "inv"), ("allauth", "aa"))}
            # ABBA…: each kind goes first as often as second, so that a machine
            # getting busier or quieter during the run favours neither.
            database = urlsplit(url).path.lstrip("/")
            for round_ in range(args.rounds):
                for kind in ("ours", "allauth")[:: 1 if round_ % 2 == 0 else -1]:
                    cpu = cpu_seconds(server, database)
                    step = drive(
                        getattr(flows, kind),
                        clients=args.clients,
                        seconds=args.seconds / args.rounds,
                    )
                    step.cpu = cpu_seconds(server, database) - cpu
                    runs[kind].add(step)
        finally:
            stop_server(server)  # its connections close, so PostgreSQL's counters are final
        time.sleep(1.5)
        locked = deadlocks(url) - before
    logged = log.read_text(errors="replace").count("deadlock detected")
    import redis

    queued = redis.Redis.from_url(BROKER_URL).llen("celery")
    made = {kind: _made(prefix) for kind, prefix in (("ours", "inv"), ("allauth", "aa"))}
    for kind in made:
        made[kind] = {k: v - warm[kind][k] for k, v in made[kind].items()}
    mails = {"ours": sink.received["invite.test"], "allauth": sink.received["allauth.test"]}
    _report(args, runs, made, mails, queued, locked, logged, log)
    for db_url in (CACHE_URL, BROKER_URL):
        redis.Redis.from_url(db_url).flushdb()


def _report(args, runs, made, mails, queued, locked, logged, log) -> None:
    rate = {kind: run.done / run.seconds if run.seconds else 0.0 for kind, run in runs.items()}
    print(
        f"\nSignup over HTTP: gunicorn -c deploy/gunicorn.conf.py ({WORKERS} sync workers), "
        f"DEBUG=0, PostgreSQL, Django's default hasher; {args.clients} clients, "
        f"{args.seconds:.0f} s each in {args.rounds} rounds; {os.cpu_count()} cores shared"
    )
    print(f"{'signup':<44} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind, label in (
        ("allauth", "baseline: allauth's own form, no gate"),
        ("ours", "ours: invite signup (code, member, ...)"),
    ):
        run = runs[kind]
        print(
            f"{label:<44} {rate[kind]:>7.2f} {percentile(run.latencies, 50) * 1000:>8.0f} "
            f"{percentile(run.latencies, 99) * 1000:>8.0f} {sum(run.failures.values()):>7}"
        )
    ratio = rate["ours"] / rate["allauth"] if rate["allauth"] else float("nan")
    print(f"ratio ours / allauth: {ratio:.2f} (goal >= 0.80)")
    cost = {
        kind: {part: run.cpu[part] * 1000 / run.done if run.done else 0.0 for part in CPU_PARTS}
        for kind, run in runs.items()
    }
    print(
        "CPU per signup (its GET and POST), ms, gunicorn workers | PostgreSQL backends: "
        + "; ".join(
            f"{kind} {cost[kind]['web']:.0f} | {cost[kind]['PostgreSQL']:.0f}"
            for kind in ("allauth", "ours")
        )
    )
    per = {kind: sum(cost[kind].values()) for kind in cost}
    if per["ours"]:
        print(
            f"ratio by CPU per signup (less moved by whatever else the machine runs): "
            f"{per['allauth'] / per['ours']:.2f}"
        )
    print(f"deadlocks: {locked} (PostgreSQL's count), {logged} in gunicorn's log (goal 0)")
    for kind, run in runs.items():
        if run.failures:
            print(f"  {kind} failures: {dict(run.failures)} (tracebacks: {log})")
    print("\nWhat the measured signups made (p50/p99 are of the POST)")
    print(f"{'':<20} {'allauth':>9} {'ours':>9}")
    rows = [*made["ours"], "confirmation e-mails"]
    for row in rows:
        values = [
            mails[kind] if row == "confirmation e-mails" else made[kind][row]
            for kind in ("allauth", "ours")
        ]
        print(f"{row:<20} {values[0]:>9} {values[1]:>9}")
    print(f"tasks queued for a worker (all runs): {queued}")


if __name__ == "__main__":
    main()
