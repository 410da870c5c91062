"""/dashboard/<slug>/review/: frozen codes to decide on, and signup patterns worth a look."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from referrals import credit, leaks, sightings
from referrals.ids import parse_id
from referrals.models import Invite, Member, Redemption

from .. import suspicious
from ..forms import CreditDecisionForm
from ..guards import flash_errors, managed

SIGNAL_HELP = {
    "inviter_network": "Invitees on the IPv4 /24 or IPv6 /64 their inviter signed up from, or "
    f"used in the last {sightings.RECENT.days} days: often a household or an office.",
    "network_burst": f"{credit.BURST_MIN}+ of one inviter's codes redeemed from one network "
    f"within {credit.BURST_WINDOW.seconds // 60} minutes.",
    "known_mailbox": "Addresses that reach another member's mailbox once case, dots and +tags "
    "are dropped (where the provider ignores them).",
    "disposable_address": "Addresses at throwaway-inbox domains (and their subdomains).",
    "own_link": "A signup from a browser where the inviter had opened the same link while "
    "logged in: probably the inviter making a second account.",
}
INACTIVE_HELP = (
    f"{suspicious.INACTIVE_MIN_INVITEES}+ invitees, none activated, joined more than "
    f"{suspicious.INACTIVE_AFTER.days} days ago (among the "
    f"{suspicious.INACTIVE_AMONG:,} largest downlines)."
)


def rule_sections(campaign) -> list[tuple[str, str, str]]:
    """(rule, title, help) of each pattern on the page: the risk signals, then inactive chains."""
    sections = [
        (
            rule,
            spec.title,
            f"{SIGNAL_HELP[rule]} Adds {credit.weight(campaign, rule)} to a signup's risk score.",
        )
        for rule, spec in credit.RULES.items()
    ]
    return [*sections, ("inactive", "Inviters whose invitees all stay inactive", INACTIVE_HELP)]


@managed
def review(request, campaign):
    held = held_redemptions(campaign, after_id=parse_id(request.GET.get("after", "")) or 0)
    findings = suspicious.review(campaign, now=timezone.now())
    ids = {pk for found in findings.values() for f in found for pk in f.member_ids}
    members = Member.objects.select_related("user").in_bulk(ids)
    sections = [
        {
            "rule": rule,
            "title": title,
            "help": help_text,
            "findings": [
                {"finding": f, "members": [members[pk] for pk in f.member_ids if pk in members]}
                for f in findings[rule]
            ],
        }
        for rule, title, help_text in rule_sections(campaign)
    ]
    return render(
        request,
        "dashboard/review.html",
        {
            "campaign": campaign,
            "frozen": frozen_codes(campaign),
            "held": held,
            "held_next": held[-1].pk if len(held) == HELD_PAGE else None,
            "rules": credit.RULES,
            "sections": sections,
            "recent_days": suspicious.RECENT.days,
            "recent_cap": suspicious.RECENT_CAP,
            "max_findings": suspicious.MAX_FINDINGS,
        },
    )


FROZEN_SHOWN = 50  # frozen codes listed (oldest freeze first)


def frozen_codes(campaign) -> list[dict]:
    """The campaign's frozen codes, each with the redemptions that tripped the rule."""
    frozen = list(
        Invite.objects.filter(campaign=campaign, frozen_at__isnull=False)
        .select_related("owner__user")
        .order_by("frozen_at", "id")[:FROZEN_SHOWN]
    )
    if not frozen:
        return []
    window = timedelta(minutes=campaign.leak_window_minutes)
    tripping = Q()
    for invite in frozen:
        tripping |= Q(
            invite=invite, redeemed_at__range=(invite.frozen_at - window, invite.frozen_at)
        )
    evidence: dict[int, list] = {invite.pk: [] for invite in frozen}
    rows = (
        Redemption.objects.filter(tripping)
        .order_by("invite_id", "redeemed_at")
        .values_list("invite_id", "redeemed_at", "signup_network")
    )
    for invite_id, at, network in rows:
        evidence[invite_id].append({"at": at, "network": network or "unknown"})
    return [
        {
            "invite": invite,
            "redemptions": evidence[invite.pk],
            "networks": len({r["network"] for r in evidence[invite.pk]}),
        }
        for invite in frozen
    ]


@require_POST
@managed
def unfreeze(request, campaign, invite_id: int):
    invite = get_object_or_404(Invite, pk=invite_id, campaign=campaign)
    if leaks.unfreeze(invite=invite, now=timezone.now()):
        messages.success(request, f"{invite.display_code} takes signups again.")
    else:
        messages.info(request, f"{invite.display_code} was not frozen.")
    return redirect("dashboard_review", campaign.slug)


HELD_PAGE = 25


def held_redemptions(campaign, *, after_id: int = 0, limit: int = HELD_PAGE) -> list:
    """Held redemptions of `campaign`, oldest first, keyset-paged on id (the held index)."""
    return list(
        Redemption.objects.filter(
            credit=Redemption.Credit.HELD, member__campaign=campaign, id__gt=after_id
        )
        .select_related("member__user", "invite__owner__user")
        .prefetch_related("signals")
        .order_by("id")[:limit]
    )


@require_POST
@managed
def decide(request, campaign):
    """Approve or reject held redemptions, one or many, with a reason."""
    form = CreditDecisionForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("dashboard_review", campaign.slug)
    ids = form.cleaned_data["redemptions"]
    chosen = Redemption.objects.filter(pk__in=ids, member__campaign=campaign)
    decide_one = credit.approve if form.cleaned_data["decision"] == "approve" else credit.reject
    now, done, already = timezone.now(), 0, 0
    for redemption in chosen:
        try:
            decide_one(
                redemption=redemption, by=request.user, reason=form.cleaned_data["reason"], now=now
            )
            done += 1
        except credit.AlreadyDecided:
            already += 1  # a double click, or another marketer was first
    verb = "approved" if decide_one is credit.approve else "rejected"
    messages.success(
        request, f"{done} {verb}." + (f" {already} already decided." if already else "")
    )
    return redirect("dashboard_review", campaign.slug)
