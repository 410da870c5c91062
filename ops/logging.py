"""Logs an operator can query: one line per request and per task, JSON in production.

Everything still goes through the standard library's `logging` (Django's,
Celery's and our own records; pytest's caplog keeps working), and one
handler renders each record with structlog's ProcessorFormatter: a JSON
object per line (LOG_FORMAT=json, the default when DEBUG=0) or a readable
line for `make run` (plain). The request id bound here (structlog's
contextvars) is on every record logged while a request or a task runs.

Paths carry invite codes (/i/<code>/) and signed addresses (/no-invites/<token>/),
so no line has a path or a query string: requests are named by their route.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog

REQUEST_LOGGER = "passalong.request"
TASK_LOGGER = "passalong.task"

# What our own lines carry (logging's `extra`). Nothing else of a record is
# copied: an object a library attaches (Django attaches the `request`) never
# reaches a line, and neither does anything it would print.
FIELDS = ("route", "method", "status", "duration_ms", "user_id", "task", "task_id", "outcome")

# An incoming X-Request-ID is kept only when it looks like an id (nginx's
# $request_id, a UUID, a load balancer's trace id); anything else is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=-]{8,64}")


def is_sane_request_id(value: object) -> bool:
    return isinstance(value, str) and _SANE_REQUEST_ID.fullmatch(value) is not None


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID if it looks sane, else a fresh one."""
    return header if is_sane_request_id(header) else uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request (or the request's task) running in this context, if any."""
    return structlog.contextvars.get_contextvars().get("request_id")


def bind(**values: object) -> dict:
    """Put `values` on every record logged from here on; returns what `unbind` needs."""
    return structlog.contextvars.bind_contextvars(**values)


def unbind(tokens: dict) -> None:
    """Put the context back as it was before `bind` (a task run eagerly inside a request)."""
    structlog.contextvars.reset_contextvars(**tokens)


def route_of(request) -> str:
    """A request's route (its URL pattern's name), never its path."""
    match = getattr(request, "resolver_match", None)
    # No pattern matched (a 404 for a made-up path, or a request stopped before
    # resolving): one label for all of them, so a path never becomes a name.
    return match.view_name if match is not None else "unresolved"


class HidePaths(logging.Filter):
    """Django's own request warnings read "Not Found: /i/<code>/"; say the route instead.

    Django attaches the request to those records (django.request, django.security.*):
    its path, wherever it appears in the message, becomes the route's name.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", "")
        if path:
            message = record.getMessage()
            if path in message:
                record.msg, record.args = message.replace(path, route_of(request)), ()
        return True


def formatter(renderer: str = "json") -> logging.Formatter:
    """structlog's ProcessorFormatter: JSON lines, or plain text ("plain") for `make run`."""
    if renderer == "json":
        render = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Plain tracebacks: a pretty one would print local variables (a password).
        render = [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=FIELDS),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
    )


def console_handler(renderer: str = "json", stream=None) -> logging.Handler:
    """The handler settings.LOGGING installs on the root logger (stderr by default)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(renderer))
    handler.addFilter(HidePaths())
    return handler


def skip_caller_lookup() -> None:
    """Our JSON lines carry no caller's file and line, so logging need not walk the stack
    for each record (the logging HOWTO's "Optimization"): a quarter of a request line's
    cost, paid on every badge hit. (Process and thread ids stay: gunicorn prints them.)"""
    logging._srcfile = None
