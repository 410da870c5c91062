"""Where one signup's milliseconds go: pyinstrument over the POST, ours beside allauth's.

The same database, settings and mail sink as benchmarks.signup (PostgreSQL,
DEBUG=0, Redis cache and broker with no worker, SMTP on loopback, Django's
default hasher, a TLS proxy's X-Forwarded-For), but in this process through
Django's test client with CSRF checks on, so the profiler sees the whole
request: middleware, allauth's view and form, our gate and redemption, the
confirmation e-mail, the commit and its enqueues, the session.

Prints, per signup kind, the milliseconds of one POST by step (each sample
goes to the first step of STEPS found on its stack) and by what it waited on,
and writes pyinstrument's own call tree of each to a text file.

Run: python -m benchmarks.profile_signup [--signups N] (about a minute).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import defaultdict
from pathlib import Path

from benchmarks.signup import (
    ALLAUTH_PATH,
    CSRF_TOKEN,
    PASSWORD,
    PORT,
    MailSink,
    client_address,
    database_url,
    prepare,
    server_env,
)

# (step, test on one stack frame's "function file" text), most specific first:
# a sample belongs to the first step any frame of its stack matches.
STEPS = [
    ("password hashing (PBKDF2)", lambda f: "django/contrib/auth/hashers.py" in f),
    ("password validators", lambda f: "password_validation.py" in f),
    ("confirmation e-mail (render + SMTP)", lambda f: f.startswith("send_confirmation ")),
    ("enqueue on commit (Redis)", lambda f: "config/celery.py" in f),
    ("webhook event", lambda f: "webhooks/services.py" in f),
    ("inviter's notice (outbox row)", lambda f: f.startswith("queue_notice ")),
    ("risk signals", lambda f: "referrals/credit.py" in f),
    ("leak check", lambda f: "referrals/leaks.py" in f),
    ("redemption: claim, member, redemption, event", lambda f: f.startswith("redeem_invite ")),
    ("gate: the code's lookup and checks", lambda f: f.startswith("clean_code ")),
    ("our throttles (cache)", lambda f: "referrals/throttle.py" in f),
    # (its decorator wraps the whole view: only the counting itself)
    ("allauth rate limit (cache)", lambda f: f.startswith(("consume ", "_consume_single_rate "))),
    ("campaign lookups (Campaign.default)", lambda f: f.startswith("default ")),
    ("form validation (allauth: username, e-mail)", lambda f: f.startswith("full_clean ")),
    ("user + e-mail address rows", lambda f: f.startswith(("save_user ", "setup_user_email "))),
    ("allauth: login stages after the signup", lambda f: "allauth/account/stages.py" in f),
    ("commit", lambda f: f.startswith("__exit__ ") and "django/db/transaction.py" in f),
    ("session", lambda f: "django/contrib/sessions/" in f),
    ("template rendering", lambda f: "django/template/" in f),
]
# The views' entry points: what is not under one of them is middleware.
VIEWS = ("dispatch ", "allauth_signup ")
# What the time was spent on, by the innermost frame that says.
WAITS = [
    ("PostgreSQL (psycopg)", ("/psycopg/",)),
    ("Redis", ("/redis/",)),
    ("SMTP", ("smtplib.py",)),
    ("hashing (C)", ("hashers.py",)),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=30, help="profiled, per kind")
    args = parser.parse_args()
    url = database_url()
    environ = server_env(url, PORT) | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    seeded = prepare(url, seeds=50, environ=environ)
    from pyinstrument import Profiler

    out = Path(tempfile.mkdtemp(prefix="passalong-signup-profile-"))
    codes = iter(seeded.codes)
    with MailSink():
        for _ in range(5):  # warm up: imports, templates, connections
            _signup("warm", next(codes))
            _signup("warm", "")
        profilers = {"allauth": Profiler(interval=0.0005), "ours": Profiler(interval=0.0005)}
        for _ in range(args.signups):  # alternately, so that both see the same machine
            _signup("allauth", "", profilers["allauth"])
            _signup("ours", next(codes), profilers["ours"])
        reports = {}
        for kind, profiler in profilers.items():
            session = profiler.last_session
            reports[kind] = _breakdown(session, args.signups)
            (out / f"{kind}.txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False)
            )
            session.save(out / f"{kind}.pyisession")  # pyinstrument --load=… to explore
    _print(reports, args.signups, out)


_numbers = iter(range(1, 10**9))


def _signup(kind: str, code: str, profiler=None) -> None:
    from django.test import Client

    client = Client(
        enforce_csrf_checks=True,
        HTTP_X_FORWARDED_FOR=client_address(),
        HTTP_ORIGIN="https://testserver",
    )
    path = "/accounts/signup/" if code else ALLAUTH_PATH
    # secure=True: the proxy terminated TLS (the port and scheme Django sees).
    page = client.get(path + (f"?code={code}" if code else ""), secure=True)
    n = next(_numbers)
    form = {
        "csrfmiddlewaretoken": CSRF_TOKEN.search(page.content).group(1).decode(),
        "email": f"{kind}{n}@profile.test",
        "username": f"{kind}{n}",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    if code:
        form["code"] = code
    if profiler:
        profiler.start()
    response = client.post(path, form, secure=True)
    if profiler:
        profiler.stop()
    assert response.status_code == 302, (response.status_code, response.content[:2000])


def _breakdown(session, signups: int) -> dict:
    steps: dict[str, float] = defaultdict(float)
    waits: dict[str, float] = defaultdict(float)
    for stack, seconds in session.frame_records:
        frames = [_text(identifier) for identifier in stack]
        step = next((name for name, test in STEPS for frame in frames if test(frame)), None)
        if step is None:
            in_view = any(frame.startswith(VIEWS) for frame in frames)
            step = "the rest of the view (allauth, Django)" if in_view else "middleware"
        steps[step] += seconds
        wait = next(
            (
                name
                for frame in reversed(frames)
                for name, needles in WAITS
                if any(needle in frame for needle in needles)
            ),
            "Python",
        )
        waits[wait] += seconds
    per = 1000 / signups
    return {
        "steps": {k: v * per for k, v in steps.items()},
        "waits": {k: v * per for k, v in waits.items()},
        "total": session.duration * per,
    }


def _text(identifier: str) -> str:
    """'function path' from pyinstrument's 'function\\x00path\\x00line\\x01attrs'."""
    function, path, *_ = [*identifier.split("\x01")[0].split("\x00"), "", ""]
    return f"{function} {path}"


def _print(reports: dict, signups: int, out: Path) -> None:
    base, ours = reports["allauth"], reports["ours"]
    print(
        f"\nOne signup POST, profiled (pyinstrument, {signups} signups each, ms per signup; "
        f"{os.cpu_count()} cores)"
    )
    print(f"{'step':<48} {'allauth':>9} {'ours':>9}")
    names = sorted(set(base["steps"]) | set(ours["steps"]), key=lambda k: -ours["steps"].get(k, 0))
    for name in names:
        print(f"{name:<48} {base['steps'].get(name, 0):>9.1f} {ours['steps'].get(name, 0):>9.1f}")
    print(f"{'total':<48} {base['total']:>9.1f} {ours['total']:>9.1f}")
    hashing = STEPS[0][0]
    rest = [report["total"] - report["steps"].get(hashing, 0) for report in (base, ours)]
    print(f"{'  everything but the hash':<48} {rest[0]:>9.1f} {rest[1]:>9.1f}")
    print(f"\n{'waiting on':<48} {'allauth':>9} {'ours':>9}")
    for name in [*(n for n, _ in WAITS), "Python"]:
        print(f"{name:<48} {base['waits'].get(name, 0):>9.1f} {ours['waits'].get(name, 0):>9.1f}")
    print(f"\npyinstrument's call trees and sessions: {out}/{{allauth,ours}}.{{txt,pyisession}}")


if __name__ == "__main__":
    main()
