"""Awarding badges: after the tree fold, on activation, by the sweeps, by the command."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.db.models import F

from badges import services as badges
from badges.models import Award, BadgeSetting
from badges.rules import CONNECTOR, EARLY_ADOPTER, FOUNDING, SUMMARY, TREE_BUILDER
from badges.tasks import award_badges, award_new_members, sweep_awards
from referrals import services, tree
from referrals.models import Campaign, Invite, Member
from tests.helpers import make_user


def awards_of(member: Member) -> dict[str, int]:
    return dict(Award.objects.filter(member=member).values_list("slug", "tier"))


def invite_people(inviter: Member, *usernames: str) -> list[Member]:
    """Members for `usernames` under `inviter`, each with a personal invite."""
    # More invites than the default quota of three: raise it in the database.
    Member.objects.filter(pk=inviter.pk).update(invites_left=F("invites_left") + len(usernames))
    return [
        services.redeem_invite(code=services.create_invite(member=inviter).code, user=make_user(n))
        for n in usernames
    ]


def grow_under(inviter: Member, count: int, prefix: str) -> None:
    """`count` signups under `inviter` through one many-use invite (fast, for big trees)."""
    invite = services.create_invite(member=inviter)
    Invite.objects.filter(pk=invite.pk).update(max_uses=count)
    for n in range(count):
        services.redeem_invite(code=invite.code, user=make_user(f"{prefix}{n}"))


def fold_and_award() -> int:
    tree.fold_all()
    return award_new_members()


def test_seed_members_get_the_summary_early_adopter_and_founding_badges(alice, bob):
    fold_and_award()
    assert awards_of(alice) == {SUMMARY: 0, EARLY_ADOPTER: 100, FOUNDING: 0}


def test_invitees_get_no_founding_badge(alice, bob):
    fold_and_award()
    assert awards_of(bob) == {SUMMARY: 0, EARLY_ADOPTER: 100}


def test_nothing_is_awarded_before_the_tree_counts_a_member(alice, bob):
    # The fold has not run: no join numbers, no badges.
    assert award_new_members() == 0
    assert badges.refresh_many([alice.pk, bob.pk]) == 0
    assert not Award.objects.exists()


def test_signups_alone_earn_no_connector_badge(alice):
    invite_people(alice, "bob", "carol", "dave", "erin", "fay")
    fold_and_award()
    award_badges([alice.pk])
    assert CONNECTOR not in awards_of(alice)


def test_one_activated_invitee_makes_the_inviter_a_tier_1_connector(alice, bob):
    fold_and_award()
    assert services.activate_member(member=bob)
    assert award_badges([alice.pk]) == 1
    assert awards_of(alice)[CONNECTOR] == 1
    assert CONNECTOR not in awards_of(bob)


def test_five_activated_invitees_raise_the_connector_badge_to_tier_5(alice):
    invitees = invite_people(alice, "bob", "carol", "dave", "erin", "fay")
    fold_and_award()
    for invitee in invitees[:4]:
        services.activate_member(member=invitee)
    award_badges([alice.pk])
    assert awards_of(alice)[CONNECTOR] == 1
    services.activate_member(member=invitees[4])
    award_badges([alice.pk])
    assert awards_of(alice)[CONNECTOR] == 5
    assert Award.objects.filter(member=alice, slug=CONNECTOR).count() == 1


def test_refreshing_twice_changes_nothing(alice, bob):
    first = fold_and_award()
    assert first == 5
    rows = list(Award.objects.order_by("pk").values_list("pk", "member_id", "slug", "tier"))
    assert award_new_members() == 0
    assert sweep_awards() == 0
    assert badges.refresh_many([alice.pk, bob.pk]) == 0
    assert badges.refresh_awards(member=Member.objects.get(pk=alice.pk)) == []
    assert list(Award.objects.order_by("pk").values_list("pk", "member_id", "slug", "tier")) == (
        rows
    )


def test_the_database_refuses_a_second_row_for_the_same_badge(alice):
    fold_and_award()
    with pytest.raises(IntegrityError):
        Award.objects.create(member=alice, slug=SUMMARY)


def test_tiers_never_go_down(alice):
    invitees = invite_people(alice, "bob", "carol", "dave", "erin", "fay")
    fold_and_award()
    for invitee in invitees:
        services.activate_member(member=invitee)
    award_badges([alice.pk])
    before = Award.objects.get(member=alice, slug=CONNECTOR)
    assert before.tier == 5
    # Say four invitees' accounts were deleted and the count was corrected.
    Member.objects.filter(pk=alice.pk).update(activated_invitee_count=1)
    assert award_badges([alice.pk]) == 0
    after = Award.objects.get(member=alice, slug=CONNECTOR)
    assert (after.tier, after.updated_at) == (5, before.updated_at)


def test_a_tree_of_a_hundred_below_earns_tree_builder_in_the_sweep(alice, bob):
    grow_under(bob, 98, "leaf")  # alice: bob + 98 = 99 below
    fold_and_award()
    assert sweep_awards() == 0
    assert TREE_BUILDER not in awards_of(alice)

    grow_under(bob, 1, "hundredth")  # alice: 100 below, bob: 99
    fold_and_award()
    assert TREE_BUILDER not in awards_of(alice)  # join awards do not look at ancestors
    assert sweep_awards() == 1
    assert awards_of(alice)[TREE_BUILDER] == 100
    assert TREE_BUILDER not in awards_of(bob)
    assert sweep_awards() == 0


def test_a_campaign_can_lower_the_tree_builder_threshold(alice, bob, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=TREE_BUILDER, thresholds="3")
    fold_and_award()
    [carol] = invite_people(bob, "carol")
    invite_people(carol, "dave")
    fold_and_award()
    assert TREE_BUILDER not in awards_of(alice)
    assert sweep_awards() == 1
    assert awards_of(alice)[TREE_BUILDER] == 3
    assert TREE_BUILDER not in awards_of(bob)


def test_the_sweep_raises_a_tree_builder_tier_when_the_tree_grows(alice, bob, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=TREE_BUILDER, thresholds="2,4")
    fold_and_award()
    [carol] = invite_people(bob, "carol")
    fold_and_award()
    sweep_awards()
    assert awards_of(alice)[TREE_BUILDER] == 2
    invite_people(carol, "dave", "erin")
    fold_and_award()
    sweep_awards()
    assert awards_of(alice)[TREE_BUILDER] == 4


def test_a_campaign_can_rename_a_badge(client, alice, campaign):
    BadgeSetting.objects.create(
        campaign=campaign, slug=EARLY_ADOPTER, name="Pioneer", description="Here before the rest."
    )
    fold_and_award()
    image = client.get("/badges/alice/early-adopter.svg").content.decode()
    page = client.get("/badges/alice/early-adopter/").content.decode()
    assert ">Pioneer</text>" in image
    assert "Early adopter" not in image
    assert "Pioneer" in page
    assert "Here before the rest." in page


def test_a_campaign_can_change_the_early_adopter_thresholds(alice, bob, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=EARLY_ADOPTER, thresholds=" 2 ")
    [carol] = invite_people(alice, "carol")
    fold_and_award()
    assert awards_of(alice)[EARLY_ADOPTER] == 2
    assert awards_of(bob)[EARLY_ADOPTER] == 2
    assert EARLY_ADOPTER not in awards_of(carol)


def test_a_campaign_can_change_the_connector_thresholds(alice, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=CONNECTOR, thresholds="2,10")
    bob, carol = invite_people(alice, "bob", "carol")
    fold_and_award()
    services.activate_member(member=bob)
    award_badges([alice.pk])
    assert CONNECTOR not in awards_of(alice)
    services.activate_member(member=carol)
    award_badges([alice.pk])
    assert awards_of(alice)[CONNECTOR] == 2


def test_a_campaign_can_disable_a_badge(alice, bob, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=FOUNDING, enabled=False)
    fold_and_award()
    assert awards_of(alice) == {SUMMARY: 0, EARLY_ADOPTER: 100}


def test_badge_settings_of_one_campaign_leave_another_alone(alice, campaign):
    other = Campaign.objects.create(slug="other", name="Other beta")
    BadgeSetting.objects.create(campaign=other, slug=FOUNDING, enabled=False)
    fold_and_award()
    assert FOUNDING in awards_of(alice)


def test_a_new_first_10_tier_upgrades_members_who_were_first_100(alice, campaign):
    fold_and_award()
    assert awards_of(alice)[EARLY_ADOPTER] == 100
    BadgeSetting.objects.create(campaign=campaign, slug=EARLY_ADOPTER, thresholds="10,100,1000")
    call_command("recompute_badges", stdout=io.StringIO())
    assert awards_of(alice)[EARLY_ADOPTER] == 10


def test_an_early_adopter_keeps_first_10_when_the_campaign_drops_that_tier(alice, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=EARLY_ADOPTER, thresholds="10,100")
    fold_and_award()
    assert awards_of(alice)[EARLY_ADOPTER] == 10
    BadgeSetting.objects.filter(campaign=campaign, slug=EARLY_ADOPTER).update(thresholds="100")
    call_command("recompute_badges", stdout=io.StringIO())
    assert awards_of(alice)[EARLY_ADOPTER] == 10


def test_the_tree_builder_sweep_leaves_members_already_at_their_tier_alone(alice, bob, campaign):
    BadgeSetting.objects.create(campaign=campaign, slug=TREE_BUILDER, thresholds="1,2")
    fold_and_award()
    assert awards_of(alice)[TREE_BUILDER] == 1  # bob below her when she was numbered
    assert badges.tree_builder_candidates() == []
    invite_people(bob, "carol")
    fold_and_award()
    assert set(badges.tree_builder_candidates()) == {alice.pk, bob.pk}
    sweep_awards()
    assert (awards_of(alice)[TREE_BUILDER], awards_of(bob)[TREE_BUILDER]) == (2, 1)
    assert badges.tree_builder_candidates() == []


def test_the_recompute_command_awards_everything_in_the_default_campaign(alice, bob, campaign):
    other = Campaign.objects.create(slug="other", name="Other beta", is_default=False)
    [seed] = services.create_seed_codes(campaign=other, count=1)
    outsider = services.redeem_invite(code=seed.code, user=make_user("olga"))
    tree.fold_all()  # numbered, but no award task ran

    out = io.StringIO()
    call_command("recompute_badges", stdout=out)
    assert awards_of(alice) == {SUMMARY: 0, EARLY_ADOPTER: 100, FOUNDING: 0}
    assert awards_of(bob) == {SUMMARY: 0, EARLY_ADOPTER: 100}
    assert awards_of(outsider) == {}
    assert out.getvalue().strip() == "Passalong beta: 5 award(s) given or raised."

    again = io.StringIO()
    call_command("recompute_badges", "--batch", "1", stdout=again)
    assert again.getvalue().strip() == "Passalong beta: 0 award(s) given or raised."

    call_command("recompute_badges", "--campaign", "other", stdout=io.StringIO())
    assert awards_of(outsider) == {SUMMARY: 0, EARLY_ADOPTER: 100, FOUNDING: 0}


def test_the_recompute_command_refuses_an_unknown_campaign(campaign):
    with pytest.raises(CommandError, match="no campaign with slug 'nope'"):
        call_command("recompute_badges", "--campaign", "nope", stdout=io.StringIO())


def test_staff_can_revoke_an_award_once(alice):
    fold_and_award()
    award = Award.objects.get(member=alice, slug=EARLY_ADOPTER)
    badges.revoke(award=award, reason="Bought a seed code")
    award.refresh_from_db()
    assert award.revoked_at is not None
    assert award.revoked_reason == "Bought a seed code"
    assert not award.is_public

    first = award.revoked_at
    badges.revoke(award=award, reason="Again")
    award.refresh_from_db()
    assert (award.revoked_at, award.revoked_reason) == (first, "Bought a seed code")


def test_refreshing_neither_restores_nor_duplicates_a_revoked_award(alice):
    fold_and_award()
    badges.revoke(award=Award.objects.get(member=alice, slug=FOUNDING), reason="fraud")
    assert badges.refresh_many([alice.pk]) == 0
    assert Award.objects.filter(member=alice, slug=FOUNDING, revoked_at__isnull=False).count() == 1
    assert Award.objects.filter(member=alice, slug=FOUNDING).count() == 1
