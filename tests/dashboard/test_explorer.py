"""/dashboard/<slug>/tree/: the marketer's lazily loaded tree explorer."""

import re

import pytest

from dashboard.views import explorer
from referrals import services, tree
from referrals.models import Campaign, Member
from tests.helpers import join, make_marketer, make_user


@pytest.fixture
def family(alice, bob):
    """alice → bob → carol, alice → dave; counters folded."""
    join(bob, "carol")
    services.activate_member(member=join(alice, "dave"))
    tree.fold_all()
    return {m.user.username: m for m in Member.objects.select_related("user")}


def url(campaign, rest=""):
    return f"/dashboard/{campaign.slug}/tree/{rest}"


def names(content: str) -> list[str]:
    return re.findall(r'class="node-name" href="[^"]+">([^<]+)</a>', content)


# --- Who may look --------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, campaign):
    response = client.get(url(campaign))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("rest", ["", "roots.json", "search.json?q=a", "1/invitees.json"])
def test_members_who_are_not_marketers_are_refused(client, family, rest):
    client.force_login(family["bob"].user)
    assert client.get(url(family["bob"].campaign, rest)).status_code == 403


@pytest.mark.parametrize("rest", ["", "roots.json", "search.json?q=a"])
def test_a_marketer_of_one_campaign_gets_404_on_another(client, campaign, rest):
    other = Campaign.objects.create(slug="other", name="Other")
    client.force_login(make_marketer("otto", other))
    assert client.get(url(other, rest)).status_code == 200
    assert client.get(url(campaign, rest)).status_code == 404


def test_a_member_of_another_campaign_is_404_in_the_json(as_mia, campaign, family):
    other = Campaign.objects.create(slug="other", name="Other", code_required=False)
    stranger = services.join_without_code(campaign=other, user=make_user("stranger"))
    response = as_mia.get(url(campaign, f"{stranger.pk}/invitees.json"))
    assert response.status_code == 404
    assert as_mia.get(url(campaign, f"{stranger.pk}/path.json")).status_code == 404
    assert as_mia.get(url(campaign, f"?member={stranger.pk}")).status_code == 404


def test_nonsense_parameters_get_a_clear_answer_not_a_server_error(as_mia, campaign, family):
    assert as_mia.get(url(campaign, "?member=abc")).status_code == 404
    response = as_mia.get(url(campaign, "roots.json?after=xyz"))
    assert response.status_code == 200
    assert len(response.json()["nodes"]) == 1


# --- What it shows -------------------------------------------------------------


def test_the_page_shows_the_seed_members_with_their_figures(as_mia, campaign, family):
    response = as_mia.get(url(campaign))
    content = response.content.decode()
    assert names(content) == ["Alice"]
    assert "2 invited" in content and "1 active" in content and "3 downline" in content
    assert 'aria-expanded="false"' in content
    assert (
        f'data-url="/dashboard/{campaign.slug}/tree/{family["alice"].pk}/invitees.json"' in content
    )
    assert "js/explorer.js" in content and "<script>" not in content


def test_expanding_a_node_returns_its_direct_invitees_as_json(as_mia, campaign, family):
    alice = family["alice"]
    data = as_mia.get(url(campaign, f"{alice.pk}/invitees.json")).json()
    assert [n["name"] for n in data["nodes"]] == ["Bob", "Dave"]
    bob, dave = data["nodes"]
    assert (bob["invitees"], bob["downline"], bob["activated"]) == (1, 1, False)
    assert (dave["invitees"], dave["downline"], dave["activated"]) == (0, 0, True)
    assert bob["depth"] == 1 and bob["join_number"] == 2
    assert data["next"] is None and data["total"] == 2


def test_large_fan_outs_come_a_page_at_a_time(as_mia, campaign, alice):
    Member.objects.filter(pk=alice.pk).update(invites_left=100)
    alice.refresh_from_db()
    invitees = [join(alice, f"fan{i:02d}") for i in range(explorer.PAGE + 3)]
    tree.fold_all()

    first = as_mia.get(url(campaign, f"{alice.pk}/invitees.json")).json()
    assert [n["id"] for n in first["nodes"]] == [m.pk for m in invitees[: explorer.PAGE]]
    assert first["total"] == explorer.PAGE + 3
    second = as_mia.get(first["next"]).json()
    assert [n["id"] for n in second["nodes"]] == [m.pk for m in invitees[explorer.PAGE :]]
    assert second["next"] is None


def test_seed_members_are_paged_and_the_page_offers_more(as_mia, campaign, settings):
    seeds = services.create_seed_codes(campaign=campaign, count=explorer.PAGE + 1)
    roots = [
        services.redeem_invite(code=s.code, user=make_user(f"seed{i:02d}"))
        for i, s in enumerate(seeds)
    ]
    content = as_mia.get(url(campaign)).content.decode()
    assert len(names(content)) == explorer.PAGE
    more = re.search(r'data-more="([^"]+)"', content)[1].replace("&amp;", "&")
    rest = as_mia.get(more).json()
    assert [n["id"] for n in rest["nodes"]] == [roots[-1].pk]
    assert rest["next"] is None


def test_the_path_leads_from_the_root_to_the_member(as_mia, campaign, family):
    carol = family["carol"]
    path = as_mia.get(url(campaign, f"{carol.pk}/path.json")).json()["path"]
    assert [n["name"] for n in path] == ["Alice", "Bob", "Carol"]

    content = as_mia.get(url(campaign, f"?member={carol.pk}")).content.decode()
    crumbs = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', content, re.S)[1]
    assert re.findall(r">([^<>]+)</(?:a|strong)>", crumbs) == ["Alice", "Bob", "Carol"]
    assert "data-autoopen" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [("#3", ["Carol"]), ("3", ["Carol"]), ("car", ["Carol"]), ("DAV", ["Dave"]), ("zed", [])],
)
def test_search_finds_members_by_join_number_username_or_display_name(
    as_mia, campaign, family, query, expected
):
    data = as_mia.get(url(campaign, "search.json"), {"q": query}).json()
    assert [n["name"] for n in data["results"]] == expected
    content = as_mia.get(url(campaign), {"q": query}).content.decode()
    assert names(content) == expected


def test_search_finds_display_names_that_differ_from_usernames(as_mia, campaign, family):
    user = family["carol"].user
    user.display_name = "Zoë Q."
    user.save()
    data = as_mia.get(url(campaign, "search.json"), {"q": "zoë"}).json()
    assert [n["username"] for n in data["results"]] == ["carol"]


def test_names_are_escaped_in_the_page(as_mia, campaign, family):
    user = family["bob"].user
    user.display_name = "<img src=x onerror=alert(1)>"
    user.save()
    content = as_mia.get(url(campaign, f"?member={family['carol'].pk}")).content.decode()
    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


# --- Cost ------------------------------------------------------------------------


def grow(campaign, generations: int, fan_out: int) -> Member:
    """A seed with `fan_out` invitees per member, `generations` deep; returns the seed."""
    seed = services.redeem_invite(
        code=services.create_seed_codes(campaign=campaign, count=1)[0].code,
        user=make_user("root"),
    )
    level = [seed]
    for gen in range(generations):
        nxt = []
        for parent in level:
            Member.objects.filter(pk=parent.pk).update(invites_left=fan_out)
            parent.refresh_from_db()
            nxt += [join(parent, f"g{gen}-{parent.pk}-{i}") for i in range(fan_out)]
        level = nxt
    tree.fold_all()
    return level[-1]


# Session, user, the visit middleware's memberships, the marketer check
# (twice: access.get_managed_campaign checks again), the campaign.
BASE = 6


@pytest.mark.parametrize("size", ["small", "bigger"])
def test_every_request_costs_the_same_few_queries_whatever_the_tree_size(
    as_mia, campaign, size, django_assert_max_num_queries
):
    deepest = grow(campaign, *((1, 1) if size == "small" else (3, 3)))
    root = Member.objects.get(user__username="root")
    as_mia.get(url(campaign))  # the visit middleware's once-a-day write
    with django_assert_max_num_queries(1 + BASE):
        assert as_mia.get(url(campaign)).status_code == 200
    with django_assert_max_num_queries(1 + BASE):
        assert as_mia.get(url(campaign, "roots.json")).status_code == 200
    with django_assert_max_num_queries(2 + BASE):
        assert as_mia.get(url(campaign, f"{root.pk}/invitees.json")).status_code == 200
    with django_assert_max_num_queries(2 + BASE):
        assert as_mia.get(url(campaign, f"{deepest.pk}/path.json")).status_code == 200
    with django_assert_max_num_queries(2 + BASE):
        assert as_mia.get(url(campaign, f"?member={deepest.pk}")).status_code == 200
    with django_assert_max_num_queries(2 + BASE):
        assert as_mia.get(url(campaign, "search.json"), {"q": "g"}).status_code == 200
