"""The periodic jobs in-process, for `make run` without a broker (a light stand-in for beat).

With CELERY_BROKER_URL set, Celery beat runs CELERY_BEAT_SCHEDULE and none of
this starts. Without one (the embedded SQLite demo), tasks already run in the
request that queues them; this daemon thread, started by the dev server's
serving process, runs the same schedule, so the dashboard's figures refresh,
webhook retries go out and lost work is swept. It knows tasks by name only
(Celery's registry), so it imports no app.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from .celery import app

logger = logging.getLogger(__name__)
_started = threading.Event()


def run_due(due: dict[str, float], now: float) -> list[str]:
    """Run every scheduled job whose time has come; when each is due next. The jobs run."""
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if now < due.get(name, 0.0):
            continue
        try:
            app.tasks[entry["task"]].apply(throw=True)
            ran.append(name)
        except Exception:  # a failing job is logged; the others still run
            logger.exception("in-process periodic job %s failed", name)
        due[name] = now + float(entry["schedule"])
    return ran


def _loop() -> None:
    due: dict[str, float] = {}
    time.sleep(5)  # let the server come up first
    while True:
        run_due(due, time.monotonic())
        close_old_connections()  # this thread's connection, as after a request
        time.sleep(1)


def start_if_serving_without_broker() -> bool:
    """Start the thread in the dev server's serving process when no broker is configured."""
    if settings.CELERY_BROKER_URL or _started.is_set():
        return False
    if os.environ.get("RUN_MAIN") != "true" and not os.environ.get("PASSALONG_INPROCESS_BEAT"):
        return False  # not the runserver child (nor asked for): tests, commands, the reloader
    _started.set()
    threading.Thread(target=_loop, name="in-process-beat", daemon=True).start()
    return True
