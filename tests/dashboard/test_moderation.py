"""Moderation over the tree from the explorer: logged, with a reason, the member told."""

import csv
import html
import io
import re

import pytest
from django.utils import timezone

from referrals import credit, errors, services, tree
from referrals.models import Invite, Member, ModerationAction, OutboundEmail, Redemption, Reward
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


# --- Flagging a subtree for review -------------------------------------------------


@pytest.fixture
def counted_family(campaign, family):
    """alice -> bob -> carol, all three activated and counted; erin, alice's other invitee."""
    alice, bob, carol, invites = family
    campaign.reward_every = 1
    campaign.save()
    erin = services.redeem_invite(code=invites[alice.pk].code, user=make_user("erin"))
    for m in (bob, carol, erin):
        assert services.activate_member(
            member=Member.objects.select_related("campaign").get(pk=m.pk)
        )
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.activated_invitee_count, bob.activated_invitee_count) == (2, 1)
    return alice, bob, carol, erin


def test_flagging_a_subtree_holds_its_redemptions_in_the_review_queue(
    as_mia, campaign, counted_family
):
    alice, bob, carol, erin = counted_family
    response = moderate(as_mia, campaign, bob, "flag_subtree", reason="One person, many accounts?")
    assert response.status_code == 302
    credits = dict(Redemption.objects.values_list("member_id", "credit"))
    assert credits[bob.pk] == credits[carol.pk] == "held"  # bob and everyone below
    assert credits[erin.pk] == "counted"  # not below bob
    alice.refresh_from_db()
    bob.refresh_from_db()
    # The credit they gave is taken back until a marketer decides.
    assert (alice.activated_invitee_count, bob.activated_invitee_count) == (1, 0)
    page = as_mia.get(f"/dashboard/{campaign.slug}/review/").content.decode()
    held = re.findall(r'data-redemption="(\d+)"', page)
    assert sorted(map(int, held)) == sorted(
        Redemption.objects.filter(member__in=[bob, carol]).values_list("pk", flat=True)
    )
    assert "One person, many accounts?" in html.unescape(page)  # the evidence says why
    [row] = ModerationAction.objects.filter(action="flag_subtree")
    assert (row.target_id, row.details) == (bob.pk, {"redemptions_held": 2})
    assert OutboundEmail.objects.filter(kind="moderation", subject_member=bob).exists()


def test_approving_a_flagged_redemption_gives_the_credit_back_without_a_second_reward(
    as_mia, mara, campaign, counted_family
):
    _alice, bob, carol, _erin = counted_family
    rewards = Reward.objects.filter(member=bob).count()
    moderate(as_mia, campaign, bob, "flag_subtree")
    redemption = Redemption.objects.get(member=carol)
    credit.approve(redemption=redemption, by=mara, reason="Checked", now=timezone.now())
    bob.refresh_from_db()
    assert bob.activated_invitee_count == 1
    assert Reward.objects.filter(member=bob).count() == rewards  # one reward per count, ever
    # Flagging again leaves decided credit alone.
    moderate(as_mia, campaign, bob, "flag_subtree", reason="Again")
    assert Redemption.objects.get(member=carol).credit == "approved"


def test_moderators_act_from_the_admin_with_a_reason(admin_client, campaign, counted_family):
    _alice, bob, carol, _erin = counted_family
    url = "/admin/referrals/member/"
    ask = admin_client.post(url, {"action": "flag_subtree", "_selected_action": [bob.pk]})
    assert ask.status_code == 200 and b'name="reason"' in ask.content  # asks why first
    assert not ModerationAction.objects.exists()
    done = admin_client.post(
        url,
        {
            "action": "flag_subtree",
            "_selected_action": [bob.pk],
            "reason": "Reported by a member",
            "apply": "1",
        },
    )
    assert done.status_code == 302
    [row] = ModerationAction.objects.all()
    assert (row.action, row.actor_name, row.reason) == (
        "flag_subtree",
        "admin",
        "Reported by a member",
    )
    assert Redemption.objects.get(member=carol).credit == "held"
    admin_client.post(
        url, {"action": "revoke_inviting", "_selected_action": [carol.pk], "apply": "1"}
    )
    carol.refresh_from_db()
    assert carol.can_invite  # no reason, nothing done
