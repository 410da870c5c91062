"""Visitors asking a member for an invite from a badge page; the member's answers."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage

from referrals import emails

from .. import door
from ..forms import AskForInviteForm
from ..models import InviteRequest
from .pages import _award_for


@require_POST
def ask(request, username: str, slug: str):
    award = _award_for(username, slug)
    usage = get_usage(
        request, group="invite-request", key="ip", rate=settings.INVITE_REQUEST_RATE, increment=True
    )
    if usage and usage["should_limit"]:
        return render(request, "429.html", status=429)
    form = AskForInviteForm(request.POST)
    if award.revoked_at or not form.is_valid():
        return render(
            request,
            "badges/ask_done.html",
            {"award": award, "form": form, "ok": False},
            status=400,
        )
    door.request_invite(
        member=award.member,
        name=form.cleaned_data["name"],
        email=form.cleaned_data["email"],
        message=form.cleaned_data["message"],
        source_page=form.cleaned_data["source"],
    )
    # The same answer whether or not this address asked before.
    return render(request, "badges/ask_done.html", {"award": award, "ok": True})


@login_required
@require_POST
def answer(request, request_id: int, decision: str):
    invite_request = get_object_or_404(
        InviteRequest.objects.select_related("member__campaign"),
        pk=request_id,
        member__user=request.user,
    )
    if decision == "accept":
        try:
            door.accept(request=invite_request)
        except emails.EmailRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, f"Invite sent to {invite_request.name}.")
    else:
        door.ignore(request=invite_request)
        messages.success(request, f"Request from {invite_request.name} ignored.")
    return redirect("my_badges")
