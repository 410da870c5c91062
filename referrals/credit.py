"""Risk-scored credit: flag, don't block.

At each redemption a few signals are computed and stored with it (RiskSignal
rows with their evidence); their weights add up to the redemption's risk
score. At or above the campaign's threshold the invitee still gets their
account, but their credit is *held*: when they activate, their inviter's
activated-invitee count (and so rewards, connector badges and leaderboards)
and the dashboard's activated figures leave them out until a marketer
approves. Approving releases the credit exactly once (a conditional UPDATE
on the redemption and one CreditDecision row per redemption); rejecting
records why.

Default weights and threshold (60), and why: a shared network alone is
often a household or an office (40: flagged, not held); a throwaway address
alone is often privacy, not fraud (30); together, or a burst of one
inviter's codes from one network, or another member's mailbox under dots
and +tags (60), is what account farming looks like, and is held; so is the
inviter's own link redeemed on the browser where they opened it logged in
(60): a second account of the inviter is the classic self-referral.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from . import addresses, events, figures, sightings
from .models import Campaign, CreditDecision, Member, Redemption, Reward, RiskSignal


@dataclass(frozen=True)
class Rule:
    weight: int
    title: str


RULES = {
    "inviter_network": Rule(40, "Same network as the inviter"),
    "network_burst": Rule(30, "Several of this inviter's codes redeemed from one network"),
    "known_mailbox": Rule(60, "Another member's address, once dots and +tags are dropped"),
    "disposable_address": Rule(30, "A throwaway-inbox domain"),
    "own_link": Rule(60, "Redeemed on a browser where the inviter opened it while logged in"),
}
BURST_WINDOW = timedelta(hours=1)
BURST_MIN = 3  # redemptions of one inviter's codes from one network, this one included

Credit = Redemption.Credit
COUNTS = (Credit.COUNTED, Credit.APPROVED)


def weight(campaign: Campaign, rule: str) -> int:
    """The campaign's weight for `rule` (its risk_weights), else the default."""
    custom = (campaign.risk_weights or {}).get(rule)
    return int(custom) if isinstance(custom, int) and custom >= 0 else RULES[rule].weight


def assess(
    *,
    redemption: Redemption,
    member: Member,
    inviter: Member | None,
    email: str,
    opened_by: frozenset[int] = frozenset(),
) -> int:
    """Compute and store the signals of a new redemption, its score, and hold it if due.

    `opened_by` are the members who opened their own invite link while logged
    in on the redeeming browser (sightings.own_link_openers). Runs in the
    redemption's transaction: the signals commit with the signup.
    """
    campaign = member.campaign
    fired: dict[str, dict] = {}
    network = redemption.signup_network
    if sightings.is_local(network):
        network = ""
    if inviter is not None and network:
        if evidence := _inviter_seen_on(inviter, network):
            fired["inviter_network"] = evidence
        since = redemption.redeemed_at - BURST_WINDOW
        burst = Redemption.objects.filter(
            invite__owner_id=inviter.pk, signup_network=network, redeemed_at__gte=since
        ).count()
        if burst >= BURST_MIN:
            fired["network_burst"] = {"network": network, "redemptions_within_hour": burst}
    if member.mailbox:
        twin = (
            Member.objects.filter(campaign=campaign, mailbox=member.mailbox)
            .exclude(pk=member.pk)
            .values_list("id", flat=True)
            .first()
        )
        if twin is not None:
            fired["known_mailbox"] = {"mailbox": member.mailbox, "member_id": twin}
    if email and addresses.is_disposable(email):
        fired["disposable_address"] = {"domain": addresses.domain_of(email)}
    if inviter is not None and inviter.pk in opened_by:
        fired["own_link"] = {"inviter_id": inviter.pk, "seen": "opened own link, logged in"}
    if not fired:
        return 0
    weights = {rule: weight(campaign, rule) for rule in fired}
    RiskSignal.objects.bulk_create(
        [
            RiskSignal(redemption=redemption, rule=rule, weight=weights[rule], evidence=evidence)
            for rule, evidence in fired.items()
        ]
    )
    score = min(sum(weights.values()), 32767)
    held = bool(campaign.risk_threshold) and score >= campaign.risk_threshold
    redemption.risk_score = score
    redemption.credit = Credit.HELD if held else Credit.COUNTED
    Redemption.objects.filter(pk=redemption.pk).update(risk_score=score, credit=redemption.credit)
    return score


def _inviter_seen_on(inviter: Member, network: str) -> dict | None:
    """Evidence that `inviter` signed up from, or had a recent session on, `network`."""
    signed_up_on = (
        Redemption.objects.filter(member_id=inviter.pk)
        .values_list("signup_network", flat=True)
        .first()
    )
    if signed_up_on == network:
        return {"network": network, "seen": "inviter's signup"}
    if inviter.user_id and (day := sightings.seen_on(user_id=inviter.user_id, network=network)):
        return {"network": network, "seen": "inviter's session", "last_seen_on": day.isoformat()}
    return None


def counts(member: Member) -> bool:
    """Does `member` count for their inviter? Seeds have nobody to count for.

    Locks the redemption's row (inside the caller's transaction): an approval
    or a moderator's hold of the same redemption waits for this activation, or
    this activation for them, so credit is counted exactly once either way.
    """
    state = (
        Redemption.objects.select_for_update()
        .filter(member_id=member.pk)
        .values_list("credit", flat=True)
        .first()
    )
    return state is None or state in COUNTS


def hold(*, redemption_ids: list[int], evidence: dict) -> int:
    """Hold the credit of counted redemptions for review (a moderator's flag); how many.

    Takes back what each had given: an activated invitee no longer counts for
    their inviter until approved. Invites already granted as rewards stay
    granted (approving cannot grant them twice: rewards are one per count).
    Call inside a transaction.
    """
    # The members' rows first, as an activation locks them (then the redemption's):
    # one lock order, so a flag racing an activation waits rather than deadlocks.
    figures.bump(
        Member.objects.filter(redemption__in=redemption_ids, redemption__credit=Credit.COUNTED)
    )
    locked = list(
        Redemption.objects.select_for_update(of=("self",))
        .filter(pk__in=redemption_ids, credit=Credit.COUNTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not locked:
        return 0
    Redemption.objects.filter(pk__in=locked).update(credit=Credit.HELD)
    RiskSignal.objects.bulk_create(
        [
            RiskSignal(redemption_id=pk, rule="flagged", weight=0, evidence=evidence)
            for pk in locked
        ],
        ignore_conflicts=True,
    )
    # A fresh read after the locks: activations that were counting these
    # redemptions have committed, and are taken back here.
    given: dict[int, int] = {}
    for inviter_id in Member.objects.filter(
        redemption__pk__in=locked, activated_at__isnull=False, inviter__isnull=False
    ).values_list("inviter_id", flat=True):
        given[inviter_id] = given.get(inviter_id, 0) + 1
    for inviter_id, n in sorted(given.items()):
        Member.objects.filter(pk=inviter_id).update(
            activated_invitee_count=F("activated_invitee_count") - n
        )
    return len(locked)


def count_for_inviter(member: Member) -> None:
    """Add an activated, credited invitee to their inviter's count; reward by the campaign's rule.

    Call inside the transaction that activated (or approved) `member`.
    """
    campaign = member.campaign
    Member.objects.filter(pk=member.inviter_id).update(
        activated_invitee_count=F("activated_invitee_count") + 1
    )
    # Our UPDATE holds the inviter's row lock, so this count is ours.
    count = Member.objects.values_list("activated_invitee_count", flat=True).get(
        pk=member.inviter_id
    )
    if campaign.reward_every and count % campaign.reward_every == 0:
        _, created = Reward.objects.get_or_create(
            member_id=member.inviter_id,
            activated_invitees=count,
            defaults={"invites_granted": campaign.reward_invites},
        )
        if created:
            Member.objects.filter(pk=member.inviter_id).update(
                invites_left=F("invites_left") + campaign.reward_invites
            )


class AlreadyDecided(Exception):
    """This redemption was decided before (or was never held)."""


def approve(*, redemption: Redemption, by, reason: str = "", now: datetime) -> None:
    """Release a held redemption's credit, once; AlreadyDecided if someone was first."""
    _decide(redemption, by, reason, now, Credit.APPROVED)


def reject(*, redemption: Redemption, by, reason: str, now: datetime) -> None:
    """Keep a held redemption's credit out for good, recording why."""
    _decide(redemption, by, reason, now, Credit.REJECTED)


def _decide(redemption: Redemption, by, reason: str, now: datetime, outcome: str) -> None:
    with transaction.atomic():
        # The conditional UPDATE decides the race: one marketer changes the row,
        # the other finds it decided (and the one-to-one decision row agrees).
        # The member's row first, in the order an activation locks them (see hold).
        figures.bump(Member.objects.filter(redemption=redemption.pk))
        if not Redemption.objects.filter(pk=redemption.pk, credit=Credit.HELD).update(
            credit=outcome
        ):
            raise AlreadyDecided()
        CreditDecision.objects.create(
            redemption_id=redemption.pk,
            decision=outcome,
            reason=(reason or "").strip()[:500],
            decided_by=by,
            decided_by_name=getattr(by, "username", "") or "system",
            at=now,
        )
        member = Member.objects.select_related("campaign").get(pk=redemption.member_id)
        if outcome == Credit.APPROVED and member.activated_at and member.inviter_id:
            count_for_inviter(member)
            events.publish(events.CREDIT_RELEASED, member=member)
    redemption.credit = outcome
