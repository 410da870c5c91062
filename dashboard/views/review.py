"""/dashboard/<slug>/review/: signup patterns worth a human look."""

from django.shortcuts import render
from django.utils import timezone

from referrals.models import Member

from .. import suspicious
from ..guards import managed

RULES = [
    (
        "network",
        "Many signups from one network",
        f"{suspicious.BURST_MIN}+ signups from one IPv4 /24 or IPv6 /64 within "
        f"{suspicious.BURST_WINDOW.seconds // 60} minutes.",
    ),
    (
        "alias",
        "Addresses that differ only by dots or +tags",
        "Different addresses that reach one mailbox once dots and +tags are dropped.",
    ),
    ("disposable", "Disposable e-mail domains", "Signups with throwaway-inbox addresses."),
    (
        "inactive",
        "Inviters whose invitees all stay inactive",
        f"{suspicious.INACTIVE_MIN_INVITEES}+ invitees, none activated, joined more than "
        f"{suspicious.INACTIVE_AFTER.days} days ago (among the "
        f"{suspicious.INACTIVE_AMONG:,} largest downlines).",
    ),
]


@managed
def review(request, campaign):
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
        for rule, title, help_text in RULES
    ]
    return render(
        request,
        "dashboard/review.html",
        {
            "campaign": campaign,
            "sections": sections,
            "recent_days": suspicious.RECENT.days,
            "recent_cap": suspicious.RECENT_CAP,
            "max_findings": suspicious.MAX_FINDINGS,
        },
    )
