"""/dashboard/<slug>/tree/: the marketer's tree explorer, loaded a page at a time.

The page renders one page of roots (or one member and the path to it); the
script fetches one page of a node's direct invitees per click. Every request
is a fixed handful of index lookups (roots and invitees by the (inviter, id)
index, join numbers by the (campaign, join_number) constraint, usernames by
their unique index), so a million-member campaign opens like a small one.
"""

from __future__ import annotations

import re

from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from referrals import tree
from referrals.ids import MAX_ID, parse_id
from referrals.models import Campaign, Member
from referrals.replica import reads_from_replica

from ..guards import managed

PAGE = 50
SEARCH_LIMIT = 20
_JOIN_NUMBER = re.compile(r"#?\s*(\d{1,10})")


# --- Reads -------------------------------------------------------------------


def roots(campaign: Campaign, *, after_id: int = 0, limit: int = PAGE) -> list[Member]:
    """One page of the campaign's seed members in joining order (the (inviter, id) index)."""
    return list(
        Member.objects.of_campaign(campaign)
        .filter(inviter__isnull=True, id__gt=after_id)
        .select_related("user")
        .order_by("id")[:limit]
    )


def find_member(campaign: Campaign, member_id: int) -> Member:
    if member_id > MAX_ID:
        raise Http404("No such member in this campaign")
    try:
        return Member.objects.select_related("user").get(pk=member_id, campaign=campaign)
    except Member.DoesNotExist:
        raise Http404("No such member in this campaign") from None


def search(campaign: Campaign, query: str, *, limit: int = SEARCH_LIMIT) -> list[Member]:
    """Members by join number ("#42"), else by username prefix, then display-name prefix."""
    query = query.strip()[:150]
    if not query or "\x00" in query:  # no name holds a NUL (and PostgreSQL refuses one)
        return []
    members = Member.objects.filter(campaign=campaign).select_related("user")
    if number := _JOIN_NUMBER.fullmatch(query):
        return list(members.filter(join_number=int(number[1])))
    # Two queries, not one OR: a username prefix as typed is an index range
    # scan on PostgreSQL (the unique column's varchar_pattern_ops index). Only
    # when that finds too few, a case-insensitive scan of display names and
    # usernames, which stops at `limit` matches.
    found = list(
        members.filter(user__username__startswith=query).order_by("user__username")[:limit]
    )
    if len(found) < limit:
        loose = Q(user__display_name__istartswith=query) | Q(user__username__istartswith=query)
        more = members.filter(loose).exclude(pk__in=[m.pk for m in found])
        # Unordered: an ORDER BY would walk an index and join row by row
        # instead of stopping at the first `limit` matches.
        found += sorted(more[: limit - len(found)], key=lambda m: m.pk)
    return found


# --- JSON --------------------------------------------------------------------


def node(campaign: Campaign, member: Member) -> dict:
    """What the explorer shows of one member; reads only the member and its user."""
    return {
        "id": member.pk,
        "name": member.name,
        "username": member.user.username if member.user_id else "",
        "join_number": member.join_number,
        "depth": member.depth,
        "invitees": member.invitee_count,
        "activated_invitees": member.activated_invitee_count,
        "downline": member.downline_size,
        "activated": member.is_activated,
        "joined": member.joined_at.isoformat(),
        "url": f"{reverse('dashboard_explorer', args=[campaign.slug])}?member={member.pk}",
        "children_url": reverse("dashboard_explorer_children", args=[campaign.slug, member.pk]),
        "path_url": reverse("dashboard_explorer_path", args=[campaign.slug, member.pk]),
    }


def _page(campaign: Campaign, members: list[Member], limit: int, next_url: str) -> dict:
    has_more = len(members) > limit
    members = members[:limit]
    return {
        "nodes": [node(campaign, m) for m in members],
        "next": f"{next_url}?after={members[-1].pk}" if has_more else None,
    }


def _after(request) -> int:
    return parse_id(request.GET.get("after", "")) or 0


@reads_from_replica
@managed
def roots_json(request, campaign):
    page = roots(campaign, after_id=_after(request), limit=PAGE + 1)
    url = reverse("dashboard_explorer_roots", args=[campaign.slug])
    return JsonResponse(_page(campaign, page, PAGE, url))


@reads_from_replica
@managed
def children_json(request, campaign, member_id: int):
    member = find_member(campaign, member_id)
    page = tree.direct_invitees(member, after_id=_after(request), limit=PAGE + 1)
    url = reverse("dashboard_explorer_children", args=[campaign.slug, member.pk])
    return JsonResponse(_page(campaign, page, PAGE, url) | {"total": member.invitee_count})


@reads_from_replica
@managed
def path_json(request, campaign, member_id: int):
    member = find_member(campaign, member_id)
    return JsonResponse({"path": [node(campaign, m) for m in [*tree.ancestors(member), member]]})


@reads_from_replica
@managed
def search_json(request, campaign):
    found = search(campaign, request.GET.get("q", ""))
    return JsonResponse({"results": [node(campaign, m) for m in found]})


# --- The page ----------------------------------------------------------------


@reads_from_replica
@managed
def explorer(request, campaign):
    query = request.GET.get("q", "").strip()
    focus = path = None
    if member_id := request.GET.get("member", ""):
        if (pk := parse_id(member_id)) is None:
            raise Http404("No such member in this campaign")
        focus = find_member(campaign, pk)
        path = [*tree.ancestors(focus), focus]
    context = {
        "campaign": campaign,
        "query": query,
        "results": search(campaign, query) if query else None,
        "focus": focus,
        "path": path,
        "page_size": PAGE,
    }
    if focus is None and not query:
        page = roots(campaign, limit=PAGE + 1)
        context["roots"] = page[:PAGE]
        if len(page) > PAGE:
            url = reverse("dashboard_explorer_roots", args=[campaign.slug])
            context["roots_next"] = f"{url}?after={page[PAGE - 1].pk}"
    return render(request, "dashboard/explorer.html", context)
