"""/invites/: the page early adopters live in. Create, send, share, track, revoke."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import emails, errors, services, sharing, tree
from ..forms import InviteEmailForm, InviteLinkForm
from ..ids import parse_id
from ..models import Invite, InviteEvent, Redemption

INVITES_SHOWN = 50


@login_required
def invites(request):
    memberships = list(
        request.user.memberships.select_related("campaign", "inviter__user").order_by("id")
    )
    sections = [_section(member) for member in memberships]
    return render(
        request,
        "referrals/invites.html",
        {
            "sections": sections,
            "submission": uuid.uuid4(),
            "link_form": InviteLinkForm(),
            "email_form": InviteEmailForm(),
        },
    )


def _section(member) -> dict:
    shown = member.invites.order_by("-created_at").prefetch_related(
        Prefetch("events", queryset=InviteEvent.objects.order_by("at", "id")),
        Prefetch("redemptions", queryset=Redemption.objects.select_related("member__user")),
    )[:INVITES_SHOWN]
    rows = []
    for invite in shown:
        link = invite.absolute_link()
        rows.append(
            {
                "invite": invite,
                "link": link,
                "progress": invite.progress(),
                "timeline": invite.timeline(),
                "shares": sharing.share_links(link, member.name, member.campaign.name),
            }
        )
    return {
        "member": member,
        "ancestors": tree.ancestors(member),
        "to_next_reward": services.invitees_to_next_reward(member),
        "sent_today": emails.invites_sent_today(member),
        "rows": rows,
    }


def _my_member(request, member_id):
    # A tampered form field ("abc", "", a NUL byte) is a missing page, not a 500.
    if (pk := parse_id(member_id)) is None:
        raise Http404("No such membership")
    return get_object_or_404(request.user.memberships.select_related("campaign"), pk=pk)


def _my_invite(request, invite_id) -> Invite:
    return get_object_or_404(
        Invite.objects.select_related("campaign", "owner"),
        pk=invite_id,
        owner__user=request.user,
    )


def _show_form_errors(request, form) -> None:
    for field_errors in form.errors.values():
        for error in field_errors:
            messages.error(request, error)


@login_required
@require_POST
def create_link(request):
    member = _my_member(request, request.POST.get("member"))
    form = InviteLinkForm(request.POST)
    if not form.is_valid():
        _show_form_errors(request, form)
        return redirect("invites")
    try:
        invite = services.create_invite(
            member=member,
            note=form.cleaned_data["note"],
            submission=str(form.cleaned_data["submission"] or ""),
        )
    except errors.NoInvitesLeft as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"New invite link ready: {invite.absolute_link()}")
    return redirect("invites")


@login_required
@require_POST
def send_email(request):
    member = _my_member(request, request.POST.get("member"))
    form = InviteEmailForm(request.POST)
    if not form.is_valid():
        _show_form_errors(request, form)
        return redirect("invites")
    try:
        emails.invite_by_email(
            member=member, address=form.cleaned_data["email"], note=form.cleaned_data["note"]
        )
    except emails.EmailRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Invite on its way to {form.cleaned_data['email']}.")
    return redirect("invites")


@login_required
@require_POST
def revoke(request, invite_id: int):
    invite = _my_invite(request, invite_id)
    if invite.is_used_up():
        messages.error(request, "This invite has been used; there is nothing left to revoke.")
    elif services.revoke_invite(invite=invite):
        messages.success(
            request, f"Invite {invite.display_code} revoked; you have it back to give."
        )
    else:  # posted twice, or from a second tab
        messages.info(request, f"Invite {invite.display_code} was already revoked.")
    return redirect("invites")


@login_required
@require_POST
def resend(request, invite_id: int):
    invite = _my_invite(request, invite_id)
    try:
        emails.resend_invite(invite=invite)
    except emails.EmailRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Invite sent again to {invite.recipient_email}.")
    return redirect("invites")


@login_required
def qr_code(request, invite_id: int):
    invite = _my_invite(request, invite_id)
    response = HttpResponse(sharing.qr_svg(invite.absolute_link()), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="invite-{invite.code}.svg"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
