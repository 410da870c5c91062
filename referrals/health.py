"""/healthz: can we reach the database and the broker, and how far behind are the folds?

`/healthz?ready` also fails while migrations are pending (a readiness probe:
send no traffic to a release whose schema is not there yet).
"""

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from kombu import Connection

from . import figures
from .models import Invite, Member

# Counting what the folds have yet to do stops here (the partial indexes make it cheap).
LAG_COUNT_CAP = 100_000


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool | None:
    if not settings.CELERY_BROKER_URL:
        return None  # tasks run in-process: nothing to reach
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True
    except Exception:
        return False


def fold_lag() -> dict:
    """Members the tree fold has not counted yet (and the oldest one's age), rows the figures
    fold has not counted yet; each count stops at LAG_COUNT_CAP."""
    uncounted = Member.objects.filter(tree_counted=False)
    oldest = uncounted.order_by("id").values_list("joined_at", flat=True).first()
    # Ordered as the partial indexes are: PostgreSQL cannot estimate "version <> counted"
    # and would otherwise scan the whole table for the LIMIT (230 ms at 1,000,000 members).
    due_members = Member.objects.filter(figures.DUE, tree_counted=True).order_by("campaign", "id")
    due_invites = Invite.objects.filter(figures.DUE).order_by("campaign", "id")
    return {
        "members_behind": uncounted[:LAG_COUNT_CAP].count(),
        "seconds_behind": round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0.0,
        "figures_rows_behind": due_members[:LAG_COUNT_CAP].count()
        + due_invites[:LAG_COUNT_CAP].count(),
    }


def _migrations_pending() -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@never_cache
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    body = {}
    if checks["database"]:
        body["fold"] = fold_lag()
        if "ready" in request.GET:
            checks["migrations"] = not _migrations_pending()
    healthy = all(ok is not False for ok in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks, **body},
        status=200 if healthy else 503,
    )
