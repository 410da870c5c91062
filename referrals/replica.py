"""Read-replica routing: the dashboard's, the exports' and the API's list reads go to a replica.

`DATABASE_REPLICA_URL` names the replica (the `replica` alias); unset, the
alias mirrors the primary and nothing is routed to it. Only views marked
with `@reads_from_replica` read from it, and only while:

- the request is a safe one (GET, HEAD): everything in a signup, a form
  post or an API write stays on the primary, reads included;
- no transaction is open on the primary: a read inside `atomic` may feed a
  write (a fold, a refresh), so it must see the primary's rows;
- the visitor has not just written: after a POST the browser is pinned to
  the primary for `REPLICA_PIN_SECONDS` (a cookie), so a marketer who just
  changed something sees it even if the replica lags.

Writes always go to the primary, and migrations run only there.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import StreamingHttpResponse

REPLICA = "replica"
PIN_COOKIE = "primary_reads"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


class ReplicaRouter:
    """Django's database router: reads to the replica inside `reads_from_replica`."""

    def db_for_read(self, model, **hints):
        if _reading_from_replica.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two doors

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def enabled() -> bool:
    return settings.REPLICA_READS


def reads_from_replica(view):
    """Serve this view's safe requests from the replica (a streamed body included)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _may_use_replica(request):
            return view(request, *args, **kwargs)
        previous = _reading_from_replica.set(True).old_value
        try:
            response = view(request, *args, **kwargs)
        finally:
            _reading_from_replica.set(previous is True)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _on_replica(response.streaming_content)
        return response

    return wrapper


def _may_use_replica(request) -> bool:
    return enabled() and request.method in SAFE_METHODS and PIN_COOKIE not in request.COOKIES


def _on_replica(chunks):
    """A streamed body's rows are read while it is sent, after the view returned."""
    # Set and unset around each chunk: a server may send it from another context.
    iterator = iter(chunks)
    while True:
        _reading_from_replica.set(True)
        try:
            chunk = next(iterator, _END)
        finally:
            _reading_from_replica.set(False)
        if chunk is _END:
            return
        yield chunk


_END = object()


class PinAfterWriteMiddleware:
    """After a write (any unsafe method), read from the primary for a while."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if enabled() and request.method not in SAFE_METHODS:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        return response
