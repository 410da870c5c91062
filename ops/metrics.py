"""What the web and worker processes count as it happens (prometheus-client).

Under gunicorn there are several worker processes, and Celery's are separate
again. With PROMETHEUS_MULTIPROC_DIR set, each process writes these counts
to its own files in that directory and /metrics adds them all up
(prometheus-client's multiprocess mode); without it they are this process's.
What the database already knows (e-mails, webhooks, the folds, frozen codes,
members) is not counted here but read when Prometheus scrapes: ops.collector.

The core apps never import this module: ops subscribes to what they publish
(referrals.events) and to Celery's and Django's signals.
"""

from __future__ import annotations

from django.db import transaction
from prometheus_client import Counter, Histogram, disable_created_metrics

from referrals import errors

# No `_created` series beside each counter: multiprocess mode has none either.
disable_created_metrics()

# Badge images answer in a few milliseconds; pages in tens.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
TASK_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_DURATION = Histogram(
    "passalong_http_request_duration_seconds",
    "Time from the request reaching Django to the response, by route (URL pattern name).",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS = Counter(
    "passalong_http_requests",
    "Requests answered, by route (URL pattern name), method and status code.",
    ["route", "method", "status"],
)
SIGNUPS = Counter(
    "passalong_signups",
    "Members who joined with an invite code (counted when the signup commits).",
)
REFUSALS = Counter(
    "passalong_invite_refusals",
    "Invite codes refused at the gate (landing page, signup, accept), by reason.",
    ["reason"],
)
BADGE_RENDER_CACHE = Counter(
    "passalong_badge_render_cache",
    "Badge images answered with a body, by whether the render cache had it (hit) or not (miss).",
    ["result"],
)
TASK_DURATION = Histogram(
    "passalong_task_duration_seconds",
    "Celery tasks run by processes writing to this PROMETHEUS_MULTIPROC_DIR, by outcome.",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)


def refusal_reasons() -> list[str]:
    """Every reason the gate can give (referrals.errors), so each series exists from zero."""
    found, pending = set(), [errors.InviteRefused]
    while pending:
        cls = pending.pop()
        found.add(cls.reason)
        pending.extend(cls.__subclasses__())
    return sorted(found)


for _reason in refusal_reasons():
    REFUSALS.labels(_reason)
for _result in ("hit", "miss"):
    BADGE_RENDER_CACHE.labels(_result)


def method_label(method: str | None) -> str:
    """The request's method, or "other" for anything made up (a label set must stay small)."""
    return method if method in METHODS else "other"


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_DURATION.labels(route, method).observe(seconds)
    REQUESTS.labels(route, method, str(status)).inc()


def observe_task(*, task: str, outcome: str, seconds: float) -> None:
    TASK_DURATION.labels(task, outcome).observe(seconds)


# --- referrals.events handlers (subscribed in ops.apps) --------------------------


def count_signup(*, member, **_) -> None:
    # Published inside the signup's transaction: a rolled-back signup counts nothing.
    transaction.on_commit(SIGNUPS.inc)


def count_refusal(*, reason: str, **_) -> None:
    REFUSALS.labels(reason).inc()


def count_badge_served(*, cached: bool, **_) -> None:
    BADGE_RENDER_CACHE.labels("hit" if cached else "miss").inc()
