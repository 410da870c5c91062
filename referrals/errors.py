"""Why an invite code was refused, in words a person can act on."""

from __future__ import annotations

from django.utils import formats

from . import events


class InviteRefused(Exception):
    """An invite code that cannot be used right now; `message` is shown to the visitor.

    One is made only to be raised, so making one is the refusal: it is published
    (events.INVITE_REFUSED) for the operator's counts, wherever the gate said no.
    """

    reason = "refused"
    http_status = 410

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        events.publish(events.INVITE_REFUSED, reason=self.reason)


class UnknownCode(InviteRefused):
    reason = "unknown"
    http_status = 404

    def __init__(self) -> None:
        super().__init__(
            "We don't recognise that invite code. Check it for typos: "
            "codes look like ABCDE-FGHJK-MNPQR."
        )


class CodeUsedUp(InviteRefused):
    reason = "used_up"

    def __init__(self, max_uses: int = 1) -> None:
        if max_uses > 1:
            text = f"This invite code has no uses left (all {max_uses} were taken)."
        else:
            text = "This invite code has already been used."
        text += " Ask the person who sent it for a fresh one."
        super().__init__(text)


class CodeExpired(InviteRefused):
    reason = "expired"

    def __init__(self, expired_at) -> None:
        when = formats.date_format(expired_at, "DATE_FORMAT")
        super().__init__(
            f"This invite code expired on {when}. Ask the person who sent it for a new one."
        )


class CodeRevoked(InviteRefused):
    reason = "revoked"

    def __init__(self) -> None:
        super().__init__("This invite code was withdrawn by the person who sent it.")


class CodeFrozen(InviteRefused):
    reason = "frozen"
    http_status = 403

    def __init__(self) -> None:
        super().__init__(
            "This invite code is paused: it was used from many different places within a "
            "short time, which usually means it was posted publicly. If someone invited you "
            "personally, ask them for a new invite."
        )


class CampaignClosed(InviteRefused):
    reason = "closed"

    def __init__(self, campaign_name: str) -> None:
        super().__init__(f"{campaign_name} is not accepting new members right now.")


class AlreadyMember(InviteRefused):
    reason = "already_member"
    http_status = 409

    def __init__(self, campaign_name: str) -> None:
        super().__init__(f"You are already a member of {campaign_name}.")


class NoInvitesLeft(Exception):
    """The member has no invites left to create another."""

    def __init__(self) -> None:
        super().__init__(
            "You have no invites left. Invites you revoke come back, and active invitees earn more."
        )
        self.message = str(self)


class InvitingRevoked(NoInvitesLeft):
    """A moderator revoked this member's right to invite."""

    def __init__(self) -> None:
        Exception.__init__(
            self,
            "A moderator has paused your invites, so you can't send new ones for now. "
            "The e-mail we sent you says why.",
        )
        self.message = str(self)
