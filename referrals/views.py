from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.adapter import SESSION_CODE_KEY

from . import errors, services, throttle, tree


def home(request):
    if request.user.is_authenticated:
        return redirect("invites")
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("invite_landing", code=services.codes.normalize(code) or "-")
    return render(request, "referrals/home.html")


def invite_landing(request, code: str):
    """The page an invite link opens. A GET never spends a use; it only remembers the code."""
    if throttle.is_throttled(request):
        return throttled(request)
    try:
        invite = services.find_invite(code)
    except errors.UnknownCode as refused:
        throttle.record_failed_guess(request)
        return _refused(request, refused)
    try:
        services.check_redeemable(invite)
    except errors.InviteRefused as refused:
        return _refused(request, refused, invite=invite)
    request.session[SESSION_CODE_KEY] = invite.code
    signup_url = reverse("account_signup") + "?" + urlencode({"code": invite.display_code})
    return render(
        request,
        "referrals/landing.html",
        {"invite": invite, "inviter": invite.owner, "signup_url": signup_url},
    )


def _refused(request, refused: errors.InviteRefused, invite=None):
    return render(
        request,
        "referrals/refused.html",
        {"refused": refused, "invite": invite},
        status=refused.http_status,
    )


def throttled(request, exception=None):
    return render(request, "429.html", status=429)


@login_required
def invites(request):
    """The inviter's page: invites left, create a link, my invites (issue #3 grows it)."""
    if request.method == "POST":
        member = get_object_or_404(request.user.memberships, pk=request.POST.get("member"))
        try:
            invite = services.create_invite(member=member)
        except errors.NoInvitesLeft as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, f"New invite link: {invite.absolute_link()}")
        return redirect("invites")
    memberships = list(
        request.user.memberships.select_related("campaign", "inviter__user").order_by("id")
    )
    rows = []
    for member in memberships:
        rows.append(
            {
                "member": member,
                "ancestors": tree.ancestors(member),
                "invites": member.invites.order_by("-created_at")[:20],
                "to_next_reward": services.invitees_to_next_reward(member),
            }
        )
    return render(request, "referrals/invites.html", {"rows": rows})
