"""Writes across models: redeeming, creating and revoking invites, activation.

Scarce things (code uses, a member's invites) are claimed with a conditional
UPDATE whose row count decides, backed by a CheckConstraint; never
read-then-write. Work for other processes is enqueued on commit. What
consumers (webhooks, badges) do about a signup or an activation is theirs:
this module publishes referrals.events and imports none of them.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.celery import enqueue_on_commit

from . import addresses, codes, credit, errors, events, figures, leaks, outbox, tree
from .models import (
    Campaign,
    Invite,
    InviteEvent,
    InviteGrant,
    Member,
    OutboundEmail,
    Redemption,
)
from .networks import network_of

logger = logging.getLogger(__name__)


def find_invite(code: str) -> Invite:
    """The invite for a typed code, or UnknownCode."""
    canonical = codes.normalize(code)
    if not codes.is_well_formed(canonical):
        raise errors.UnknownCode()
    try:
        return Invite.objects.select_related("campaign", "owner__user").get(code=canonical)
    except Invite.DoesNotExist:
        raise errors.UnknownCode() from None


def check_redeemable(invite: Invite, now=None) -> None:
    """Raise the precise InviteRefused for an invite that cannot take a use now."""
    now = now or timezone.now()
    if not invite.campaign.is_open:
        raise errors.CampaignClosed(invite.campaign.name)
    if invite.revoked_at:
        raise errors.CodeRevoked()
    if invite.frozen_at:
        raise errors.CodeFrozen()
    if invite.is_used_up():
        raise errors.CodeUsedUp(invite.max_uses)
    if invite.is_expired(now):
        raise errors.CodeExpired(invite.expires_at)


def redeem_invite(
    *,
    code: str,
    user,
    signup_ip: str | None = None,
    opened_by: frozenset[int] = frozenset(),
    invite: Invite | None = None,
) -> Member:
    """Claim one use of `code` and hang a new member for `user` under its owner; all or nothing.

    `opened_by`: members who opened their own link while logged in on this
    browser (sightings.own_link_openers), a risk signal if the owner is one.
    `invite`: what find_invite(code) returned earlier in this request (the
    signup form's check), so it is not read again; the claim below decides
    from the row itself either way.
    """
    if invite is None or invite.code != codes.normalize(code):
        invite = find_invite(code)
    now = timezone.now()
    check_redeemable(invite, now)
    campaign = invite.campaign
    email = getattr(user, "email", "") or ""
    with transaction.atomic():
        # Conditional UPDATE: concurrent signups serialize on this one invite
        # row only; the loser re-reads the committed count and gets 0 rows.
        try:
            with transaction.atomic():
                claimed = (
                    Invite.objects.redeemable(now)
                    .filter(pk=invite.pk)
                    .update(uses=F("uses") + 1, **figures.BUMP)
                )
        except IntegrityError:  # the CheckConstraint caught an over-use
            claimed = 0
        if not claimed:
            invite.refresh_from_db()
            check_redeemable(invite, now)
            raise errors.CodeUsedUp(invite.max_uses)
        owner = invite.owner
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    campaign=campaign,
                    user=user,
                    mailbox=addresses.mailbox_of(email)[:254] if email else "",
                    inviter=owner,
                    depth=owner.depth + 1 if owner else 0,
                    ancestry=owner.subtree_prefix if owner else "",
                    joined_at=now,
                    invites_left=campaign.default_quota,
                )
        except IntegrityError:
            raise errors.AlreadyMember(campaign.name) from None
        ip = _ip_or_none(signup_ip)
        redemption = Redemption.objects.create(
            invite=invite,
            member=member,
            redeemed_at=now,
            signup_ip=ip,
            signup_network=network_of(ip) or "",
        )
        InviteEvent.objects.create(invite=invite, kind=InviteEvent.Kind.REDEEMED, at=now)
        credit.assess(
            redemption=redemption, member=member, inviter=owner, email=email, opened_by=opened_by
        )
        # Still under this invite's row lock (the claim above): racers from many
        # networks are counted one at a time, so none slips past the rule.
        leaks.freeze_if_leaked(invite=invite, now=now)
        outbox.queue_notice(kind=OutboundEmail.Kind.INVITEE_JOINED, invitee=member)
        events.publish(events.MEMBER_JOINED, member=member)
        _enqueue_fold()
    return member


def _ip_or_none(text: str | None) -> str | None:
    # A mangled X-Forwarded-For must not fail the signup on an inet column.
    try:
        return str(ipaddress.ip_address(text)) if text else None
    except ValueError:
        return None


def join_without_code(*, campaign: Campaign, user) -> Member:
    """Make `user` a seed member of a campaign that does not require codes."""
    if not campaign.is_open:
        raise errors.CampaignClosed(campaign.name)
    try:
        with transaction.atomic():
            member = Member.objects.create(
                campaign=campaign, user=user, invites_left=campaign.default_quota
            )
    except IntegrityError:
        raise errors.AlreadyMember(campaign.name) from None
    _enqueue_fold()
    return member


def _enqueue_fold() -> None:
    enqueue_on_commit(tree.fold_tree, what="fold_tree")


def create_invite(
    *, member: Member, recipient_email: str = "", note: str = "", submission: str = ""
) -> Invite:
    """Spend invites from `member`'s quota on a new code; NoInvitesLeft when there are none.

    A `submission` seen before (the same form posted twice) returns that
    submission's invite and spends nothing.
    """
    if submission:
        try:
            return _create_invite(member, recipient_email, note, submission)
        except IntegrityError:  # one_invite_per_submission: the rollback gave the quota back
            return Invite.objects.get(owner=member, submission=submission)
    return _create_invite(member, recipient_email, note, submission)


def _create_invite(member: Member, recipient_email: str, note: str, submission: str) -> Invite:
    campaign = member.campaign
    cost = campaign.uses_per_code
    now = timezone.now()
    with transaction.atomic():
        claimed = Member.objects.filter(
            pk=member.pk, invites_left__gte=cost, can_invite=True
        ).update(invites_left=F("invites_left") - cost)
        if not claimed:
            if not Member.objects.filter(pk=member.pk, can_invite=True).exists():
                raise errors.InvitingRevoked()
            raise errors.NoInvitesLeft()
        expiry = campaign.code_expiry()
        invite = Invite.objects.create(
            campaign=campaign,
            owner=member,
            max_uses=cost,
            expires_at=now + expiry if expiry else None,
            recipient_email=recipient_email,
            note=note,
            created_at=now,
            submission=submission,
        )
        InviteEvent.objects.create(invite=invite, kind=InviteEvent.Kind.CREATED, at=now)
    member.invites_left -= cost
    return invite


def issue_set_aside_invite(*, member: Member, recipient_email: str = "") -> Invite:
    """A one-use invite of `member`'s, paid for by a seat they set aside before (the pool).

    Refused like any invite if they may no longer invite (InvitingRevoked).
    """
    if not Member.objects.filter(pk=member.pk, can_invite=True).exists():
        raise errors.InvitingRevoked()
    now = timezone.now()
    expiry = member.campaign.code_expiry()
    with transaction.atomic():
        invite = Invite.objects.create(
            campaign=member.campaign,
            owner=member,
            max_uses=1,
            expires_at=now + expiry if expiry else None,
            recipient_email=recipient_email,
            created_at=now,
        )
        InviteEvent.objects.create(invite=invite, kind=InviteEvent.Kind.CREATED, at=now)
    return invite


def set_aside_seats(*, member: Member, seats: int) -> bool:
    """Take `seats` out of `member`'s quota (to give them away); False if they have too few."""
    return bool(
        Member.objects.filter(pk=member.pk, invites_left__gte=seats, can_invite=True).update(
            invites_left=F("invites_left") - seats
        )
    )


def give_back_seats(*, member: Member, seats: int) -> None:
    """Return seats set aside and not used to `member`'s quota."""
    Member.objects.filter(pk=member.pk).update(invites_left=F("invites_left") + seats)


def revoke_invite(*, invite: Invite) -> bool:
    """Withdraw an invite and give its unused seats back to the owner; False if already revoked.

    An expired invite can be taken back too: its unused seats would otherwise be lost.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Invite.objects.select_for_update().get(pk=invite.pk)
        if locked.revoked_at:
            return False
        locked.revoked_at = now
        Invite.objects.filter(pk=locked.pk).update(revoked_at=now, **figures.BUMP)
        unused = locked.max_uses - locked.uses
        if locked.owner_id and unused:
            Member.objects.filter(pk=locked.owner_id).update(
                invites_left=F("invites_left") + unused
            )
        InviteEvent.objects.create(invite=locked, kind=InviteEvent.Kind.REVOKED, at=now)
    invite.revoked_at = now
    return True


def create_seed_codes(
    *,
    campaign: Campaign,
    count: int,
    uses: int = 1,
    expires_days: int | None = None,
    public: bool = False,
) -> list[Invite]:
    """Campaign-owned codes whose users become seed members (roots of the tree).

    `public` codes (a conference code, meant to travel) are never frozen as leaked.
    """
    now = timezone.now()
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    with transaction.atomic():
        invites = Invite.objects.bulk_create(
            [
                Invite(
                    campaign=campaign,
                    max_uses=uses,
                    expires_at=expires_at,
                    created_at=now,
                    is_public=public,
                )
                for _ in range(count)
            ]
        )
        InviteEvent.objects.bulk_create(
            [InviteEvent(invite=i, kind=InviteEvent.Kind.CREATED, at=now) for i in invites]
        )
    return invites


def record_visit(*, user, today: date | None = None) -> None:
    """Note that `user` came back today, and activate memberships whose rule is now met."""
    if note_return(user=user, today=today):
        activate_returned(user_id=user.pk)


def note_return(*, user, today: date | None = None) -> int:
    """Mark `user`'s not-yet-active memberships as seen today; how many changed (one UPDATE).

    The visit middleware calls this at most once a day per session; the
    consequences (activation, rewards, what consumers do) run in a task.
    """
    today = today or timezone.localdate()
    return (
        Member.objects.filter(user=user, activated_at__isnull=True)
        .exclude(last_seen_on=today)
        .update(last_seen_on=today)
    )


def activate_returned(*, user_id: int) -> int:
    """Activate `user_id`'s memberships whose rule a return visit may now meet; how many."""
    waiting = Member.objects.filter(
        user_id=user_id, activated_at__isnull=True, last_seen_on__isnull=False
    ).select_related("campaign")
    return sum(check_activation(member=member) for member in waiting)


@shared_task(name="referrals.tasks.activate_returned_member", ignore_result=True)
def activate_returned_member(user_id: int) -> int:
    """Task: activate_returned for one user after the middleware noted their return."""
    return activate_returned(user_id=user_id)


def record_open(*, invite_id: int, visitor: str) -> None:
    """One "opened" event per visitor of an invite link; safe to call twice."""
    # The partial unique constraint turns a second open into a no-op.
    with transaction.atomic():
        InviteEvent.objects.bulk_create(
            [InviteEvent(invite_id=invite_id, kind=InviteEvent.Kind.OPENED, visitor=visitor)],
            ignore_conflicts=True,
        )
        # Its first "opened" moves a sent invite a stage on (the figures fold counts it).
        figures.bump(
            Invite.objects.filter(
                pk=invite_id, uses=0, revoked_at__isnull=True, fig_stage=figures.SENT
            )
        )


@shared_task(name="referrals.tasks.record_invite_open", ignore_result=True)
def record_invite_open(invite_id: int, visitor: str) -> None:
    """Task: record_open, queued by the invite landing page so its GET writes nothing."""
    record_open(invite_id=invite_id, visitor=visitor)


def check_activation(*, member: Member) -> bool:
    """Activate `member` if the campaign's rule is met; True when this call activated it."""
    rule = member.campaign.activation_rule
    if member.activated_at or member.user_id is None:
        return False
    if rule == Campaign.Activation.REPORTED and not member.activation_reported_at:
        return False  # waits for the host product's report
    if rule == Campaign.Activation.VERIFIED_AND_RETURNED:
        joined_on = timezone.localdate(member.joined_at)
        if not member.last_seen_on or member.last_seen_on <= joined_on:
            return False
    return activate_member(member=member)


def has_verified_email(member: Member) -> bool:
    """Has `member`'s person confirmed an e-mail address? (One indexed query.)"""
    return bool(member.user_id) and (
        EmailAddress.objects.filter(user_id=member.user_id, verified=True).exists()
    )


class ActivationReport:
    """What report_activation did: one of these strings."""

    ACTIVATED = "activated"
    ALREADY = "already activated"
    PENDING = "pending verification"


def report_activation(*, member: Member) -> str:
    """The host product says `member` is active (the API): activate, or once they verify."""
    if member.activated_at:
        return ActivationReport.ALREADY
    Member.objects.filter(pk=member.pk, activation_reported_at__isnull=True).update(
        activation_reported_at=timezone.now()
    )
    if activate_member(member=member):
        return ActivationReport.ACTIVATED
    member.refresh_from_db(fields=["activated_at"])
    return ActivationReport.ALREADY if member.activated_at else ActivationReport.PENDING


def activate_member(*, member: Member) -> bool:
    """Mark `member` activated once and reward its inviter by the campaign's rule.

    The credit invariant lives here, the one place that activates: only a
    member whose e-mail is verified is ever activated, so rewards, connector
    badges, leaderboards, the dashboard's figures, the API and webhooks
    (which all read activation) never count anyone else, whatever the path.
    """
    if not has_verified_email(member):
        return False
    now = timezone.now()
    with transaction.atomic():
        if not Member.objects.filter(pk=member.pk, activated_at__isnull=True).update(
            activated_at=now, **figures.BUMP
        ):
            return False
        member.activated_at = now
        outbox.queue_notice(kind=OutboundEmail.Kind.INVITEE_ACTIVATED, invitee=member)
        events.publish(events.MEMBER_ACTIVATED, member=member)
        # A held invitee counts for nobody until a marketer approves (credit.approve).
        if member.inviter_id and credit.counts(member):
            credit.count_for_inviter(member)
    return True


def invitees_to_next_reward(member: Member) -> int | None:
    """How many more activated invitees earn the next reward; None if the campaign gives none."""
    every = member.campaign.reward_every
    if not every:
        return None
    return every - (member.activated_invitee_count % every)


MAX_GRANT = 100


def grant_invites(
    *,
    campaign: Campaign,
    member_ids: list[int],
    invites: int,
    granted_by,
    submission: str = "",
) -> int:
    """Give these members of `campaign` `invites` more invites each, recorded; returns how many.

    A repeated `submission` (the same form posted twice) grants nothing: AlreadyGranted.
    """

    if not 1 <= invites <= MAX_GRANT:
        raise ValueError(f"grant between 1 and {MAX_GRANT} invites")
    now = timezone.now()
    try:
        return _grant(campaign, member_ids, invites, granted_by, submission, now)
    except IntegrityError:  # one_grant_per_submission: this form was posted before
        raise AlreadyGranted() from None


class AlreadyGranted(Exception):
    """This grant form was submitted before; its invites were given then."""


def _grant(campaign, member_ids, invites, granted_by, submission, now) -> int:
    with transaction.atomic():
        # Only this campaign's members: an id from another campaign updates nothing.
        members = Member.objects.filter(campaign=campaign, pk__in=member_ids)
        granted = sorted(members.values_list("id", flat=True))
        members.filter(pk__in=granted).update(invites_left=F("invites_left") + invites)
        InviteGrant.objects.bulk_create(
            [
                InviteGrant(
                    campaign=campaign,
                    member_id=member_id,
                    granted_by=granted_by,
                    invites=invites,
                    granted_at=now,
                    submission=submission,
                )
                for member_id in granted
            ]
        )
    return len(granted)
