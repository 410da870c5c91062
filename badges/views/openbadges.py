"""Open Badges 2.0: hosted Issuer, BadgeClass and Assertion documents, and baked images."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import zlib
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from referrals.models import Campaign

from .. import render
from ..models import Award, definition, recipient_hash
from .images import image_headers
from .pages import _award_for, describe

CONTEXT = "https://w3id.org/openbadges/v2"


def _abs(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"indent": 2})
    response["Content-Type"] = "application/ld+json"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def issuer(request):
    return _json(
        {
            "@context": CONTEXT,
            "type": "Issuer",
            "id": _abs("openbadges_issuer"),
            "name": "Passalong",
            "url": settings.SITE_URL,
            "email": settings.DEFAULT_FROM_EMAIL.split("<")[-1].rstrip(">"),
        }
    )


def badge_class(request, campaign_slug: str, slug: str):
    campaign = get_object_or_404(
        Campaign.objects.prefetch_related("badge_settings"), slug=campaign_slug
    )
    try:
        badge = definition(campaign, slug)
    except KeyError:
        raise Http404("No such badge") from None
    return _json(
        {
            "@context": CONTEXT,
            "type": "BadgeClass",
            "id": _abs("openbadges_badgeclass", campaign.slug, slug),
            "name": f"{badge.name} · {campaign.name}",
            "description": badge.description,
            "image": _abs("openbadges_image", campaign.slug, slug),
            "criteria": {"narrative": badge.description},
            "issuer": _abs("openbadges_issuer"),
        }
    )


def badge_class_image(request, campaign_slug: str, slug: str):
    campaign = get_object_or_404(
        Campaign.objects.prefetch_related("badge_settings"), slug=campaign_slug
    )
    try:
        badge = definition(campaign, slug)
    except KeyError:
        raise Http404("No such badge") from None
    svg = render.badge_svg(label=campaign.name, value=badge.name, color=badge.color)
    return image_headers(HttpResponse(svg, content_type="image/svg+xml"))


def salt_for(award: Award) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"award:{award.pk}".encode(), hashlib.sha256
    ).hexdigest()[:16]


def assertion_data(award: Award) -> dict:
    member = award.member
    email = member.user.email if member.user_id else ""
    salt = salt_for(award)
    return {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": award.assertion_id(),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": salt,
            "identity": recipient_hash(email, salt),
        },
        "badge": _abs("openbadges_badgeclass", member.campaign.slug, award.slug),
        "verification": {"type": "HostedBadge"},
        "issuedOn": award.awarded_at.isoformat(),
        "evidence": award.absolute_url(),
        "image": award.image_url("svg"),
    }


def assertion(request, award_id: int):
    award = get_object_or_404(
        Award.objects.select_related("member__user", "member__campaign"), pk=award_id
    )
    if award.hidden:
        raise Http404("No such assertion")
    if award.revoked_at:
        # Hosted verification: a revoked assertion answers 410 with revoked=true.
        return _json(
            {
                "@context": CONTEXT,
                "type": "Assertion",
                "id": award.assertion_id(),
                "revoked": True,
                "revocationReason": award.revoked_reason or "Revoked by the issuer",
            },
            status=410,
        )
    return _json(assertion_data(award))


def baked(request, username: str, slug: str, ext: str):
    """The badge image with its assertion baked in (Open Badges baking spec)."""
    if ext not in ("png", "svg"):
        raise Http404("Baked badges come as png or svg")
    award = _award_for(username, slug)
    if award.revoked_at:
        raise Http404("Revoked badges are not baked")
    info = describe(award)
    svg = render.badge_svg(label=info["label"], value=info["value"], color=info["badge"].color)
    data = json.dumps(assertion_data(award))
    if ext == "svg":
        body = bake_svg(svg, award.assertion_id(), data).encode()
        content_type = "image/svg+xml"
    else:
        body = bake_png(render.badge_png(svg, scale=2), data)
        content_type = "image/png"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{username}-{slug}.{ext}"'
    return image_headers(response)


def bake_svg(svg: str, assertion_url: str, assertion_json: str) -> str:
    head_end = svg.index(">", svg.index("<svg")) + 1
    opening = svg[:head_end]
    if "xmlns:openbadges" not in opening:
        opening = opening[:-1] + ' xmlns:openbadges="http://openbadges.org">'
    element = (
        f"<openbadges:assertion verify={quoteattr(assertion_url)}>"
        f"<![CDATA[{assertion_json.replace(']]>', ']]]]><![CDATA[>')}]]></openbadges:assertion>"
    )
    return opening + element + svg[head_end:]


def bake_png(png: bytes, assertion_json: str) -> bytes:
    """Insert an iTXt chunk with keyword "openbadges" right after IHDR."""
    text = b"openbadges\x00\x00\x00\x00\x00" + assertion_json.encode("utf-8")
    chunk = struct.pack(">I", len(text)) + b"iTXt" + text
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + text) & 0xFFFFFFFF)
    ihdr_end = 8 + 4 + 4 + 13 + 4
    return png[:ihdr_end] + chunk + png[ihdr_end:]
