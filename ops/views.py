"""/metrics: Prometheus's text format, for a scraper holding the token or on an allowed network.

Off (404) unless METRICS_TOKEN or METRICS_ALLOW is set; with both, a scraper
needs both. A missing token is a 401, a wrong one or a network not on the
list a 403: never a 500, whatever the headers say.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.django import PrometheusDjangoView

from referrals.throttle import client_ip

from .collector import DatabaseCollector


class _ThisProcess:
    """This process's own metrics (not in multiprocess mode), beside the database's."""

    def collect(self):
        return REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    """What one scrape reads: every process's counts, then the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return registry


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


def _token_ok(request) -> bool | None:
    """None: no bearer token given; otherwise whether it is the right one (constant time)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return None
    return hmac.compare_digest(_digest(given.strip()), _digest(settings.METRICS_TOKEN))


def _network_ok(request) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except (KeyError, ValueError):  # no REMOTE_ADDR (a Unix socket), or not an address
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped  # an IPv4 client seen on a dual-stack socket
    return any(address in network for network in settings.METRICS_ALLOW)


def _refused(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@method_decorator(never_cache, name="dispatch")
class MetricsView(PrometheusDjangoView):
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        if not settings.METRICS_TOKEN and not settings.METRICS_ALLOW:
            raise Http404("Metrics are off: set METRICS_TOKEN or METRICS_ALLOW.")
        if settings.METRICS_ALLOW and not _network_ok(request):
            return _refused(403, "This network may not read the metrics.")
        if settings.METRICS_TOKEN:
            token_ok = _token_ok(request)
            if token_ok is None:
                return _refused(401, "Send the metrics token: Authorization: Bearer <token>.")
            if not token_ok:
                return _refused(403, "Wrong metrics token.")
        self.registry = scrape_registry()
        return super().dispatch(request, *args, **kwargs)


metrics = MetricsView.as_view()
