"""Public proof pages, public profiles, and the member's own badge page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from referrals.models import Member

from .. import door, embeds, faces
from ..forms import AskForInviteForm
from ..models import Award, InviteRequest, definition

# Badges reach the user only through Member.user, never by importing accounts.
_User = Member._meta.get_field("user").related_model


def _award_for(username: str, slug: str) -> Award:
    if "\x00" in username:  # PostgreSQL refuses NUL in a query; no username has one
        raise Http404("No such badge")
    award = (
        Award.objects.filter(member__user__username=username, slug=slug)
        .select_related("member__user", "member__campaign")
        .order_by("-member__campaign__is_default", "member_id")
        .first()
    )
    if award is None or award.hidden:
        raise Http404("No such badge")
    return award


def describe(award: Award) -> dict:
    """Everything a page shows about one award."""
    member = award.member
    badge = definition(member.campaign, award.slug)
    shown = faces.face(
        award_slug=award.slug,
        tier=award.tier,
        member=member,
        campaign=member.campaign,
        badge=badge,
    )
    image = award.image_url("svg")
    page = award.absolute_url()
    return {
        "award": award,
        "badge": badge,
        "label": shown.label,
        "value": shown.value,
        "image": image,
        "png": award.image_url("png"),
        "page": page,
        "alt": shown.alt,
        "snippets": embeds.snippets(image=image, page=page, alt=shown.alt),
        "oembed": _oembed_link(page),
    }


def public_profile_awards(username: str) -> tuple[Model, QuerySet[Member], QuerySet[Award]]:
    """The opted-in, active user a profile shows, their memberships and shown awards (lazy)."""
    if "\x00" in username:  # PostgreSQL refuses NUL in a query; no username has one
        raise Http404("No public profile")
    # Through the user model rather than Member, so an opted-in user with no
    # membership yet still has a (bare) profile.
    person = _User.objects.filter(username=username, public_profile=True, is_active=True).first()
    if person is None:
        raise Http404("No public profile")
    members = (
        Member.objects.filter(user=person)
        .select_related("campaign", "inviter__user")
        .order_by("id")
    )
    awards = (
        Award.objects.filter(member__user=person, hidden=False, revoked_at__isnull=True)
        .select_related("member__campaign", "member__user")
        .order_by("member_id", "slug")
    )
    return person, members, awards


def _oembed_link(page_url: str) -> str:
    return (
        settings.SITE_URL + reverse("oembed") + "?" + urlencode({"url": page_url, "format": "json"})
    )


def proof(request, username: str, slug: str):
    """The public page a badge links to: proof that the award is real (or was revoked)."""
    award = _award_for(username, slug)
    source = door.external_page(request.headers.get("Referer"))
    door.record_visit(member=award.member, page_url=source)
    context = describe(award)
    context["ask_form"] = AskForInviteForm(initial={"source": source})
    context["assertion"] = award.assertion_id()
    context["baked_png"] = reverse("badge_baked", args=[username, slug, "png"])
    context["baked_svg"] = reverse("badge_baked", args=[username, slug, "svg"])
    return render(request, "badges/proof.html", context)


def profile(request, username: str):
    """A member's public profile, only when they opted in."""
    person, members, awards = public_profile_awards(username)
    page = settings.SITE_URL + reverse("profile", args=[username])
    badges = [describe(a) for a in awards]
    return render(
        request,
        "badges/profile.html",
        {
            "person": person,
            "members": list(members),
            "badges": badges,
            "page": page,
            "oembed": _oembed_link(page),
            # Shared on a social site, the profile shows its first badge.
            "png": badges[0]["png"] if badges else "",
        },
    )


@login_required
def my_badges(request):
    awards = (
        Award.objects.filter(member__user=request.user, revoked_at__isnull=True)
        .select_related("member__campaign", "member__user")
        .order_by("member_id", "slug")
    )
    members = list(Member.objects.filter(user=request.user).select_related("campaign"))
    requests = InviteRequest.objects.filter(
        member__in=members, status=InviteRequest.Status.PENDING
    ).order_by("-created_at")[:50]
    badges = [describe(a) for a in awards]
    # One badge's snippets at a time, in one format: ?badge=<award id>&format=<kind>.
    chosen = next((b for b in badges if str(b["award"].pk) == request.GET.get("badge")), None)
    chosen = chosen or (badges[0] if badges else None)
    kinds = list(chosen["snippets"]) if chosen else []
    kind = request.GET.get("format") if request.GET.get("format") in kinds else "HTML"
    return render(
        request,
        "badges/my_badges.html",
        {
            "badges": badges,
            "chosen": chosen,
            "kinds": kinds,
            "kind": kind,
            "snippet": chosen["snippets"][kind] if chosen else "",
            "members": members,
            "requests": requests,
            "pages": [row for m in members for row in door.visitor_pages(m)],
        },
    )


@login_required
@require_POST
def toggle_hidden(request, award_id: int):
    award = get_object_or_404(Award, pk=award_id, member__user=request.user)
    award.hidden = not award.hidden
    award.save(update_fields=["hidden"])
    shown = "hidden from" if award.hidden else "shown on"
    messages.success(request, f"{award.get_slug_display()} badge is now {shown} the web.")
    return redirect("my_badges")
