"""Members, their ancestors and invitees, stats, and the activation report."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals.models import Member


def test_members_list_in_joining_order_with_their_counters(mara_api, tree_of_three):
    alice, bob, carol = tree_of_three
    results = mara_api.get("/api/v1/campaigns/default/members/").json()["results"]
    assert [m["id"] for m in results] == [alice.pk, bob.pk, carol.pk]
    first = results[0]
    assert first["inviter_id"] is None
    assert first["depth"] == 0
    assert first["join_number"] == 1
    assert first["invitee_count"] == 1
    assert first["downline_size"] == 2
    assert first["display_name"] == "Alice"
    assert first["activated"] is None
    assert set(first) >= {"joined", "username", "activated_invitee_count"}


def test_members_filter_by_inviter_and_by_depth(mara_api, tree_of_three):
    _alice, bob, carol = tree_of_three
    by_inviter = mara_api.get(f"/api/v1/campaigns/default/members/?inviter={bob.pk}").json()
    assert [m["id"] for m in by_inviter["results"]] == [carol.pk]
    by_depth = mara_api.get("/api/v1/campaigns/default/members/?depth=1").json()
    assert [m["id"] for m in by_depth["results"]] == [bob.pk]


def test_bad_filters_are_a_clear_400(mara_api, campaign):
    response = mara_api.get("/api/v1/campaigns/default/members/?depth=-1&inviter=abc")
    assert response.status_code == 400
    assert set(response.json()) == {"depth", "inviter"}
    huge = mara_api.get(f"/api/v1/campaigns/default/members/?inviter={2**70}")
    assert huge.status_code == 400


def test_pages_follow_a_cursor_without_counting(mara_api, tree_of_three):
    alice, bob, carol = tree_of_three
    with CaptureQueriesContext(connection) as queries:
        page = mara_api.get("/api/v1/campaigns/default/members/?page_size=2").json()
    assert "count" not in page
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert [m["id"] for m in page["results"]] == [alice.pk, bob.pk]
    rest = mara_api.get(page["next"]).json()
    assert [m["id"] for m in rest["results"]] == [carol.pk]
    assert rest["next"] is None


def test_a_tampered_cursor_is_a_404_not_a_500(mara_api, campaign):
    import base64

    forged = base64.b64encode(b"p=abc").decode()
    response = mara_api.get(f"/api/v1/campaigns/default/members/?cursor={forged}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"


def test_ancestors_run_from_the_root_down(mara_api, tree_of_three):
    alice, bob, carol = tree_of_three
    response = mara_api.get(f"/api/v1/campaigns/default/members/{carol.pk}/ancestors/")
    assert [m["id"] for m in response.json()["results"]] == [alice.pk, bob.pk]
    root = mara_api.get(f"/api/v1/campaigns/default/members/{alice.pk}/ancestors/")
    assert root.json()["results"] == []


def test_invitees_are_the_direct_ones_only(mara_api, tree_of_three):
    alice, bob, _carol = tree_of_three
    response = mara_api.get(f"/api/v1/campaigns/default/members/{alice.pk}/invitees/")
    assert [m["id"] for m in response.json()["results"]] == [bob.pk]


def test_an_unknown_member_is_a_404(mara_api, campaign):
    assert mara_api.get("/api/v1/campaigns/default/members/999999/").status_code == 404
    assert mara_api.get(f"/api/v1/campaigns/default/members/{2**70}/").status_code == 404


def test_stats_come_from_counters(mara_api, tree_of_three):
    alice, bob, _carol = tree_of_three
    stats = mara_api.get("/api/v1/campaigns/default/stats/").json()
    assert stats["members"] == 3
    assert stats["seed_members"] == 1
    assert stats["deepest_generation"] == 2
    assert [m["id"] for m in stats["top_by_downline"]][:2] == [alice.pk, bob.pk]


def test_activation_report_is_idempotent(mara_api, tree_of_three):
    _alice, bob, carol = tree_of_three
    url = "/api/v1/campaigns/default/activations/"
    first = mara_api.post(url, {"member_id": carol.pk}, format="json")
    assert first.status_code == 201
    assert first.json()["status"] == "activated"
    assert first.json()["member"]["activated"] is not None
    again = mara_api.post(url, {"username": "carol"}, format="json")
    assert again.status_code == 200
    assert again.json()["status"] == "already activated"
    assert again.json()["member"]["activated"] == first.json()["member"]["activated"]
    bob.refresh_from_db()
    assert bob.activated_invitee_count == 1  # counted once


def test_activation_report_needs_exactly_one_way_to_name_the_member(mara_api, tree_of_three):
    url = "/api/v1/campaigns/default/activations/"
    assert mara_api.post(url, {}, format="json").status_code == 400
    both = mara_api.post(url, {"member_id": 1, "username": "carol"}, format="json")
    assert both.status_code == 400
    unknown = mara_api.post(url, {"username": "nobody"}, format="json")
    assert unknown.status_code == 404
    assert not Member.objects.filter(activated_at__isnull=False).exists()
