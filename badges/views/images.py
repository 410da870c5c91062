"""Badge faces: the most requested URLs on the site, hot-linked from blogs.

One indexed query reads what the badge shows (the version check); the
rendered bytes are cached under a key made of those values, so a repeat
request renders nothing, and a matching If-None-Match gets a 304.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse

from accounts.models import User
from referrals.models import Campaign, Member

from .. import render, rules
from ..models import Award, definition

CACHE_SECONDS = 60  # numbers on a badge update within a minute
RENDER_CACHE_SECONDS = 600
_FIELDS = (
    "id",
    "slug",
    "tier",
    "hidden",
    "revoked_at",
    "member__campaign_id",
    "member__campaign__name",
    "member__join_number",
    "member__inviter_id",
    "member__activated_invitee_count",
    "member__downline_size",
    "member__user__username",
    "member__user__display_name",
)
_VERSION_SQL = f"""
    SELECT a.id, a.slug, a.tier, a.hidden, a.revoked_at, m.campaign_id, c.name, m.join_number,
           m.inviter_id, m.activated_invitee_count, m.downline_size, u.username, u.display_name
    FROM {Award._meta.db_table} a
    JOIN {Member._meta.db_table} m ON m.id = a.member_id
    JOIN {User._meta.db_table} u ON u.id = m.user_id
    JOIN {Campaign._meta.db_table} c ON c.id = m.campaign_id
    WHERE u.username = %s AND a.slug = %s
    ORDER BY c.is_default DESC, m.id
    LIMIT 1
"""  # noqa: S608 - table names from our own models, values are parameters


def badge_svg(request, username: str, slug: str):
    return _badge(request, username, slug, "svg")


def badge_png(request, username: str, slug: str):
    return _badge(request, username, slug, "png")


def find_award_values(username: str, slug: str) -> dict | None:
    """The award a badge URL names (the user's default-campaign membership first).

    Hand-written SQL: this runs on every hit of the hottest URL, and building
    the same ORM query each time cost more than running it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL, [username, slug])
        row = cursor.fetchone()
    return dict(zip(_FIELDS, row, strict=True)) if row else None


def _badge(request, username: str, slug: str, ext: str) -> HttpResponse:
    style = request.GET.get("style", "flat")
    style = style if style in render.STYLES else "flat"
    scale = 2 if ext == "png" and request.GET.get("scale") == "2" else 1
    row = find_award_values(username, slug) if slug in rules.DEFAULTS else None
    found = row is not None and not row["hidden"] and not row["revoked_at"]
    values = tuple(sorted(row.items())) if found else ("not-found",)
    version = hashlib.sha256(repr((values, style, ext, scale)).encode()).hexdigest()[:32]
    etag = f'"{version}"'
    status = 200 if found else 404
    if found and etag in _etags(request):
        return _headers(HttpResponse(status=304), ext, etag)
    key = f"badge:{version}"
    body = cache.get(key)
    if body is None:
        svg = _render(row, style) if found else render.not_found_svg(style=style)
        body = svg.encode() if ext == "svg" else render.badge_png(svg, scale=scale)
        cache.set(key, body, RENDER_CACHE_SECONDS)
    return _headers(HttpResponse(body, status=status), ext, etag)


def _etags(request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {tag.strip() for tag in header.split(",") if tag.strip()}


def _render(row: dict, style: str) -> str:
    campaign = Campaign.objects.prefetch_related("badge_settings").get(
        pk=row["member__campaign_id"]
    )
    badge = definition(campaign, row["slug"])
    facts = rules.Facts(
        join_number=row["member__join_number"],
        is_seed=row["member__inviter_id"] is None,
        activated_invitees=row["member__activated_invitee_count"],
        downline=row["member__downline_size"],
    )
    label, value = rules.face(row["slug"], facts, row["tier"], campaign.name, badge.name)
    who = row["member__user__display_name"] or row["member__user__username"]
    return render.badge_svg(
        label=label, value=value, color=badge.color, style=style, title=f"{who}: {label} · {value}"
    )


def _headers(response: HttpResponse, ext: str, etag: str) -> HttpResponse:
    response["Content-Type"] = "image/svg+xml" if ext == "svg" else "image/png"
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response["ETag"] = etag
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response
