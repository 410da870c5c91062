"""The badge as the member's door: visitors' pages, and asking for an invite."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from referrals import emails
from referrals.addresses import normalize_email
from referrals.models import Member

from .models import BadgeReferral, InviteRequest

MAX_URL = 500


def external_page(referer: str | None) -> str:
    """The referring page if it is an outside http(s) page, else ''."""
    if not referer or len(referer) > MAX_URL:
        return ""
    try:
        parts = urlsplit(referer)
    except ValueError:  # a malformed Referer ("http://[oops") is nobody's page
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    if parts.netloc == urlsplit(settings.SITE_URL).netloc:
        return ""
    return parts._replace(fragment="").geturl()


def record_visit(*, member: Member, page_url: str) -> None:
    """Count one visit from an outside page (an upsert on (member, page))."""
    if not page_url:
        return
    now = timezone.now()
    updated = BadgeReferral.objects.filter(member=member, page_url=page_url).update(
        visits=F("visits") + 1, last_seen=now
    )
    if not updated:
        try:
            with transaction.atomic():
                BadgeReferral.objects.create(member=member, page_url=page_url, visits=1)
        except IntegrityError:  # a concurrent first visit created it
            BadgeReferral.objects.filter(member=member, page_url=page_url).update(
                visits=F("visits") + 1, last_seen=now
            )


def request_invite(
    *, member: Member, name: str, email: str, message: str = "", source_page: str = ""
) -> InviteRequest | None:
    """Record a visitor's request; None if the same address already waits for an answer."""
    try:
        with transaction.atomic():
            return InviteRequest.objects.create(
                member=member,
                name=name.strip()[:80],
                email=normalize_email(email),
                message=message.strip()[:500],
                source_page=external_page(source_page),
            )
    except IntegrityError:
        return None


def accept(*, request: InviteRequest) -> InviteRequest:
    """Send the visitor a personal invite (spends one of the member's invites)."""
    with transaction.atomic():
        locked = InviteRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != InviteRequest.Status.PENDING:
            return locked
        note = "You asked me for an invite from my badge. Welcome!"
        invite = emails.invite_by_email(member=locked.member, address=locked.email, note=note)
        locked.status = InviteRequest.Status.ACCEPTED
        locked.invite = invite
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "invite", "decided_at"])
    return locked


def ignore(*, request: InviteRequest) -> None:
    InviteRequest.objects.filter(pk=request.pk, status=InviteRequest.Status.PENDING).update(
        status=InviteRequest.Status.IGNORED, decided_at=timezone.now()
    )


def visitor_pages(member: Member, limit: int = 20) -> list[dict]:
    """Outside pages that sent visitors, with requests made and people who joined from each."""
    visits = {
        r.page_url: r.visits
        for r in BadgeReferral.objects.filter(member=member).order_by("-visits")[:limit]
    }
    joined = {
        row["source_page"]: row
        for row in InviteRequest.objects.filter(member=member)
        .exclude(source_page="")
        .values("source_page")
        .annotate(
            requests=Count("id"),
            joined=Count("id", filter=Q(invite__uses__gt=0)),
        )
    }
    pages = set(visits) | set(joined)
    rows = [
        {
            "page": page,
            "visits": visits.get(page, 0),
            "requests": joined.get(page, {}).get("requests", 0),
            "joined": joined.get(page, {}).get("joined", 0),
        }
        for page in pages
    ]
    return sorted(rows, key=lambda r: (-r["joined"], -r["visits"], r["page"]))[:limit]
