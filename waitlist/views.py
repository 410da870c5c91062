"""The waitlist's pages: ask (on / and /c/<slug>/), confirm, and the requester's own page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import get_usage

from referrals.addresses import normalize_email
from referrals.ids import parse_id
from referrals.models import Campaign, Member

from . import admission, services
from .forms import RequestInviteForm
from .models import Donation, Entry, WaitlistSettings


def campaign_page(request, slug: str):
    """A campaign's own page: what it is, and "Request an invite"."""
    campaign = get_object_or_404(Campaign, slug=slug)
    ref = request.GET.get("ref", "")[:16]
    form = RequestInviteForm(initial={"ref": ref})
    # A member who opens someone's referral link can vouch for them instead.
    member = None
    if ref and request.user.is_authenticated:
        member = Member.objects.filter(campaign=campaign, user=request.user).first()
    referrer = None
    if member is not None:
        referrer = Entry.objects.waiting().filter(campaign=campaign, ref_code=ref).first()
    return render(
        request,
        "waitlist/campaign.html",
        {
            "campaign": campaign,
            "form": form,
            "rules": WaitlistSettings.of(campaign),
            "member": member,
            "vouch_for": referrer,
            "ref": ref,
        },
    )


@require_POST
def ask(request, slug: str | None = None):
    campaign = get_object_or_404(Campaign, slug=slug) if slug else Campaign.default()
    usage = get_usage(
        request, group="waitlist", key="ip", rate=settings.WAITLIST_RATE, increment=True
    )
    if usage and usage["should_limit"]:
        return render(request, "429.html", status=429)
    form = RequestInviteForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "waitlist/campaign.html",
            {"campaign": campaign, "form": form, "rules": WaitlistSettings.of(campaign)},
            status=400,
        )
    services.request_invite(campaign=campaign, **form.cleaned_data)
    # One answer for everyone (a member's address, a repeat, a new one): no enumeration.
    return render(request, "waitlist/check_inbox.html", {"campaign": campaign})


def _entry(token: str) -> Entry:
    if len(token) > 64:
        raise Http404("No such request")
    return get_object_or_404(Entry.objects.select_related("campaign"), token=token)


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """The link in the e-mail. GET asks (mail scanners open links); POST confirms."""
    entry = _entry(token)
    if request.method == "POST" or entry.is_confirmed:
        services.confirm(entry=entry)
        return redirect("waitlist_page", token=entry.token)
    return render(request, "waitlist/confirm.html", {"entry": entry})


def _status(entry: Entry) -> dict:
    return {
        "position": services.position(entry),
        "confirmed": entry.is_confirmed,
        "admitted": entry.admitted_at is not None,
        "referrals": entry.confirmed_referrals,
        "boost": entry.boost,
    }


def page(request, token: str):
    """The requester's own page: their place, their referral link, who came through it."""
    entry = _entry(token)
    rules = WaitlistSettings.of(entry.campaign)
    share = settings.SITE_URL + reverse("campaign_page", args=[entry.campaign.slug])
    vouchers, others = services.vouchers_shown(entry)
    return render(
        request,
        "waitlist/page.html",
        {
            "entry": entry,
            "vouchers": vouchers,
            "other_vouchers": others,
            "status": _status(entry),
            "rules": rules,
            "share_link": f"{share}?ref={entry.ref_code}",
        },
    )


def status(request, token: str):
    """The page's figures as JSON, for the live update (polled; cheap: two indexed reads)."""
    response = JsonResponse(_status(_entry(token)))
    response["Cache-Control"] = "no-store"
    return response


# --- The pool: members giving unused invites to the waitlist ---------------------------


@login_required
@require_http_methods(["GET", "POST"])
def pool(request):
    memberships = list(
        Member.objects.filter(user=request.user, banned_at__isnull=True).select_related("campaign")
    )
    if request.method == "POST":
        member = next((m for m in memberships if str(m.pk) == request.POST.get("member")), None)
        if member is None:
            raise Http404("Not your membership")
        if "take_back" in request.POST:
            donation = get_object_or_404(Donation, pk=request.POST["take_back"], member=member)
            back = admission.take_back(donation=donation)
            messages.success(request, f"{back} invite{'s' if back != 1 else ''} back with you.")
            return redirect("waitlist_pool")
        try:
            seats = int(request.POST.get("seats", ""))
            admission.donate(member=member, seats=seats)
        except (ValueError, admission.TooFewInvites):
            messages.error(request, f"You have {member.invites_left} unused invites to give.")
        else:
            messages.success(
                request,
                f"{seats} invite{'s' if seats != 1 else ''} given to the {member.campaign.name} "
                "waitlist. You'll be the inviter of whoever gets them, and we'll tell you.",
            )
        return redirect("waitlist_pool")
    donations = Donation.objects.filter(member__in=memberships).order_by("-created_at")
    return render(
        request, "waitlist/pool.html", {"memberships": memberships, "donations": donations}
    )


@login_required
@require_POST
def vouch(request):
    """A member vouches for someone waiting: from their referral link, or by address."""
    member = get_object_or_404(
        Member.objects.select_related("campaign"),
        pk=parse_id(request.POST.get("member", "")) or 0,
        user=request.user,
    )
    ref = request.POST.get("ref", "")[:16]
    address = normalize_email(request.POST.get("email", "")[:254])
    found = Entry.objects.filter(campaign=member.campaign, admitted_at__isnull=True)
    entry = found.filter(ref_code=ref).first() if ref else found.filter(email=address).first()
    show = request.POST.get("show_name") == "on"
    if entry is not None:
        try:
            services.vouch(member=member, entry=entry, show_name=show)
        except services.CannotVouch as refused:
            messages.error(request, str(refused))
            return redirect("waitlist_pool")
    # The same answer whether or not that address waits: members can't probe the list.
    messages.success(request, "Thank you: if they are on the waitlist, your vouch moves them up.")
    if ref:
        return redirect(reverse("campaign_page", args=[member.campaign.slug]) + f"?ref={ref}")
    return redirect("waitlist_pool")
