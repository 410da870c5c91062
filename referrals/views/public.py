import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from config.celery import enqueue_on_commit

from .. import access, codes, errors, outbox, services, sightings, throttle
from ..session import forget_code, remember_code


def home(request):
    if request.user.is_authenticated:
        # Members live on their invites page; a marketer with no place in any
        # tree has nothing there, so they land on their dashboard.
        if not request.user.memberships.exists() and access.is_marketer(request.user):
            return redirect("dashboard")
        return redirect("invites")
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("invite_landing", code=codes.normalize(code) or "-")
    return render(request, "referrals/home.html")


def invite_landing(request, code: str):
    """The page an invite link opens. A GET never spends a use; it only remembers the code."""
    try:
        invite = services.find_invite(code)
    except errors.UnknownCode as refused:
        # Only codes that name no invite count; a real one is answered, throttled or not.
        if throttle.record_unknown_code(request, code):
            return throttled(request)
        return _refused(request, refused)
    try:
        services.check_redeemable(invite)
    except errors.InviteRefused as refused:
        return _refused(request, refused, invite=invite)
    remember_code(request, invite.code)
    _queue_open(request, invite)
    signup_url = reverse("account_signup") + "?" + urlencode({"code": invite.display_code})
    # Someone with an account already joins this campaign with it, not a new one.
    membership = None
    if request.user.is_authenticated:
        membership = request.user.memberships.filter(campaign=invite.campaign).first()
    response = render(
        request,
        "referrals/landing.html",
        {
            "invite": invite,
            "inviter": invite.owner,
            "signup_url": signup_url,
            "membership": membership,
        },
    )
    if membership is not None and membership.pk == invite.owner_id:
        # The inviter on their own link: should this browser redeem it later
        # (logged out, as "someone else"), that is a risk signal.
        sightings.mark_own_link_opened(request, response, member_id=membership.pk)
    return response


@login_required
@require_POST
def accept_invite(request, code: str):
    """A logged-in person joins the invite's campaign with the account they have."""
    try:
        member = services.redeem_invite(
            code=code,
            user=request.user,
            signup_ip=throttle.client_ip(request),
            opened_by=sightings.own_link_openers(request),
        )
    except errors.UnknownCode as refused:
        if throttle.record_unknown_code(request, code):
            return throttled(request)
        return _refused(request, refused)
    except errors.InviteRefused as refused:
        messages.error(request, refused.message)
        return redirect("invite_landing", code=codes.normalize(code) or "-")
    forget_code(request)
    messages.success(request, f"Welcome to {member.campaign.name}.")
    return redirect("invites")


def _queue_open(request, invite) -> None:
    """One "opened" event per visitor (their session), never for the inviter themself.

    Recorded by a task: the page's GET reads, and a burst of mail scanners
    opening a link costs the request no write.
    """
    owner = invite.owner
    if owner and request.user.is_authenticated and owner.user_id == request.user.pk:
        return
    if not request.session.session_key:
        request.session.save()
    visitor = hashlib.sha256(request.session.session_key.encode()).hexdigest()[:32]
    enqueue_on_commit(
        services.record_invite_open,
        invite.pk,
        visitor,
        what=f"open of invite {invite.pk}",
        inline_if_down=True,
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


@require_http_methods(["GET", "POST"])
def dont_invite(request, token: str):
    """The "don't invite me again" link. GET asks (mail scanners open links); POST records."""
    address = outbox.optout_address(token)
    if address is None:
        return render(request, "referrals/dont_invite.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        outbox.opt_out(address=address)
        done = True
    return render(request, "referrals/dont_invite.html", {"address": address, "done": done})
