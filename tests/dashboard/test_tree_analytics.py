"""Tree-native figures: conversion by generation and each branch's own funnel, checked
against test_stats' small tree computed by hand, plus:

    sid (a second seed) with one invite nobody used
    carol activated, but her credit is held for review (so she counts for nobody)
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from dashboard import branches, stats
from referrals import credit, figures, moderation, services, tree
from referrals.models import BranchFigures, CampaignStats, Member, Redemption
from tests.dashboard.test_stats import small_tree  # noqa: F401 (a fixture)
from tests.helpers import make_user

HOUR = 3600
FIGURES = ["members", "activated", "invites_sent", "invites_redeemed", "avg_cycle_seconds"]


@pytest.fixture
def grown(campaign, small_tree):  # noqa: F811
    seed = services.create_seed_codes(campaign=campaign, count=1)[0]
    sid = services.redeem_invite(code=seed.code, user=make_user("sid"))
    services.create_invite(member=sid)
    carol = small_tree["carol"]
    with transaction.atomic():
        credit.hold(redemption_ids=[Redemption.objects.get(member=carol).pk], evidence={})
    carol.refresh_from_db()
    services.activate_member(member=carol)
    tree.fold_all()
    return small_tree | {"sid": sid}


def test_each_generation_has_its_own_redemption_and_activation_rate(campaign, grown):
    figures = stats.refresh(campaign=campaign)
    assert figures.generation_figures == {
        # alice and sid: alice sent 3 (bob's, carol's, one opened), sid 1; 2 redeemed.
        "0": {"members": 2, "activated": 0, "invites_sent": 4, "invites_redeemed": 2},
        # bob and carol: carol activated but is held, so 1 of 2; bob sent dave's.
        "1": {"members": 2, "activated": 1, "invites_sent": 1, "invites_redeemed": 1},
        "2": {"members": 1, "activated": 1, "invites_sent": 0, "invites_redeemed": 0},
    }
    # The members-per-generation chart reads the same numbers.
    assert figures.generations == {"0": 2, "1": 2, "2": 1}


def test_each_listed_branch_has_its_own_funnel_k_and_cycle_time(campaign, grown):
    stats.refresh(campaign=campaign)
    alice, bob, sid = grown["alice"], grown["bob"], grown["sid"]
    listed = branches.listed_branches(campaign)
    by_root = {(b["kind"], b["member_id"]): b for b in listed}
    # Seeds by downline size (alice's 3, sid's 0), then connectors by activated invitees.
    assert [(b["kind"], b["member_id"]) for b in listed] == [
        ("seed", alice.pk),
        ("seed", sid.pk),
        ("connector", alice.pk),
        ("connector", bob.pk),
    ]
    alice_branch = by_root["seed", alice.pk]
    assert {key: alice_branch[key] for key in FIGURES} == {
        "members": 4,  # alice, bob, carol, dave
        "activated": 2,  # bob, dave (carol is held)
        "invites_sent": 4,  # alice's 3 and bob's 1; the revoked unused one is not sent
        "invites_redeemed": 3,
        "avg_cycle_seconds": 2 * HOUR,  # 1 h, 3 h and 2 h
    }
    assert alice_branch["k_factor"] == 0.75
    # The kept figures are what a scan of the tables gives, for every listed branch.
    for branch in listed:
        expected = branches.branch_figures_from_tables(branch["member"])
        assert {key: branch[key] for key in FIGURES} == {key: expected[key] for key in FIGURES}
    bob_branch = by_root["connector", bob.pk]
    assert (bob_branch["members"], bob_branch["activated"]) == (2, 2)
    assert (bob_branch["invites_sent"], bob_branch["invites_redeemed"]) == (1, 1)
    assert bob_branch["avg_cycle_seconds"] == 2 * HOUR
    sid_branch = by_root["seed", sid.pk]
    assert (sid_branch["members"], sid_branch["invites_sent"]) == (1, 1)
    assert sid_branch["invites_redeemed"] == 0 and sid_branch["avg_cycle_seconds"] is None


def test_the_campaign_page_shows_generations_and_branches(client, mara, campaign, grown):
    stats.refresh(campaign=campaign)
    client.force_login(mara)
    page = client.get("/dashboard/default/").content.decode()
    assert "Conversion by generation" in page
    # Generation 0: 2 of 4 invites redeemed; generation 1: 1 of 2 members activated.
    assert '<tr data-generation="0">' in page
    row0 = page.split('<tr data-generation="0">')[1].split("</tr>")[0]
    assert '<td class="num" data-figure="redemption_rate">50%</td>' in row0
    row1 = page.split('<tr data-generation="1">')[1].split("</tr>")[0]
    assert '<td class="num" data-figure="activation_rate">50%</td>' in row1
    seeds = page.split('data-branches="seed"')[1].split("</table>")[0]
    alice_row = seeds.split(f'data-member="{grown["alice"].pk}"')[1].split("</tr>")[0]
    assert "Alice" in alice_row
    assert '<td class="num" data-figure="k_factor">0.75</td>' in alice_row  # 3 of 4
    assert "2.0 h" in alice_row
    connectors = page.split('data-branches="connector"')[1].split("</table>")[0]
    assert f'data-member="{grown["bob"].pk}"' in connectors


def test_the_api_gives_the_same_generations_and_branches(mara_api, campaign, grown):
    stats.refresh(campaign=campaign)
    body = mara_api.get("/api/v1/campaigns/default/stats/").json()
    assert [
        (g["generation"], g["invites_sent"], g["redemption_rate"]) for g in body["generations"]
    ] == [
        (0, 4, 0.5),
        (1, 1, 1.0),
        (2, 0, None),
    ]
    alice = next(b for b in body["branches"] if b["kind"] == "seed")
    assert alice["display_name"] == "Alice"
    assert (alice["members"], alice["k_factor"], alice["activation_rate"]) == (4, 0.75, 0.5)
    assert alice["avg_cycle_seconds"] == 2 * HOUR


def test_approving_held_credit_shows_in_the_next_refresh(campaign, grown):
    carol = grown["carol"]
    credit.approve(
        redemption=Redemption.objects.get(member=carol), by=None, reason="", now=timezone.now()
    )
    figures = stats.refresh(campaign=campaign)
    assert figures.generation_figures["1"]["activated"] == 2
    alice = next(b for b in branches.listed_branches(campaign) if b["kind"] == "seed")
    assert alice["activated"] == 3


def test_a_branch_counts_only_its_own_members(campaign, grown):
    """A member joining under sid changes sid's branch, not alice's."""
    sid = grown["sid"]
    invite = sid.invites.get()
    services.redeem_invite(code=invite.code, user=make_user("sue"))
    tree.fold_all()
    stats.refresh(campaign=campaign)
    by_root = {b["member_id"]: b for b in branches.listed_branches(campaign) if b["kind"] == "seed"}
    assert by_root[sid.pk]["members"] == 2 and by_root[sid.pk]["invites_redeemed"] == 1
    assert by_root[grown["alice"].pk]["members"] == 4


def kept_equals_fresh(campaign):
    """The kept figures equal a fresh scan, for the campaign and every member's branch."""
    kept, fresh = stats.kept(campaign), stats.from_tables(campaign)
    assert kept.pop("avg_cycle_seconds") == pytest.approx(
        fresh.pop("avg_cycle_seconds"), abs=figures.CYCLE_TOLERANCE_SECONDS
    )
    assert kept == {key: fresh[key] for key in kept}
    for member in Member.objects.filter(campaign=campaign):
        expected = branches.branch_figures_from_tables(member)
        got = BranchFigures.objects.filter(member=member).first() or BranchFigures(member=member)
        assert (got.invites_sent, got.invites_redeemed, got.activated) == (
            expected["invites_sent"],
            expected["invites_redeemed"],
            expected["activated"],
        ), member


def test_a_move_carries_its_branch_and_its_generations(campaign, grown):
    """bob (with dave below) moves under sid: alice's branch shrinks, sid's grows, and
    bob and dave change generation."""
    stats.refresh(campaign=campaign)
    sid, bob = grown["sid"], grown["bob"]
    sid.refresh_from_db()
    bob.refresh_from_db()
    moderation.reparent(member=bob, new_inviter=sid, actor=None, reason="test")
    stats.refresh(campaign=campaign)
    kept_equals_fresh(campaign)
    by_root = {b["member_id"]: b for b in branches.listed_branches(campaign) if b["kind"] == "seed"}
    assert by_root[sid.pk]["members"] == 3 and by_root[sid.pk]["activated"] == 2
    assert by_root[grown["alice"].pk]["members"] == 2


def test_flagging_a_subtree_takes_its_activations_out_of_every_figure(campaign, grown):
    stats.refresh(campaign=campaign)
    bob = Member.objects.select_related("campaign", "user").get(pk=grown["bob"].pk)
    moderation.flag_subtree(member=bob, actor=None, reason="test")
    stats.refresh(campaign=campaign)
    kept_equals_fresh(campaign)
    assert CampaignStats.objects.get(campaign=campaign).activated_members == 0


def test_an_opened_link_and_a_revoked_invite_move_the_funnel(campaign, grown):
    stats.refresh(campaign=campaign)
    sid_invite = grown["sid"].invites.get()
    services.record_open(invite_id=sid_invite.pk, visitor="v9")
    stats.refresh(campaign=campaign)
    kept_equals_fresh(campaign)
    services.revoke_invite(invite=sid_invite)
    stats.refresh(campaign=campaign)
    kept_equals_fresh(campaign)


def test_the_repair_command_finds_drift_and_rebuilds(campaign, grown):
    stats.refresh(campaign=campaign)
    out = io.StringIO()
    call_command("rebuild_figures", "--check", stdout=out)
    assert "default: the kept figures match the tables" in out.getvalue()
    CampaignStats.objects.filter(campaign=campaign).update(invites_sent=99)
    with pytest.raises(CommandError, match="differ from the tables: default"):
        call_command("rebuild_figures", "--check", stdout=(out := io.StringIO()))
    assert "default: invites_sent kept 99, tables 5" in out.getvalue()
    call_command("rebuild_figures", "--campaign", "default", stdout=io.StringIO())
    call_command("rebuild_figures", "--check", stdout=io.StringIO())  # no drift left
    kept_equals_fresh(campaign)


def test_the_api_gives_each_seed_member_s_branch_with_the_member(mara_api, campaign, grown):
    """Every member carries its branch: /members/?depth=0 lists each seed member's funnel."""
    stats.refresh(campaign=campaign)
    body = mara_api.get("/api/v1/campaigns/default/members/", {"depth": 0}).json()
    seeds = {row["id"]: row["branch"] for row in body["results"]}
    assert set(seeds) == {grown["alice"].pk, grown["sid"].pk}
    for member in Member.objects.filter(pk__in=seeds):
        expected = branches.branch_figures_from_tables(member)
        assert {key: seeds[member.pk][key] for key in FIGURES} == {
            key: expected[key] for key in FIGURES
        }
    assert seeds[grown["alice"].pk]["k_factor"] == 0.75
    leaf = mara_api.get(f"/api/v1/campaigns/default/members/{grown['dave'].pk}/").json()
    # dave: active, no invites of his own, nobody below.
    assert (leaf["branch"]["members"], leaf["branch"]["activated"]) == (1, 1)
    assert (leaf["branch"]["invites_sent"], leaf["branch"]["redemption_rate"]) == (0, None)
