"""/dashboard/ and /dashboard/<slug>/: who may see what, and what the page shows."""

import io

import pytest
from django.core.management import call_command

from dashboard import stats
from referrals.models import Campaign, CampaignStats

PASSWORD = "correct horse battery staple"


@pytest.fixture
def other_campaign(db):
    return Campaign.objects.create(slug="spring-launch", name="Spring launch")


@pytest.fixture
def root(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def test_a_visitor_is_sent_to_the_login_page(client, campaign):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/")
    assert client.get(f"/dashboard/{campaign.slug}/").status_code == 302


def test_a_member_gets_no_dashboard(client, alice, campaign):
    client.force_login(alice.user)
    assert client.get("/dashboard/").status_code == 403
    assert client.get(f"/dashboard/{campaign.slug}/").status_code == 403
    assert client.get(f"/dashboard/{campaign.slug}/seed/").status_code == 403
    assert (
        client.post(f"/dashboard/{campaign.slug}/grant/", {"member": alice.pk}).status_code == 403
    )


def test_a_member_sees_no_dashboard_link(client, alice):
    client.force_login(alice.user)
    assert 'href="/dashboard/"' not in client.get("/invites/").content.decode()


def test_a_marketer_sees_the_dashboard_link(client, mara):
    client.force_login(mara)
    assert 'href="/dashboard/"' in client.get("/settings/").content.decode()


def test_a_marketer_of_one_campaign_cannot_read_another(client, mara, campaign, other_campaign):
    client.force_login(mara)
    assert client.get(f"/dashboard/{campaign.slug}/").status_code == 200
    for path in ("", "seed/", "settings/"):
        assert client.get(f"/dashboard/{other_campaign.slug}/{path}").status_code == 404
    assert client.post(f"/dashboard/{other_campaign.slug}/refresh/").status_code == 404


def test_the_campaign_list_shows_only_the_campaigns_a_marketer_runs(
    client, mara, campaign, other_campaign
):
    client.force_login(mara)
    page = client.get("/dashboard/").content.decode()
    assert campaign.name in page
    assert other_campaign.name not in page


def test_a_superuser_runs_every_campaign(client, root, campaign, other_campaign):
    client.force_login(root)
    page = client.get("/dashboard/").content.decode()
    assert campaign.name in page and other_campaign.name in page
    assert client.get(f"/dashboard/{other_campaign.slug}/").status_code == 200


def test_granting_a_marketer_a_campaign_opens_it(client, mara, other_campaign):
    other_campaign.marketers.add(mara)
    client.force_login(mara)
    assert client.get(f"/dashboard/{other_campaign.slug}/").status_code == 200


def test_creating_a_campaign_makes_the_creator_its_marketer(client, mara):
    client.force_login(mara)
    response = client.post(
        "/dashboard/new/",
        {
            "name": "Autumn beta",
            "slug": "autumn",
            "is_open": "on",
            "code_required": "on",
            "default_quota": 5,
            "uses_per_code": 1,
            "code_expiry_days": 14,
            "activation_rule": "verified",
            "reward_every": 2,
            "reward_invites": 1,
            "daily_email_limit": 8,
        },
    )
    assert response.status_code == 302
    autumn = Campaign.objects.get(slug="autumn")
    assert (autumn.default_quota, autumn.code_expiry_days, autumn.daily_email_limit) == (5, 14, 8)
    assert list(autumn.marketers.all()) == [mara]
    assert not autumn.is_default
    assert client.get("/dashboard/autumn/").status_code == 200


def test_a_campaign_cannot_take_a_reserved_slug_or_zero_uses(client, mara):
    client.force_login(mara)
    response = client.post(
        "/dashboard/new/",
        {
            "name": "X",
            "slug": "new",
            "default_quota": 3,
            "uses_per_code": 0,
            "activation_rule": "verified",
            "reward_every": 0,
            "reward_invites": 0,
            "daily_email_limit": 5,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"slug", "uses_per_code"}
    assert not Campaign.objects.filter(slug="new").exists()


def test_editing_a_campaign_changes_its_rules_but_not_its_slug(client, mara, campaign):
    client.force_login(mara)
    response = client.post(
        f"/dashboard/{campaign.slug}/settings/",
        {
            "name": "Renamed",
            "slug": "hijacked",
            "default_quota": 7,
            "uses_per_code": 2,
            "activation_rule": "reported",
            "reward_every": 0,
            "reward_invites": 0,
            "daily_email_limit": 3,
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.slug, campaign.default_quota) == ("Renamed", "default", 7)
    assert campaign.is_open is False  # an unticked box closes the campaign
    assert campaign.activation_rule == "reported"


def test_the_campaign_page_shows_headline_figures_charts_and_definitions(client, mara, bob):
    client.force_login(mara)
    response = client.get("/dashboard/default/")
    page = response.content.decode()
    figures = {f["key"]: f["value"] for f in response.context["headline"]}
    assert figures["members"] == "2"
    assert figures["redemption_rate"] == "100.0%"  # alice's only sent invite was used
    assert figures["k_factor"] == "0.50"
    assert 'id="dashboard-data"' in page and 'id="chart-funnel"' in page
    assert "Figures as of" in page
    assert "Invites sent per member" in page  # the definition is on the page
    assert "<script>" not in page  # CSP: no inline scripts, the data is JSON


def test_top_connectors_are_ranked_by_activated_invitees(client, mara, alice, bob, campaign):
    from referrals.models import Member

    Member.objects.filter(pk=bob.pk).update(activated_invitee_count=5)
    Member.objects.filter(pk=alice.pk).update(activated_invitee_count=2, downline_size=1)
    client.force_login(mara)
    connectors = client.get("/dashboard/default/").context["connectors"]
    assert [m.pk for m in connectors] == [bob.pk, alice.pk]


def test_a_campaign_without_figures_and_too_big_to_count_now_says_so(
    client, mara, campaign, monkeypatch
):
    Campaign.objects.filter(pk=campaign.pk).update(members_counted=50_000)
    client.force_login(mara)
    page = client.get("/dashboard/default/").content.decode()
    assert "being computed in the background" in page


def test_refresh_now_recomputes_a_small_campaign(client, mara, bob, campaign):
    stats.refresh(campaign=campaign)
    CampaignStats.objects.filter(campaign=campaign).update(members=999)
    client.force_login(mara)
    assert client.post("/dashboard/default/refresh/").status_code == 302
    assert CampaignStats.objects.get(campaign=campaign).members == 2


def test_the_campaign_page_costs_a_few_queries_whatever_the_campaign_size(
    client, mara, django_assert_max_num_queries
):
    call_command("generate_campaign", members=600, slug="big", stdout=io.StringIO())
    big = Campaign.objects.get(slug="big")
    big.marketers.add(mara)
    stats.refresh(campaign=big)
    client.force_login(mara)
    client.get("/dashboard/big/")  # warm the session
    # (the session, the guard, the campaign, its figures, daily rows, connectors, the
    # waitlist count, the seed branches and their kept figures: none grows with size)
    with django_assert_max_num_queries(10):
        response = client.get("/dashboard/big/")
    assert response.status_code == 200
    assert len(response.context["connectors"]) == 15
    with django_assert_max_num_queries(6):
        assert client.get("/dashboard/").status_code == 200
