"""The Celery app, and the one way the site queues work for it.

Without CELERY_BROKER_URL, settings make tasks run in-process.
"""

import logging
import os

from celery import Celery
from django.db import transaction

logger = logging.getLogger("passalong.queue")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("passalong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task, *args, what: str, inline_if_down: bool = False) -> None:
    """Queue `task(*args)` once the current transaction commits (at once outside one).

    Usually the work is already recorded in the database (an outbox row, an
    uncounted member, a queued job) and a periodic sweep stands behind the
    task. So a broker that is down must not turn a committed request into an
    error: it is logged, and the sweep picks the work up.

    `inline_if_down`: for small, idempotent work that has nothing to sweep
    (an invite's "opened" event, a return visit's activation), a broker that
    is down runs the task here instead, so it is late by a request, never lost.
    """

    def enqueue():
        try:
            task.delay(*args)
        except Exception:
            if not inline_if_down:
                logger.warning(
                    "could not enqueue %s; the periodic sweep will pick it up", what, exc_info=True
                )
                return
            logger.warning("could not enqueue %s; running it in-process", what, exc_info=True)
            task.apply(args=args)

    transaction.on_commit(enqueue)
