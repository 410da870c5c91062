"""Domain events: referrals says what happened; its consumers decide what follows.

Referrals imports none of its consumers (badges, webhooks, the dashboard).
They subscribe to these events in their `AppConfig.ready`, and `publish`
calls each handler at once, inside the caller's transaction: a webhook's
Event row commits or rolls back with the signup that caused it, so moving
the call behind this registry loses and doubles nothing. Handlers write
rows or enqueue tasks on commit; they never send or call out themselves.

docs/architecture.md ("The house") says why a registry and not an outbox
of domain events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

# What happened, and the keyword arguments each handler receives.
MEMBER_JOINED = "member.joined"  # member: a new Member (committed with the redemption)
MEMBER_ACTIVATED = "member.activated"  # member: a Member activated by this transaction
MEMBERS_COUNTED = "members.counted"  # count: how many new members the tree fold numbered
BADGE_AWARDED = "badge.awarded"  # award, member: a new award, or a higher tier
CREDIT_RELEASED = "credit.released"  # member: an approved invitee now counts for their inviter
# member: a Member moved under another inviter with its subtree; gained: the ids of
# the members whose counters grew (the new inviter and the new path's ancestors)
MEMBER_MOVED = "member.moved"
# For the operator's counts (ops): nothing in the product follows from these.
INVITE_REFUSED = "invite.refused"  # reason: an errors.InviteRefused's reason, as it is raised
BADGE_SERVED = "badge.served"  # cached: True when a badge image came from the render cache

KNOWN = frozenset(
    {
        MEMBER_JOINED,
        MEMBER_ACTIVATED,
        MEMBERS_COUNTED,
        BADGE_AWARDED,
        CREDIT_RELEASED,
        MEMBER_MOVED,
        INVITE_REFUSED,
        BADGE_SERVED,
    }
)

_handlers: dict[str, list[Callable[..., object]]] = defaultdict(list)


def subscribe(event: str, handler: Callable[..., object]) -> None:
    """Call `handler(**payload)` whenever `event` is published; subscribing twice is one."""
    if event not in KNOWN:
        raise ValueError(f"unknown event {event!r}")
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def publish(event: str, **payload: object) -> None:
    """Run every handler of `event` now, in the caller's transaction; an error rolls it back."""
    if event not in KNOWN:
        raise ValueError(f"unknown event {event!r}")
    for handler in tuple(_handlers[event]):
        handler(**payload)
