"""Every request: an id (X-Request-ID, echoed), its time by route, and one log line."""

from __future__ import annotations

import logging
import time

from django.utils.functional import SimpleLazyObject, empty

from . import metrics
from .logging import REQUEST_LOGGER, bind, request_id_from, route_of, unbind

logger = logging.getLogger(REQUEST_LOGGER)


class RequestMiddleware:
    """Names the request (a sane incoming X-Request-ID, else a new one), times it, logs it.

    The line has the route (the URL pattern's name), never the path or the query
    string: codes and signed addresses travel in those.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        tokens = bind(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            route, method = route_of(request), metrics.method_label(request.method)
            metrics.observe_request(
                route=route, method=method, status=response.status_code, seconds=seconds
            )
            logger.info(
                "request",
                extra={
                    "route": route,
                    "method": method,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "user_id": _user_id(request),
                },
            )
            response["X-Request-ID"] = request_id
            return response
        finally:
            unbind(tokens)


def _user_id(request) -> int | None:
    """The signed-in user's id if the request already knows it.

    Looking costs a session read and a query on requests that never asked (badge
    images, which carry no session state), so a user nobody loaded is not loaded here.
    """
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None
