"""Figures read from the database when Prometheus scrapes: the same answer from every process.

Each query is an index range or a one-row read, and every count stops at
LAG_COUNT_CAP like /healthz's fold lag, so a scrape stays cheap at 1,000,000
members: a count at the cap means "at least that many". Totals that only
grow (e-mails sent, webhooks delivered) are given over the last hour, which
an index bounds; members come from the figures the dashboard keeps.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from referrals.health import LAG_COUNT_CAP, fold_lag
from referrals.models import CampaignStats, Invite, OutboundEmail
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

RECENT = timedelta(hours=1)
EMAIL_WAITING = (OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING)
DELIVERY_WAITING = (Delivery.Status.PENDING, Delivery.Status.SENDING)


def _capped(queryset) -> int:
    return queryset[:LAG_COUNT_CAP].count()


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _by_label(name: str, documentation: str, label: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([str(key)], value)
    return family


def _first(queryset, field: str):
    """The smallest `field` in `queryset` (read off an index that starts with the filter)."""
    return queryset.order_by(field).values_list(field, flat=True).first()


def _age(since, now) -> float:
    return round(max((now - since).total_seconds(), 0.0), 1) if since else 0.0


def members() -> list[GaugeMetricFamily]:
    counted = dict(CampaignStats.objects.values_list("campaign__slug", "members"))
    return [
        _by_label(
            "passalong_members",
            "Members per campaign, as of the figures' last fold (see passalong_fold_*).",
            "campaign",
            counted,
        )
    ]


def folds() -> list[GaugeMetricFamily]:
    lag = fold_lag()
    return [
        _gauge(
            "passalong_fold_members_behind",
            "Members the tree fold has not counted yet.",
            lag["members_behind"],
        ),
        _gauge(
            "passalong_fold_lag_seconds",
            "Age of the oldest member the tree fold has not counted (0: none waiting).",
            lag["seconds_behind"],
        ),
        _gauge(
            "passalong_figures_rows_behind",
            "Member and invite rows the dashboard's figures fold has not counted yet.",
            lag["figures_rows_behind"],
        ),
    ]


def frozen_codes() -> list[GaugeMetricFamily]:
    # The partial index invite_frozen_idx holds only the frozen few.
    frozen = _capped(Invite.objects.filter(frozen_at__isnull=False))
    return [_gauge("passalong_invites_frozen", "Invite codes frozen right now.", frozen)]


def emails(now) -> list[GaugeMetricFamily]:
    rows = OutboundEmail.objects
    recent = {
        status: _capped(rows.filter(status=status, created_at__gte=now - RECENT))
        for status in OutboundEmail.Status.values
    }
    # outbox_status_idx (status, created_at): the oldest of each waiting status is one read.
    oldest = [_first(rows.filter(status=status), "created_at") for status in EMAIL_WAITING]
    oldest = min((since for since in oldest if since), default=None)
    return [
        _by_label(
            "passalong_emails_last_hour",
            "E-mails queued in the last hour, by what became of them.",
            "status",
            recent,
        ),
        _gauge(
            "passalong_emails_waiting",
            "E-mails not sent yet (pending, or being sent), of any age.",
            _capped(rows.filter(status__in=EMAIL_WAITING)),
        ),
        _gauge(
            "passalong_emails_failed",
            "E-mails that gave up (re-queue them from the admin), of any age.",
            _capped(rows.filter(status=OutboundEmail.Status.FAILED)),
        ),
        _gauge(
            "passalong_emails_oldest_waiting_seconds",
            "Age of the oldest e-mail not sent yet (0: none waiting).",
            _age(oldest, now),
        ),
    ]


def webhooks(now) -> list[GaugeMetricFamily]:
    rows = Delivery.objects
    # webhook_delivery_due_idx (status, next_attempt_at): a delivery's first attempt
    # is due when its event happened, a retry later.
    recent = {
        status: _capped(rows.filter(status=status, next_attempt_at__gte=now - RECENT))
        for status in Delivery.Status.values
    }
    overdue = _first(
        rows.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now), "next_attempt_at"
    )
    return [
        _by_label(
            "passalong_webhook_deliveries_last_hour",
            "Webhook deliveries due in the last hour (or retrying), by outcome.",
            "status",
            recent,
        ),
        _gauge(
            "passalong_webhook_deliveries_waiting",
            "Webhook deliveries not made yet (pending, or being posted), of any age.",
            _capped(rows.filter(status__in=DELIVERY_WAITING)),
        ),
        _gauge(
            "passalong_webhook_deliveries_failed",
            "Webhook deliveries that gave up after their last attempt, of any age.",
            _capped(rows.filter(status=Delivery.Status.FAILED)),
        ),
        _gauge(
            "passalong_webhook_oldest_overdue_seconds",
            "How long the most overdue pending delivery has been due (0: none overdue).",
            _age(overdue, now),
        ),
    ]


class DatabaseCollector(Collector):
    """The database's figures, read at each scrape; a database that is down is a 0, not a 500."""

    def collect(self):
        started = time.perf_counter()
        now = timezone.now()
        try:
            families = [*members(), *folds(), *frozen_codes(), *emails(now), *webhooks(now)]
            up = 1
        except DatabaseError:
            logger.warning("metrics: the database could not be read", exc_info=True)
            families, up = [], 0
        yield from families
        yield _gauge("passalong_database_up", "Whether this scrape could read the database.", up)
        yield _gauge(
            "passalong_scrape_database_seconds",
            "Time this scrape spent reading the database's figures.",
            round(time.perf_counter() - started, 4),
        )
