"""/network/: my referral tree, generation by generation, paged, never loaded whole."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .. import tree
from ..models import Member

PAGE = 25


@login_required
def network(request):
    memberships = list(request.user.memberships.select_related("campaign").order_by("id"))
    if not memberships:
        return render(request, "referrals/network.html", {"me": None})
    me = _pick(memberships, request.GET.get("campaign"))
    focus = _focus(me, request.GET.get("member"))
    after = _int(request.GET.get("after"))
    page = tree.direct_invitees(focus, after_id=after, limit=PAGE + 1)
    has_more = len(page) > PAGE
    page = page[:PAGE]
    path = [m for m in tree.ancestors(focus) if m.depth >= me.depth] + [focus]
    generations = tree.generations_below(me)
    return render(
        request,
        "referrals/network.html",
        {
            "me": me,
            "memberships": memberships,
            "focus": focus,
            "path": path,
            "invitees": page,
            "next_after": page[-1].pk if has_more else None,
            "generations": sorted(generations.items()),
            "deepest": max(generations, default=0),
            "activated_direct": me.activated_invitee_count,
        },
    )


def _pick(memberships, campaign_id):
    for member in memberships:
        if str(member.campaign_id) == campaign_id:
            return member
    return memberships[0]


def _focus(me: Member, member_id) -> Member:
    """Me, or someone in my downline; nobody outside it."""
    if not member_id:
        return me
    try:
        focus = Member.objects.select_related("user").get(pk=int(member_id))
    except (ValueError, Member.DoesNotExist):
        raise Http404("No such member in your tree") from None
    if focus.pk != me.pk and not focus.ancestry.startswith(me.subtree_prefix):
        raise Http404("No such member in your tree")
    return focus


def _int(value) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
