"""Badge faces: the most requested URLs on the site, hot-linked from blogs.

One indexed query reads what the badge shows (the version check); the
rendered bytes are cached under a key made of those values, so a repeat
request renders nothing, and a matching If-None-Match gets a 304.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse

from referrals import events
from referrals.models import Campaign, Member

from .. import faces, fontwidths, render, rules
from ..models import Award, BadgeSetting, definition

# Badges reach the user only through Member.user, never by importing accounts.
_User = Member._meta.get_field("user").related_model

CACHE_SECONDS = 60  # numbers on a badge update within a minute
# Caches (nginx, a CDN, browsers) may show a badge this long past its minute while
# they fetch a fresh one, and for a day while the site is down.
STALE_WHILE_REVALIDATE_SECONDS = 60
STALE_IF_ERROR_SECONDS = 86_400
# Part of every ETag: a deploy that changes how badges look (the renderer or
# its font table) gives every badge a new tag, so caches fetch the new face.
_RENDERER_VERSION = hashlib.sha256(
    Path(render.__file__).read_bytes() + Path(fontwidths.__file__).read_bytes()
).hexdigest()[:12]
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
    "member__user_id",
    "member__user__username",
    "member__user__display_name",
    "setting__name",
    "setting__color",
)
_VERSION_SQL = f"""
    SELECT a.id, a.slug, a.tier, a.hidden, a.revoked_at, m.campaign_id, c.name, m.join_number,
           m.inviter_id, m.activated_invitee_count, m.downline_size, m.user_id, u.username,
           u.display_name, s.name, s.color
    FROM {Award._meta.db_table} a
    JOIN {Member._meta.db_table} m ON m.id = a.member_id
    JOIN {_User._meta.db_table} u ON u.id = m.user_id
    JOIN {Campaign._meta.db_table} c ON c.id = m.campaign_id
    LEFT JOIN {BadgeSetting._meta.db_table} s ON s.campaign_id = m.campaign_id AND s.slug = a.slug
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

    Everything the image shows is in the row, the campaign's own name and
    colour for the badge included, so the version changes when any of it does.

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
    # PostgreSQL refuses NUL in a query parameter: no user has one in their name.
    named = slug in rules.DEFAULTS and "\x00" not in username
    row = find_award_values(username, slug) if named else None
    found = row is not None and not row["hidden"] and not row["revoked_at"]
    values = tuple(sorted(row.items())) if found else ("not-found",)
    version = hashlib.sha256(
        repr((_RENDERER_VERSION, values, style, ext, scale)).encode()
    ).hexdigest()[:32]
    etag = f'"{version}"'
    status = 200 if found else 404
    if found and _matches(request, etag):
        return _headers(HttpResponse(status=304), ext, etag)
    key = f"badge:{version}"
    body = cache.get(key)
    events.publish(events.BADGE_SERVED, cached=body is not None)
    if body is None:
        svg = _render(row, style) if found else render.not_found_svg(style=style)
        body = svg.encode() if ext == "svg" else render.badge_png(svg, scale=scale)
        cache.set(key, body, RENDER_CACHE_SECONDS)
    return _headers(HttpResponse(body, status=status), ext, etag)


def _matches(request, etag: str) -> bool:
    """If-None-Match by the weak comparison (RFC 9110 13.1.2): W/"x" matches "x".

    Proxies that gzip (nginx) weaken our strong tag, and browsers send it back.
    """
    header = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags or "*" in tags


def _render(row: dict, style: str) -> str:
    campaign = Campaign.objects.prefetch_related("badge_settings").get(
        pk=row["member__campaign_id"]
    )
    badge = definition(campaign, row["slug"])
    shown = faces.face(
        award_slug=row["slug"],
        tier=row["tier"],
        member=_member_of(row, campaign),
        campaign=campaign,
        badge=badge,
    )
    return render.badge_svg(
        label=shown.label, value=shown.value, color=badge.color, style=style, title=shown.title
    )


def _member_of(row: dict, campaign: Campaign) -> Member:
    """The row's standing as an unsaved Member, so the face is built as the pages build it."""
    user = _User(
        pk=row["member__user_id"],
        username=row["member__user__username"],
        display_name=row["member__user__display_name"],
    )
    return Member(
        campaign=campaign,
        user=user,
        join_number=row["member__join_number"],
        inviter_id=row["member__inviter_id"],
        activated_invitee_count=row["member__activated_invitee_count"],
        downline_size=row["member__downline_size"],
    )


def _headers(response: HttpResponse, ext: str, etag: str) -> HttpResponse:
    response["Content-Type"] = "image/svg+xml" if ext == "svg" else "image/png"
    response["Cache-Control"] = (
        f"public, max-age={CACHE_SECONDS}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECONDS},"
        f" stale-if-error={STALE_IF_ERROR_SECONDS}"
    )
    response["ETag"] = etag
    return image_headers(response)


def image_headers(response: HttpResponse) -> HttpResponse:
    """Headers for an image other sites load: an SVG opened on its own runs nothing."""
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    # Other sites embed these: X-Frame-Options is for our own pages only.
    response.xframe_options_exempt = True
    return response
