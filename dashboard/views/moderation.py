"""Moderation from the tree explorer, and the campaign's moderation log page (CSV: exports)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from referrals import moderation, tree
from referrals.models import Member, ModerationAction

from ..forms import ModerationForm
from ..guards import flash_errors, managed
from .explorer import find_member

LOG_PAGE = 100
Action = ModerationAction.Action
DONE = {
    Action.REVOKE_INVITING: "{name} can no longer invite; {n} open invites voided.",
    Action.RESTORE_INVITING: "{name} can invite again.",
    Action.FREEZE_SUBTREE: "{n} open invites in {name}'s subtree frozen.",
    Action.UNFREEZE_SUBTREE: "{n} invites in {name}'s subtree unfrozen.",
    Action.FLAG_SUBTREE: "{n} signups in {name}'s subtree are held in the review queue.",
    Action.REPARENT: "{name} and their downline ({n} member{s}) now hang under {to}.",
    Action.BAN: "{name} is banned; {n} open invites voided.",
}
SERVICES = {
    Action.REVOKE_INVITING: moderation.revoke_inviting,
    Action.RESTORE_INVITING: moderation.restore_inviting,
    Action.FREEZE_SUBTREE: moderation.freeze_subtree,
    Action.UNFREEZE_SUBTREE: moderation.unfreeze_subtree,
    Action.FLAG_SUBTREE: moderation.flag_subtree,
    Action.BAN: moderation.ban,
}


@require_POST
@managed
def moderate(request, campaign, member_id: int):
    member = find_member(campaign, member_id)
    member.campaign = campaign
    form = ModerationForm(request.POST)
    back = reverse("dashboard_explorer", args=[campaign.slug]) + f"?member={member.pk}"
    if not form.is_valid():
        flash_errors(request, form)
        return redirect(back)
    action = form.cleaned_data["action"]
    if action == Action.BAN and not request.user.is_staff:
        # A ban switches the account off everywhere, beyond one campaign.
        raise PermissionDenied("Only staff can ban.")
    reason = form.cleaned_data["reason"]
    if action == Action.REPARENT:
        return _reparent(request, campaign, member, form.cleaned_data["new_inviter"], reason, back)
    done = SERVICES[action](member=member, actor=request.user, reason=reason)
    count = next(iter(done.details.values()), 0)
    messages.success(request, DONE[action].format(name=member.name, n=count))
    return redirect(back)


def _reparent(request, campaign, member, join_number: int, reason: str, back: str):
    to = (
        Member.objects.filter(campaign=campaign, join_number=join_number)
        .select_related("user")
        .first()
    )
    if to is None:
        messages.error(request, f"Nobody in {campaign.name} has join number #{join_number:,}.")
        return redirect(back)
    try:
        done = moderation.reparent(member=member, new_inviter=to, actor=request.user, reason=reason)
    except tree.CannotMove as refused:
        messages.error(request, str(refused))
        return redirect(back)
    n = done.details["members_moved"]
    text = DONE[Action.REPARENT].format(
        name=member.name, n=f"{n:,}", s="" if n == 1 else "s", to=to.name
    )
    messages.success(request, text)
    return redirect(back)


def _log(campaign):
    return ModerationAction.objects.filter(campaign=campaign).select_related("target__user")


@managed
def log(request, campaign):
    rows = list(_log(campaign).order_by("-at", "-id")[:LOG_PAGE])
    return render(
        request,
        "dashboard/moderation.html",
        {"campaign": campaign, "current": "moderation", "rows": rows, "page": LOG_PAGE},
    )
