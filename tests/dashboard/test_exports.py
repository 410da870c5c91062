"""/dashboard/<slug>/export/…: members CSV, invites CSV and GraphML, streamed."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from dashboard import exports
from referrals import services, tree
from referrals.models import Campaign, Invite, Member
from tests.helpers import join, make_marketer, make_user

NS = {"g": "http://graphml.graphdrawing.org/xmlns"}
EXPORTS = ["members.csv", "invites.csv", "tree.graphml"]


@pytest.fixture
def family(alice, bob):
    """alice → bob → carol, alice → dave (active); a spare and a revoked invite."""
    join(bob, "carol")
    services.activate_member(member=join(alice, "dave"))
    services.revoke_invite(invite=services.create_invite(member=bob))
    tree.fold_all()
    return {m.user.username: m for m in Member.objects.select_related("user")}


def download(client, campaign, name: str) -> str:
    response = client.get(f"/dashboard/{campaign.slug}/export/{name}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith(f'attachment; filename="{campaign.slug}-')
    return b"".join(response.streaming_content).decode()


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("name", EXPORTS)
def test_members_who_are_not_marketers_cannot_export(client, family, name):
    client.force_login(family["bob"].user)
    assert client.get(f"/dashboard/{family['bob'].campaign.slug}/export/{name}").status_code == 403


@pytest.mark.parametrize("name", EXPORTS)
def test_a_marketer_of_one_campaign_cannot_export_another(client, campaign, name):
    other = Campaign.objects.create(slug="other", name="Other")
    client.force_login(make_marketer("otto", other))
    assert client.get(f"/dashboard/{campaign.slug}/export/{name}").status_code == 404
    assert client.get(f"/dashboard/other/export/{name}").status_code == 200


def test_the_members_csv_has_one_row_per_member_with_the_tree_columns(as_mia, campaign, family):
    table = rows(download(as_mia, campaign, "members.csv"))
    assert list(table[0]) == exports.MEMBER_COLUMNS
    by_name = {row["username"]: row for row in table}
    assert list(by_name) == ["alice", "bob", "carol", "dave"]
    alice, bob, dave = by_name["alice"], by_name["bob"], by_name["dave"]
    assert (alice["inviter_id"], alice["depth"], alice["join_number"]) == ("", "0", "1")
    assert (alice["downline_size"], alice["invitee_count"], alice["activated_invitee_count"]) == (
        "3",
        "2",
        "1",
    )
    assert bob["inviter_id"] == str(family["alice"].pk) and bob["depth"] == "1"
    assert dave["activated_at"] and not bob["activated_at"]
    assert alice["joined_at"].endswith("+00:00")


def test_the_members_csv_leaves_out_other_campaigns(as_mia, campaign, family):
    other = Campaign.objects.create(slug="other", name="Other", code_required=False)
    services.join_without_code(campaign=other, user=make_user("stranger"))
    usernames = [row["username"] for row in rows(download(as_mia, campaign, "members.csv"))]
    assert "stranger" not in usernames and len(usernames) == 4


def test_the_invites_csv_lists_every_code_with_its_status(as_mia, campaign, family):
    table = rows(download(as_mia, campaign, "invites.csv"))
    assert list(table[0]) == exports.INVITE_COLUMNS
    assert [int(row["id"]) for row in table] == list(
        Invite.objects.filter(campaign=campaign).order_by("id").values_list("id", flat=True)
    )
    seed = table[0]
    assert seed["owner_member_id"] == "" and seed["status"] == "redeemed"
    statuses = sorted(row["status"] for row in table)
    assert statuses == ["redeemed"] * 4 + ["revoked"]
    revoked = next(row for row in table if row["status"] == "revoked")
    assert revoked["owner_member_id"] == str(family["bob"].pk) and revoked["revoked_at"]


def test_invite_status_agrees_with_the_model(family):
    for invite in Invite.objects.all():
        assert invite.status == exports.invite_status(
            uses=invite.uses,
            max_uses=invite.max_uses,
            expires_at=invite.expires_at,
            revoked_at=invite.revoked_at,
            now=timezone.now(),
        )


def test_the_graphml_parses_with_a_node_per_member_and_an_edge_per_invitation(
    as_mia, campaign, family
):
    document = ET.fromstring(download(as_mia, campaign, "tree.graphml"))
    graph = document.find("g:graph", NS)
    assert graph.get("edgedefault") == "directed"
    nodes = graph.findall("g:node", NS)
    edges = graph.findall("g:edge", NS)
    assert len(nodes) == Member.objects.filter(campaign=campaign).count() == 4
    assert len(edges) == Member.objects.filter(campaign=campaign, inviter__isnull=False).count()
    pairs = {(e.get("source"), e.get("target")) for e in edges}
    ids = {name: f"m{m.pk}" for name, m in family.items()}
    assert pairs == {
        (ids["alice"], ids["bob"]),
        (ids["bob"], ids["carol"]),
        (ids["alice"], ids["dave"]),
    }
    alice = next(n for n in nodes if n.get("id") == ids["alice"])
    data = {d.get("key"): d.text for d in alice.findall("g:data", NS)}
    assert (
        data["label"] == "Alice" and data["downline_size"] == "3" and data["activated"] == "false"
    )
    keys = {k.get("id") for k in document.findall("g:key", NS)}
    assert keys >= {"label", "depth", "join_number", "activated", "downline_size"}


def test_the_graphml_stays_well_formed_with_hostile_names(as_mia, campaign, family):
    user = family["bob"].user
    user.display_name = 'Bob <&> "quoted" \x07bell'
    user.save()
    document = ET.fromstring(download(as_mia, campaign, "tree.graphml"))
    labels = [d.text for d in document.iter(f"{{{NS['g']}}}data") if d.get("key") == "label"]
    assert 'Bob <&> "quoted" bell' in labels


def test_csv_cells_that_look_like_formulas_are_defused(as_mia, campaign, alice):
    for i, name in enumerate(["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)"]):
        member = join(alice, f"x{i}")
        user = member.user
        user.username = name
        user.save()
        if i == 1:  # alice's quota is three
            Member.objects.filter(pk=alice.pk).update(invites_left=5)
            alice.refresh_from_db()
    usernames = [row["username"] for row in rows(download(as_mia, campaign, "members.csv"))]
    assert usernames == ["alice", "'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)"]
    assert exports.safe_cell("plain") == "plain"


@pytest.mark.parametrize("export", [exports.members_csv, exports.tree_graphml])
def test_exports_read_in_keyset_batches_and_miss_no_row(
    campaign, family, export, django_assert_num_queries
):
    # 4 members in batches of 3: two queries, ids never repeated or skipped.
    with django_assert_num_queries(2):
        text = "".join(export(campaign, batch=3))
    for member in family.values():
        assert f"m{member.pk}" in text or f"\n{member.pk}," in text
    if export is exports.members_csv:
        ids = [int(row["id"]) for row in rows(text)]
        assert ids == sorted(m.pk for m in family.values())


def test_an_export_starts_streaming_before_it_reads_a_row(
    campaign, family, django_assert_num_queries
):
    chunks = exports.members_csv(campaign, batch=1)
    with django_assert_num_queries(0):
        assert next(chunks) == ",".join(exports.MEMBER_COLUMNS) + "\r\n"
    graph = exports.tree_graphml(campaign, batch=1)
    with django_assert_num_queries(0):
        assert next(graph).startswith("<?xml")
