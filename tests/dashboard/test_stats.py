"""The dashboard's figures, checked against a small tree computed by hand.

    alice (seed, day 1)
    ├── bob   (day 1, activated day 2) ── dave (day 3, activated day 3)
    └── carol (day 2)

alice created 4 invites: bob's (redeemed 1 h after creation), carol's (3 h),
one still open that someone opened, one revoked unused. bob created dave's
(redeemed 2 h after creation).
"""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard import stats
from referrals import services, tree
from referrals.models import CampaignStats, DailyStat, Invite, InviteEvent, Member, Redemption
from tests.helpers import make_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def invite_redeemed(member, username, *, created, redeemed):
    invite = services.create_invite(member=member)
    new = services.redeem_invite(code=invite.code, user=make_user(username))
    Invite.objects.filter(pk=invite.pk).update(created_at=created)
    Redemption.objects.filter(member=new).update(redeemed_at=redeemed)
    Member.objects.filter(pk=new.pk).update(joined_at=redeemed)
    return new


@pytest.fixture
def small_tree(alice):
    Member.objects.filter(pk=alice.pk).update(joined_at=T0)
    alice.refresh_from_db()
    revoked = services.create_invite(member=alice)
    services.revoke_invite(invite=revoked)  # gives alice her invite back
    bob = invite_redeemed(alice, "bob", created=T0, redeemed=T0 + timedelta(hours=1))
    carol = invite_redeemed(
        alice, "carol", created=T0 + timedelta(days=1), redeemed=T0 + timedelta(days=1, hours=3)
    )
    opened = services.create_invite(member=alice)
    InviteEvent.objects.create(invite=opened, kind=InviteEvent.Kind.OPENED, visitor="v1")
    bob.refresh_from_db()
    dave = invite_redeemed(
        bob, "dave", created=T0 + timedelta(days=2), redeemed=T0 + timedelta(days=2, hours=2)
    )
    for member, day in ((bob, 1), (dave, 2)):
        member.refresh_from_db()
        services.activate_member(member=member)
        Member.objects.filter(pk=member.pk).update(activated_at=T0 + timedelta(days=day, hours=5))
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}


def test_it_counts_members_seeds_activations_and_generations(campaign, small_tree):
    figures = stats.refresh(campaign=campaign)
    assert figures.members == 4
    assert figures.seed_members == 1
    assert figures.activated_members == 2
    assert figures.invited_members == 3
    assert figures.deepest_generation == 2
    assert figures.generations == {"0": 1, "1": 2, "2": 1}


def test_each_funnel_stage_is_a_subset_of_the_one_before(campaign, small_tree):
    figures = stats.refresh(campaign=campaign)
    # 5 member invites; the revoked unused one was never sent; the open one was opened.
    assert [
        figures.invites_created,
        figures.invites_sent,
        figures.invites_opened,
        figures.invites_redeemed,
        figures.invites_activated,
    ] == [5, 4, 4, 3, 2]


def test_seed_codes_stay_out_of_the_invite_figures(campaign, small_tree):
    services.create_seed_codes(campaign=campaign, count=10)
    figures = stats.refresh(campaign=campaign)
    assert figures.invites_created == 5
    assert figures.invites_sent == 4


def test_rates_and_k_factor_match_the_hand_computation(campaign, small_tree):
    figures = stats.refresh(campaign=campaign)
    assert figures.redemption_rate == pytest.approx(3 / 4)
    assert figures.activation_rate == pytest.approx(2 / 4)
    assert figures.invites_per_member == pytest.approx(4 / 4)
    assert figures.k_factor == pytest.approx(0.75)


def test_cycle_time_is_the_average_from_creation_to_redemption(campaign, small_tree):
    figures = stats.refresh(campaign=campaign)
    assert figures.avg_cycle_seconds == pytest.approx((1 + 3 + 2) / 3 * 3600)
    assert stats.format_duration(figures.avg_cycle_time) == "2.0 h"


def test_daily_rows_count_joins_and_activations_per_day(campaign, small_tree):
    stats.refresh(campaign=campaign)
    rows = {
        (d.day.isoformat(), d.joined, d.activated)
        for d in DailyStat.objects.filter(campaign=campaign)
    }
    assert rows == {("2026-03-02", 2, 0), ("2026-03-03", 1, 1), ("2026-03-04", 1, 1)}


def test_a_second_refresh_replaces_the_figures_instead_of_adding(campaign, small_tree):
    stats.refresh(campaign=campaign)
    services.create_invite(member=small_tree["carol"])
    figures = stats.refresh(campaign=campaign)
    assert CampaignStats.objects.filter(campaign=campaign).count() == 1
    assert figures.invites_created == 6
    assert DailyStat.objects.filter(campaign=campaign).count() == 3


def test_an_empty_campaign_has_zero_rates_not_errors(campaign):
    figures = stats.refresh(campaign=campaign)
    assert (figures.members, figures.k_factor, figures.redemption_rate) == (0, 0.0, 0.0)
    assert figures.avg_cycle_seconds is None
    assert stats.headline(figures)[5]["value"] == "-"


def test_a_big_campaign_without_figures_is_queued_not_computed_in_the_request(
    campaign, small_tree, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(stats, "SYNC_REFRESH_MAX_MEMBERS", 2)
    tree.fold_all()  # hands out join numbers: the campaign knows it has 4 members
    campaign.refresh_from_db()
    with django_capture_on_commit_callbacks() as queued:
        assert stats.current(campaign) is None
    assert len(queued) == 1
    assert not CampaignStats.objects.filter(campaign=campaign).exists()


def test_the_periodic_task_refreshes_every_campaign(campaign, small_tree):
    from dashboard.tasks import refresh_campaign_stats
    from referrals.models import Campaign

    other = Campaign.objects.create(slug="other", name="Other")
    assert refresh_campaign_stats() == 2
    assert CampaignStats.objects.get(campaign=other).members == 0
    assert CampaignStats.objects.get(campaign=campaign).members == 4


def test_the_periodic_task_skips_campaigns_refreshed_a_moment_ago(campaign, small_tree):
    from dashboard.tasks import refresh_campaign_stats

    stats.refresh(campaign=campaign)
    assert refresh_campaign_stats() == 0
    assert refresh_campaign_stats(campaign.pk) == 1  # asked for by name: always


def test_a_slow_refresh_waits_ten_times_its_duration(campaign, small_tree):
    figures = stats.refresh(campaign=campaign)
    CampaignStats.objects.filter(pk=figures.pk).update(refresh_seconds=30)
    campaign = type(campaign).objects.select_related("stats").get(pk=campaign.pk)
    later = figures.refreshed_at + timedelta(seconds=120)
    assert not stats.is_due(campaign, now=later)
    assert stats.is_due(campaign, now=later + timedelta(seconds=200))
