"""Read-replica routing: which reads the replica serves, and which stay on the primary.

The `replica` alias points at the same test database (a mirror), so every
answer is right whichever alias serves it; what is asserted is the router's
choice, by the queries each connection ran.
"""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from referrals import replica, services
from referrals.models import Campaign, Member
from tests.helpers import make_marketer, signup, token_client

BOTH = ["default", "replica"]
pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH)


@pytest.fixture
def replica_on(settings):
    settings.REPLICA_READS = True


@pytest.fixture
def mara_client(client, alice, bob):
    client.force_login(make_marketer("mara", alice.campaign))
    # The first view of a small campaign builds its figures (a write, on the primary).
    assert client.get(f"/dashboard/{alice.campaign.slug}/").status_code == 200
    return client


class Queries:
    """The SQL each alias ran while the block ran."""

    def __enter__(self):
        self.primary = CaptureQueriesContext(connections["default"]).__enter__()
        self.replica = CaptureQueriesContext(connections["replica"]).__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    def on(self, alias: str, table: str) -> int:
        queries = self.primary if alias == "default" else self.replica
        return sum(table in query["sql"] for query in queries.captured_queries)


def test_without_a_replica_url_nothing_reads_from_the_replica(mara_client, alice):
    assert not replica.enabled()
    with Queries() as queries:
        assert mara_client.get(f"/dashboard/{alice.campaign.slug}/").status_code == 200
    assert queries.on("replica", "") == 0
    assert queries.on("default", "referrals_member") > 0


def test_the_campaign_page_reads_the_tree_from_the_replica(replica_on, mara_client, alice):
    with Queries() as queries:
        response = mara_client.get(f"/dashboard/{alice.campaign.slug}/")
    assert response.status_code == 200
    assert queries.on("replica", "referrals_member") > 0
    assert queries.on("default", "referrals_member") == 0


def test_a_streamed_export_reads_its_rows_from_the_replica(replica_on, mara_client, alice):
    response = mara_client.get(f"/dashboard/{alice.campaign.slug}/export/members.csv")
    with Queries() as queries:
        body = b"".join(response.streaming_content).decode()
    assert "bob" in body
    assert queries.on("replica", "referrals_member") > 0
    assert queries.on("default", "referrals_member") == 0


def test_the_explorer_json_reads_from_the_replica(replica_on, mara_client, alice):
    with Queries() as queries:
        response = mara_client.get(f"/dashboard/{alice.campaign.slug}/tree/roots.json")
    assert response.status_code == 200
    assert queries.on("replica", "referrals_member") > 0
    assert queries.on("default", "referrals_member") == 0


def test_the_api_member_list_reads_from_the_replica(replica_on, alice, bob):
    api = token_client(make_marketer("mara", alice.campaign))
    with Queries() as queries:
        response = api.get(f"/api/v1/campaigns/{alice.campaign.slug}/members/")
    assert response.status_code == 200
    assert {row["username"] for row in response.json()["results"]} >= {"alice", "bob"}
    assert queries.on("replica", "referrals_member") > 0
    assert queries.on("default", "referrals_member") == 0


def test_an_api_write_reads_and_writes_on_the_primary(replica_on, alice):
    api = token_client(alice.user)
    with Queries() as queries:
        response = api.post("/api/v1/invites/", {}, format="json")
    assert response.status_code == 201
    assert queries.on("replica", "") == 0


def test_everything_in_a_signup_stays_on_the_primary(replica_on, client, alice):
    invite = services.create_invite(member=alice)
    with Queries() as queries:
        assert client.get(f"/i/{invite.code}/").status_code == 200
        assert signup(client, invite.code, "newbie").status_code == 302
    assert Member.objects.filter(user__username="newbie", inviter=alice).exists()
    assert queries.on("replica", "") == 0


def test_after_a_post_the_browser_reads_its_own_writes_from_the_primary(
    replica_on, mara_client, alice
):
    slug = alice.campaign.slug
    response = mara_client.post(f"/dashboard/{slug}/refresh/")
    assert response.status_code == 302
    assert mara_client.cookies[replica.PIN_COOKIE]["max-age"] == 10
    with Queries() as queries:
        assert mara_client.get(f"/dashboard/{slug}/").status_code == 200
    assert queries.on("replica", "") == 0
    # Once the pin expires (the browser drops the cookie), the replica serves again.
    del mara_client.cookies[replica.PIN_COOKIE]
    with Queries() as queries:
        assert mara_client.get(f"/dashboard/{slug}/").status_code == 200
    assert queries.on("replica", "referrals_member") > 0


def test_reads_inside_a_transaction_stay_on_the_primary(replica_on, rf, alice):
    seen = {}

    @replica.reads_from_replica
    def view(request):
        seen["outside"] = Member.objects.all().db
        with transaction.atomic():
            seen["inside"] = Member.objects.all().db
            seen["locked"] = Member.objects.select_for_update().db
        seen["after"] = Member.objects.all().db
        return None

    view(rf.get("/"))
    assert seen == {
        "outside": "replica",
        "inside": "default",
        "locked": "default",
        "after": "replica",
    }
    assert Member.objects.all().db == "default"  # outside the view, the primary again


def test_writes_and_migrations_go_to_the_primary_only():
    router = replica.ReplicaRouter()
    assert router.db_for_write(Campaign) == "default"
    assert router.allow_migrate("default", "referrals")
    assert not router.allow_migrate("replica", "referrals")
