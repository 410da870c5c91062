"""/network/: my referral tree, generation by generation, paged."""

import html
import re

import pytest

from referrals import services, tree
from referrals.models import Member
from tests.helpers import make_user


def join(inviter: Member, username: str) -> Member:
    invite = services.create_invite(member=inviter)
    return services.redeem_invite(code=invite.code, user=make_user(username))


@pytest.fixture
def family(alice, bob):
    """alice → bob → carol, alice → dave; counters folded."""
    join(bob, "carol")
    join(alice, "dave")
    tree.fold_all()
    return {m.user.username: m for m in Member.objects.select_related("user")}


def get(client, query: str = "") -> str:
    response = client.get(f"/network/{query}")
    assert response.status_code == 200
    return response.content.decode()


def people(content: str) -> list[str]:
    block = re.search(r'<ul class="people">(.*?)</ul>', content, re.S)
    return re.findall(r"<strong>([^<]+)</strong>", block[1]) if block else []


def crumbs(content: str) -> list[str]:
    nav = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', content, re.S)[1]
    return re.findall(r">([^<>]+)</(?:a|strong)>", nav)


def generations(content: str) -> list[tuple[str, str]]:
    table = re.search(r'<table class="list gens">(.*?)</table>', content, re.S)
    return re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", table[1]) if table else []


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/network/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/network/"


def test_it_shows_my_counts_generations_and_direct_invitees(client, family):
    client.force_login(family["alice"].user)
    content = get(client)
    assert re.search(r'data-testid="brought-in">2<', content)
    assert re.search(r'data-testid="downline">3<', content)
    assert generations(content) == [("My invitees", "2"), ("Their invitees", "1")]
    assert people(content) == ["Bob", "Dave"]
    bob = family["bob"]
    assert (
        f'href="?campaign={bob.campaign_id}&member={bob.pk}">1 invitee · 1 in tree</a>' in content
    )
    assert crumbs(content) == ["Me"]


def test_it_shows_an_invitees_invitees_with_the_path_to_them(client, family):
    alice, bob = family["alice"], family["bob"]
    client.force_login(alice.user)
    content = get(client, f"?member={bob.pk}")
    assert "People Bob invited" in content
    assert people(content) == ["Carol"]
    assert crumbs(content) == ["Me", "Bob"]
    assert f'<a href="?campaign={alice.campaign_id}&member={alice.pk}">Me</a>' in content
    # The counts stay mine.
    assert re.search(r'data-testid="downline">3<', content)

    content = get(client, f"?member={family['carol'].pk}")
    assert crumbs(content) == ["Me", "Bob", "Carol"]
    assert people(content) == []
    assert "Nobody yet." in content


def test_generations_count_from_me_not_from_the_root(client, family):
    client.force_login(family["bob"].user)
    content = get(client)
    assert generations(content) == [("My invitees", "1")]
    assert people(content) == ["Carol"]
    assert crumbs(content) == ["Me"]


def test_it_refuses_members_outside_my_downline(client, family, campaign):
    outsider_code = services.create_seed_codes(campaign=campaign, count=1)[0].code
    outsider = services.redeem_invite(code=outsider_code, user=make_user("eve"))
    stranger = join(outsider, "frank")
    client.force_login(family["bob"].user)
    for member in (outsider, stranger, family["alice"], family["dave"]):
        assert client.get(f"/network/?member={member.pk}").status_code == 404, member
    assert client.get("/network/?member=nonsense").status_code == 404
    assert people(get(client, f"?member={family['carol'].pk}")) == []
    assert people(get(client)) == ["Carol"]


def test_it_pages_through_many_invitees(client, alice):
    Member.objects.filter(pk=alice.pk).update(invites_left=30)
    for n in range(30):
        join(alice, f"friend{n:02d}")
    tree.fold_all()
    client.force_login(alice.user)

    content = get(client)
    assert people(content) == [f"Friend{n:02d}" for n in range(25)]
    more = re.search(r'<a class="button secondary" href="([^"]+)">Show more</a>', content)
    assert more, content
    content = get(client, html.unescape(more[1]))
    assert people(content) == [f"Friend{n:02d}" for n in range(25, 30)]
    assert "Show more" not in content


def test_a_member_of_no_campaign_is_told_so(client, db):
    client.force_login(make_user("zed"))
    assert "You are not a member of any campaign yet." in get(client)
