"""/healthz: can we reach the database and, when one is configured, the broker?"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection


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


@never_cache
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(ok is not False for ok in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
