"""Moderation over the tree from the explorer: logged, with a reason, the member told."""

import csv
import io

import pytest

from referrals import errors, services, tree
from referrals.models import Invite, Member, ModerationAction, OutboundEmail
from tests.helpers import make_user


def moderate(client, campaign, member, action, reason="Farming accounts from one network"):
    return client.post(
        f"/dashboard/{campaign.slug}/tree/{member.pk}/moderate/",
        {"action": action, "reason": reason},
    )


@pytest.fixture
def family(alice, bob):
    """alice -> bob -> carol, each with an open invite of their own."""
    carol = services.redeem_invite(
        code=services.create_invite(member=bob).code, user=make_user("carol")
    )
    tree.fold_all()
    open_invites = {m.pk: services.create_invite(member=m) for m in (alice, bob, carol)}
    for m in (alice, bob, carol):
        m.refresh_from_db()
    return alice, bob, carol, open_invites


def test_revoking_the_right_to_invite_voids_open_invites_and_refuses_new_ones(
    as_mia, campaign, family
):
    _alice, bob, _carol, invites = family
    response = moderate(as_mia, campaign, bob, "revoke_inviting")
    assert response.status_code == 302
    assert Invite.objects.get(pk=invites[bob.pk].pk).revoked_at is not None
    bob.refresh_from_db()
    assert bob.can_invite is False
    with pytest.raises(errors.InvitingRevoked):
        services.create_invite(member=bob)
    [row] = ModerationAction.objects.filter(target=bob)
    assert (row.action, row.actor_name, row.details) == (
        "revoke_inviting",
        "mia",
        {"invites_voided": 1},
    )
    # The member is told, with the reason.
    [mail] = OutboundEmail.objects.filter(kind="moderation", subject_member=bob)
    assert mail.to_email == bob.user.email


def test_restoring_gives_the_frozen_quota_back(as_mia, campaign, family):
    _alice, bob, _carol, _ = family
    left = bob.invites_left
    moderate(as_mia, campaign, bob, "revoke_inviting")
    moderate(as_mia, campaign, bob, "restore_inviting", reason="Cleared after a chat")
    bob.refresh_from_db()
    assert bob.can_invite and bob.invites_left == left + 1  # the voided invite's seat came back
    services.create_invite(member=bob)


def test_freezing_a_subtree_freezes_everyone_below_and_no_one_else(as_mia, campaign, family):
    alice, bob, carol, invites = family
    moderate(as_mia, campaign, bob, "freeze_subtree")
    frozen = {i.owner_id for i in Invite.objects.filter(frozen_at__isnull=False)}
    assert frozen == {bob.pk, carol.pk}
    with pytest.raises(errors.CodeFrozen):
        services.redeem_invite(code=invites[carol.pk].code, user=make_user("dave"))
    services.redeem_invite(code=invites[alice.pk].code, user=make_user("erin"))  # not below bob
    moderate(as_mia, campaign, bob, "unfreeze_subtree", reason="Checked: real people")
    assert not Invite.objects.filter(frozen_at__isnull=False).exists()
    services.redeem_invite(code=invites[carol.pk].code, user=make_user("dan"))


def test_a_ban_ends_sessions_voids_codes_and_leaves_the_downline_in_place(
    client, campaign, family, admin_user
):
    _alice, bob, carol, invites = family
    campaign.tell_inviter_of_ban = True
    campaign.save()
    bob_client = type(client)()
    bob_client.force_login(bob.user)
    assert bob_client.get("/invites/").status_code == 200
    client.force_login(admin_user)
    moderate(client, campaign, bob, "ban", reason="Selling codes")

    assert bob_client.get("/invites/").status_code == 302  # logged out: back to the login page
    bob.refresh_from_db()
    bob.user.refresh_from_db()
    assert bob.banned_at and not bob.user.is_active and not bob.can_invite
    assert Invite.objects.get(pk=invites[bob.pk].pk).revoked_at is not None
    carol.refresh_from_db()
    assert carol.inviter_id == bob.pk and carol.depth == 2  # the downline keeps its place
    kinds = set(OutboundEmail.objects.values_list("kind", flat=True))
    assert {"moderation", "invitee_banned"} <= kinds  # bob, and alice his inviter, are told


def test_only_staff_can_ban(as_mia, campaign, family):
    _alice, bob, _carol, _ = family
    assert moderate(as_mia, campaign, bob, "ban").status_code == 403
    bob.user.refresh_from_db()
    assert bob.user.is_active


def test_every_action_needs_a_reason(as_mia, campaign, family):
    _alice, bob, _carol, _ = family
    moderate(as_mia, campaign, bob, "revoke_inviting", reason="   ")
    bob.refresh_from_db()
    assert bob.can_invite and not ModerationAction.objects.exists()


def test_members_and_other_campaigns_marketers_cannot_moderate(client, campaign, family):
    alice, bob, _carol, _ = family
    client.force_login(alice.user)
    assert moderate(client, campaign, bob, "revoke_inviting").status_code in (403, 404)
    other = Member.objects.get(pk=bob.pk)
    assert other.can_invite


def test_the_log_is_listed_and_exported(as_mia, campaign, family):
    _alice, bob, carol, _ = family
    moderate(as_mia, campaign, bob, "freeze_subtree", reason="=HYPERLINK(evil)")
    moderate(as_mia, campaign, carol, "revoke_inviting", reason="Spam")
    page = as_mia.get(f"/dashboard/{campaign.slug}/moderation/").content.decode()
    assert page.index("Spam") < page.index("=HYPERLINK")  # newest first
    body = b"".join(as_mia.get(f"/dashboard/{campaign.slug}/moderation.csv").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["at", "actor", "action", "member_id", "member", "reason", "details"]
    assert [r[2] for r in rows[1:]] == ["freeze_subtree", "revoke_inviting"]
    assert rows[1][5] == "'=HYPERLINK(evil)"  # a formula is defused


def test_the_log_is_append_only_in_the_admin(admin_client, as_mia, campaign, family):
    _alice, bob, _carol, _ = family
    moderate(as_mia, campaign, bob, "revoke_inviting")
    row = ModerationAction.objects.get()
    assert admin_client.get("/admin/referrals/moderationaction/").status_code == 200
    assert (
        admin_client.post(f"/admin/referrals/moderationaction/{row.pk}/delete/").status_code == 403
    )
