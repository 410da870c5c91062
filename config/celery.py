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


def enqueue_on_commit(task, *args, what: str) -> None:
    """Queue `task(*args)` once the current transaction commits (at once outside one).

    The work is already recorded in the database (an outbox row, an uncounted
    member, a queued job), and every task has a periodic sweep behind it. So a
    broker that is down must not turn a committed request into an error: it is
    logged, and the sweep picks the work up.
    """

    def enqueue():
        try:
            task.delay(*args)
        except Exception:
            logger.warning(
                "could not enqueue %s; the periodic sweep will pick it up", what, exc_info=True
            )

    transaction.on_commit(enqueue)
