"""oEmbed 1.0 provider for proof pages and public profiles (rich type, JSON only)."""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.views.decorators.clickjacking import xframe_options_exempt

from .. import render
from .pages import _award_for, describe, public_profile_awards

BADGE_HEIGHT = 20
GAP = 4  # px between the badges of a profile embed


@xframe_options_exempt  # an embed answer, meant for other sites
def oembed(request):
    if request.GET.get("format", "json") != "json":
        return HttpResponse("Only format=json is supported.", status=501, content_type="text/plain")
    url = request.GET.get("url", "")
    match = _resolve_own(url)
    if match is None:
        raise Http404("Not a page we serve")
    max_width = _positive(request.GET.get("maxwidth"))
    max_height = _positive(request.GET.get("maxheight"))
    if match.url_name == "badge_proof":
        award = _award_for(match.kwargs["username"], match.kwargs["slug"])
        if award.revoked_at:
            raise Http404("A revoked badge does not embed")  # its image is "not found"
        info = describe(award)
        html, width, height = _badge_html([info], max_width, max_height)
        title = info["alt"]
        author = info["award"].member.name
    elif match.url_name == "profile":
        infos = _profile_badges(match.kwargs["username"])
        html, width, height = _badge_html(infos, max_width, max_height)
        title = f"{match.kwargs['username']} on Passalong"
        author = match.kwargs["username"]
    else:
        raise Http404("Not an embeddable page")
    return JsonResponse(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": "Passalong",
            "provider_url": settings.SITE_URL,
            "title": title,
            "author_name": author,
            "html": html,
            "width": width,
            "height": height,
            "cache_age": 300,
        }
    )


def _resolve_own(url: str):
    site = urlsplit(settings.SITE_URL)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1": not a URL at all
        return None
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return None
    try:
        return resolve(parts.path)
    except Resolver404:
        return None


def _positive(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _badge_html(infos: list[dict], max_width: int | None, max_height: int | None):
    """Embed HTML: the badges as linked images, scaled down to fit maxwidth/maxheight.

    The gaps between badges scale with them, so badges and gaps together fit.
    """
    if not infos:
        raise Http404("Nothing to embed")
    sizes = [_svg_width(info) for info in infos]
    natural = sum(sizes) + GAP * (len(sizes) - 1)
    scale = 1.0
    if max_width and natural > max_width:
        scale = min(scale, max_width / natural)
    if max_height and max_height < BADGE_HEIGHT:
        scale = min(scale, max_height / BADGE_HEIGHT)
    # Rounding down keeps the sum of the parts within the scaled whole.
    height = max(1, math.floor(BADGE_HEIGHT * scale))
    gap = math.floor(GAP * scale)
    items = [
        {**info, "width": max(1, math.floor(w * scale)), "height": height}
        for info, w in zip(infos, sizes, strict=True)
    ]
    html = render_to_string("badges/oembed.html", {"items": items, "gap": gap}).strip()
    width = sum(i["width"] for i in items) + gap * (len(items) - 1)
    return html, width, height


_WIDTH = re.compile(r'<svg[^>]*\swidth="([\d.]+)"')


def _svg_width(info: dict) -> int:
    svg = render.badge_svg(label=info["label"], value=info["value"], color=info["badge"].color)
    found = _WIDTH.search(svg)
    return int(float(found.group(1))) if found else 120


def _profile_badges(username: str) -> list[dict]:
    # The same person and badges as the profile page itself.
    _person, _members, awards = public_profile_awards(username)
    return [describe(a) for a in awards]
