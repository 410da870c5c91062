"""Celery tasks: one log line each (task, id, outcome, duration), under the request's id.

A task enqueued while a request (or another task) runs carries that request's
id in its message headers (before_task_publish); the worker binds it again
before the task runs (task_prerun), so the task's lines and the request's
share one id. A task run in-process (no broker) simply inherits it.
config.celery knows no app, so these handlers are connected from ops.apps.
"""

from __future__ import annotations

import logging
import time

from celery import signals

from . import metrics
from .logging import TASK_LOGGER, bind, current_request_id, is_sane_request_id, unbind

logger = logging.getLogger(TASK_LOGGER)

HEADER = "request_id"

# task id -> (when it started, the context to restore); a worker thread or an
# eager run inside a request pops its own entry.
_running: dict[str, tuple[float, dict]] = {}


def carry_request_id(headers: dict | None = None, **_) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def task_started(task_id: str | None = None, task=None, **_) -> None:
    # Custom message headers become attributes of the worker's task.request.
    carried = getattr(task.request, HEADER, None) if task is not None else None
    context = {"task_id": task_id}
    if is_sane_request_id(carried):
        context[HEADER] = carried
    _running[task_id] = (time.perf_counter(), bind(**context))


def task_finished(task_id: str | None = None, task=None, state: str | None = None, **_) -> None:
    started, tokens = _running.pop(task_id, (None, None))
    if started is None:
        return
    try:
        seconds = time.perf_counter() - started
        name = getattr(task, "name", None) or "unknown"
        # No state: the task's error left the tracer at once (run in-process, propagating).
        outcome = (state or "failure").lower()
        metrics.observe_task(task=name, outcome=outcome, seconds=seconds)
        logger.info(
            "task",
            extra={
                "task": name,
                "task_id": task_id,
                "outcome": outcome,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
    finally:
        unbind(tokens)


def keep_django_logging(loglevel: int | None = None, **_) -> None:
    """Connected to setup_logging, so Celery keeps settings.LOGGING (our JSON lines) as it is.

    `celery worker --loglevel=info` still shows more: the root logger takes the
    more talkative of that and LOG_LEVEL.
    """
    root = logging.getLogger()
    if isinstance(loglevel, int) and loglevel < root.level:
        root.setLevel(loglevel)


def connect() -> None:
    signals.before_task_publish.connect(carry_request_id, dispatch_uid="ops.carry_request_id")
    signals.task_prerun.connect(task_started, dispatch_uid="ops.task_started")
    signals.task_postrun.connect(task_finished, dispatch_uid="ops.task_finished")
    signals.setup_logging.connect(keep_django_logging, dispatch_uid="ops.keep_django_logging")
