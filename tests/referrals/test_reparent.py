"""Moving a member, with their downline, under another inviter (tree.move_subtree)."""

import pytest
from django.db.models import ProtectedError

from badges.models import Award
from referrals import services, tree
from referrals.models import Campaign, Member, ModerationAction, OutboundEmail, Reward
from tests.helpers import assert_tree_is_consistent, make_user


def join(inviter: Member, username: str) -> Member:
    Member.objects.filter(pk=inviter.pk).update(invites_left=20)
    inviter.refresh_from_db()
    code = services.create_invite(member=inviter).code
    return services.redeem_invite(code=code, user=make_user(username))


def fresh(*members: Member) -> list[Member]:
    found = Member.objects.select_related("campaign", "user").in_bulk([m.pk for m in members])
    return [found[m.pk] for m in members]


@pytest.fixture
def forest(alice):
    """alice -> bob -> carol -> dan; alice -> erin -> frank; all folded."""
    bob = join(alice, "bob")
    carol = join(bob, "carol")
    dan = join(carol, "dan")
    erin = join(alice, "erin")
    frank = join(erin, "frank")
    tree.fold_all()
    return fresh(alice, bob, carol, dan, erin, frank)


def test_a_move_rewrites_depth_ancestry_and_both_paths_counters(campaign, forest):
    alice, bob, carol, dan, erin, frank = forest
    numbers = dict(Member.objects.values_list("id", "join_number"))
    move = tree.move_subtree(member=bob, new_inviter=frank)
    assert (move.members, move.old_inviter_id) == (3, alice.pk)
    alice, bob, carol, dan, erin, frank = fresh(*forest)
    assert bob.inviter_id == frank.pk
    assert [m.depth for m in (bob, carol, dan)] == [3, 4, 5]
    assert dan.ancestry == f"{alice.pk}/{erin.pk}/{frank.pk}/{bob.pk}/{carol.pk}/"
    # alice keeps her downline (bob's moved inside it); erin and frank gain three.
    assert (alice.downline_size, erin.downline_size, frank.downline_size) == (5, 4, 3)
    assert (alice.invitee_count, frank.invitee_count) == (1, 1)
    assert dict(Member.objects.values_list("id", "join_number")) == numbers
    assert_tree_is_consistent(campaign)
    assert [m.pk for m in tree.ancestors(dan)] == [alice.pk, erin.pk, frank.pk, bob.pk, carol.pk]


def test_moving_across_roots_takes_the_counts_off_the_old_path(campaign, forest):
    _alice, _bob, carol, dan, *_ = forest
    seed = services.create_seed_codes(campaign=campaign, count=1)[0]
    zoe = services.redeem_invite(code=seed.code, user=make_user("zoe"))
    tree.fold_all()
    tree.move_subtree(member=carol, new_inviter=fresh(zoe)[0])
    assert_tree_is_consistent(campaign)
    zoe, dan = fresh(zoe, dan)
    assert (zoe.downline_size, dan.depth) == (2, 2)


@pytest.mark.parametrize("target", ["self", "own downline", "already there"])
def test_moves_that_would_break_the_tree_are_refused(campaign, forest, target):
    alice, bob, _carol, dan, *_ = forest
    to = {"self": bob, "own downline": dan, "already there": alice}[target]
    with pytest.raises(tree.CannotMove):
        tree.move_subtree(member=bob, new_inviter=to)
    assert_tree_is_consistent(campaign)
    assert fresh(bob)[0].inviter_id == alice.pk


def test_a_move_into_another_campaign_is_refused(campaign, forest):
    _alice, bob, *_ = forest
    other = Campaign.objects.create(slug="other", name="Other", code_required=False)
    stranger = services.join_without_code(campaign=other, user=make_user("stranger"))
    tree.fold_all()
    with pytest.raises(tree.CannotMove, match="same campaign"):
        tree.move_subtree(member=bob, new_inviter=fresh(stranger)[0])


def test_an_activated_members_credit_and_badges_follow_the_move(
    campaign, forest, django_capture_on_commit_callbacks, tasks_in_process
):
    campaign.reward_every = 1
    campaign.save()
    alice, bob, *_rest, frank = forest
    assert services.activate_member(member=fresh(bob)[0])
    assert fresh(alice)[0].activated_invitee_count == 1
    with django_capture_on_commit_callbacks(execute=True):
        tree.move_subtree(member=fresh(bob)[0], new_inviter=frank)
    alice, frank = fresh(alice, frank)
    assert (alice.activated_invitee_count, frank.activated_invitee_count) == (0, 1)
    assert Reward.objects.filter(member=frank).count() == 1  # frank's reward, as for any invitee
    assert Reward.objects.filter(member=alice).count() == 1  # alice's, once granted, stays
    # The connector badge follows the credit: the move's event queued the award on commit.
    assert Award.objects.filter(member=frank, slug="connector").exists()


def test_a_signup_that_read_the_old_path_is_put_right_by_the_fold(campaign, forest):
    """What a signup racing a move leaves: ancestry read before the move committed."""
    _alice, bob, carol, _dan, _erin, frank = forest
    stale_ancestry = carol.subtree_prefix
    tree.move_subtree(member=bob, new_inviter=frank)
    racer = join(fresh(carol)[0], "racer")
    Member.objects.filter(pk=racer.pk).update(ancestry=stale_ancestry, depth=3)
    tree.fold_all()
    assert_tree_is_consistent(campaign)
    assert fresh(racer)[0].depth == 5


def test_moderators_move_members_from_the_explorer_with_a_logged_reason(as_mia, campaign, forest):
    alice, bob, carol, _dan, _erin, frank = forest
    url = f"/dashboard/{campaign.slug}/tree/{bob.pk}/moderate/"
    response = as_mia.post(
        url,
        {
            "action": "reparent",
            "new_inviter": f"#{frank.join_number}",
            "reason": "Invited by frank",
        },
        follow=True,
    )
    assert "now hang under" in response.content.decode()
    assert fresh(bob)[0].inviter_id == frank.pk
    [row] = ModerationAction.objects.filter(action="reparent")
    assert row.details == {"members_moved": 3, "from_inviter": alice.pk, "to_inviter": frank.pk}
    assert OutboundEmail.objects.filter(kind="moderation", subject_member=bob).exists()
    # A loop is refused with the reason, and nothing moves.
    loop = as_mia.post(
        f"/dashboard/{campaign.slug}/tree/{frank.pk}/moderate/",
        {"action": "reparent", "new_inviter": str(carol.join_number), "reason": "Oops"},
        follow=True,
    )
    assert "would make a loop" in loop.content.decode()
    assert ModerationAction.objects.filter(action="reparent").count() == 1
    unknown = as_mia.post(
        url, {"action": "reparent", "new_inviter": "#99999", "reason": "x"}, follow=True
    )
    assert "Nobody in" in unknown.content.decode()
    missing = as_mia.post(url, {"action": "reparent", "new_inviter": "", "reason": "x"})
    assert missing.status_code == 302
    assert_tree_is_consistent(campaign)


def test_the_admin_moves_members_only_through_the_action(admin_client, campaign, forest):
    _alice, bob, _carol, _dan, _erin, frank = forest
    page = admin_client.get(f"/admin/referrals/member/{bob.pk}/change/").content.decode()
    assert 'name="inviter"' not in page  # the raw field would bypass the counters
    done = admin_client.post(
        "/admin/referrals/member/",
        {
            "action": "reparent",
            "_selected_action": [bob.pk],
            "new_inviter": str(frank.pk),
            "reason": "Support ticket 12",
            "apply": "1",
        },
    )
    assert done.status_code == 302
    assert fresh(bob)[0].inviter_id == frank.pk
    assert_tree_is_consistent(campaign)
    refused = admin_client.post(
        "/admin/referrals/member/",
        {
            "action": "reparent",
            "_selected_action": [frank.pk],
            "new_inviter": str(bob.pk),
            "reason": "Loop",
            "apply": "1",
        },
    )
    assert refused.status_code == 200 and b"would make a loop" in refused.content


def test_members_are_never_hard_deleted(forest):
    _alice, _bob, _carol, dan, *_ = forest
    with pytest.raises(ProtectedError):  # a leaf too: its redemption is the tree's record
        dan.delete()
    with pytest.raises(ProtectedError):
        Member.objects.filter(pk=dan.pk).delete()
