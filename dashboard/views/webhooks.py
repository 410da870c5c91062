"""/dashboard/<slug>/webhooks/: a campaign's endpoints and their recent deliveries, for marketers.

The same guards as the rest of the dashboard (dashboard.guards.managed):
logged in, a marketer, and running this campaign, else 404. Endpoints are always
looked up within that campaign, so another campaign's endpoint ids are a 404 too.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webhooks import services
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint

from ..guards import managed

RECENT_DELIVERIES = 20
# The pk of the endpoint just created: its secret is shown on the next page view only.
REVEAL_SESSION_KEY = "webhooks_reveal_endpoint"

# Shown on the page and executed by the tests against a real delivery.
VERIFY_SNIPPET = f'''import hashlib
import hmac


def is_from_passalong(raw_body: bytes, signature_header: str, secret: str) -> bool:
    """True if the request's {services.SIGNATURE_HEADER} header matches its raw body."""
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header or "")
'''


class DashboardEndpointForm(EndpointForm):
    """The admin's form (URL checked against SSRF, events as checkboxes) minus admin-only fields."""

    class Meta(EndpointForm.Meta):
        fields = ["url", "events", "description"]
        labels = {"description": "Note (optional)"}

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["url"].label = "Receiver URL"
        self.fields["url"].help_text = "Public http(s) URL; we POST signed JSON to it."
        self.fields["url"].widget.attrs["placeholder"] = "https://example.com/hooks/passalong"
        self.fields["events"].error_messages["required"] = "Pick at least one event."

    def clean_events(self) -> list[str]:
        return sorted(set(self.cleaned_data["events"]))

    def clean(self):
        cleaned = super().clean()
        url = cleaned.get("url")
        if url and Endpoint.objects.filter(campaign=self.campaign, url=url).exists():
            self.add_error("url", ALREADY_THERE)
        return cleaned


ALREADY_THERE = "This campaign already sends its events to that URL."


def _with_recent_deliveries(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Attach each endpoint's newest deliveries as `.recent` in one query, whatever their count.

    The endpoints' query annotated each with the id of its 20th newest delivery
    (an index probe on (endpoint, -id)); one query then reads every endpoint's
    id range at once. A window function would rank all of an endpoint's
    deliveries, a million for a busy campaign, to keep twenty.
    """
    for endpoint in endpoints:
        endpoint.recent = []
    if not endpoints:
        return endpoints
    ranges = Q()
    for endpoint in endpoints:
        if endpoint.oldest_recent_id is None:  # fewer than twenty: all of them
            ranges |= Q(endpoint_id=endpoint.pk)
        else:
            ranges |= Q(endpoint_id=endpoint.pk, id__gte=endpoint.oldest_recent_id)
    by_id = {endpoint.pk: endpoint for endpoint in endpoints}
    for delivery in Delivery.objects.filter(ranges).select_related("event").order_by("-id"):
        by_id[delivery.endpoint_id].recent.append(delivery)
    return endpoints


def _endpoints_of(campaign) -> list[Endpoint]:
    oldest_recent = (
        Delivery.objects.filter(endpoint=OuterRef("pk"))
        .order_by("-id")
        .values("id")[RECENT_DELIVERIES - 1 : RECENT_DELIVERIES]
    )
    endpoints = list(
        Endpoint.objects.filter(campaign=campaign)
        .annotate(oldest_recent_id=Subquery(oldest_recent))
        .order_by("-created_at", "-id")
    )
    return _with_recent_deliveries(endpoints)


@managed
def webhooks(request, campaign):
    form = DashboardEndpointForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        endpoint.campaign = campaign
        endpoint.created_by = request.user
        try:
            with transaction.atomic():
                endpoint.save()
        except IntegrityError:  # the same form, posted twice at once
            form.add_error("url", ALREADY_THERE)
        else:
            request.session[REVEAL_SESSION_KEY] = endpoint.pk
            messages.success(request, f"Webhook endpoint {endpoint.url} added.")
            return redirect("dashboard_webhooks", campaign.slug)
    reveal_id = request.session.pop(REVEAL_SESSION_KEY, None) if request.method == "GET" else None
    endpoints = _endpoints_of(campaign)
    revealed = next((e for e in endpoints if e.pk == reveal_id), None)
    return render(
        request,
        "dashboard/webhooks.html",
        {
            "campaign": campaign,
            "current": "webhooks",
            "form": form,
            "endpoints": endpoints,
            "revealed": revealed,
            "recent_deliveries": RECENT_DELIVERIES,
            "verify_snippet": VERIFY_SNIPPET,
            "signature_header": services.SIGNATURE_HEADER,
            "event_header": services.EVENT_HEADER,
            "delivery_header": services.DELIVERY_HEADER,
        },
        status=400 if form.is_bound else 200,
    )


def _set_active(request, campaign, endpoint_id: int, *, active: bool):
    changed = Endpoint.objects.filter(campaign=campaign, pk=endpoint_id).update(is_active=active)
    if not changed:
        raise Http404("No such webhook endpoint")
    if active:
        messages.success(request, "Endpoint resumed: new events are delivered to it again.")
    else:
        messages.success(request, "Endpoint paused: it receives nothing until you resume it.")
    return redirect("dashboard_webhooks", campaign.slug)


@require_POST
@managed
def pause(request, campaign, endpoint_id: int):
    return _set_active(request, campaign, endpoint_id, active=False)


@require_POST
@managed
def resume(request, campaign, endpoint_id: int):
    return _set_active(request, campaign, endpoint_id, active=True)


@require_POST
@managed
def delete(request, campaign, endpoint_id: int):
    endpoint = get_object_or_404(
        Endpoint.objects.only("id", "url"), campaign=campaign, pk=endpoint_id
    )
    url = endpoint.url
    endpoint.delete()  # its deliveries go with it
    messages.success(request, f"Webhook endpoint {url} deleted, with its delivery log.")
    return redirect("dashboard_webhooks", campaign.slug)


@require_POST
@managed
def ping(request, campaign, endpoint_id: int):
    endpoint = get_object_or_404(Endpoint, campaign=campaign, pk=endpoint_id)
    if not endpoint.is_active:
        messages.error(request, "That endpoint is paused: resume it before sending a test ping.")
        return redirect("dashboard_webhooks", campaign.slug)
    endpoint.campaign = campaign  # the ping's payload names the campaign; spare a query
    services.send_test_event(endpoint=endpoint)
    messages.success(
        request, f"Test ping queued for {endpoint.url}. Reload to see how the receiver answered."
    )
    return redirect("dashboard_webhooks", campaign.slug)
