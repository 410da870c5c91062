"""The public profile's "invited by" edge: shown by default, hidden on request."""

import pytest

from accounts.models import User


@pytest.fixture
def public(alice, bob):
    User.objects.filter(pk__in=[alice.user_id, bob.user_id]).update(public_profile=True)
    return bob


def test_a_profile_says_who_invited_them_linking_a_public_inviter(client, public):
    page = client.get("/u/bob/").content.decode()
    assert 'Invited by <a href="/u/alice/">Alice</a>.' in page


def test_an_inviter_without_a_public_profile_is_not_named(client, alice, public):
    User.objects.filter(pk=alice.user_id).update(public_profile=False)
    page = client.get("/u/bob/").content.decode()
    assert "Invited by a member." in page and "Alice" not in page


def test_a_member_can_hide_the_edge_from_the_settings_page(client, public):
    client.force_login(public.user)
    response = client.post(
        "/settings/", {"display_name": "Bob", "blog_url": "", "public_profile": "on"}
    )
    assert response.status_code == 302
    client.logout()
    page = client.get("/u/bob/").content.decode()
    assert 'data-testid="invited-by"' not in page


def test_moderators_still_see_the_edge_in_the_tree_explorer(as_mia, campaign, public):
    User.objects.filter(pk=public.user_id).update(show_inviter=False)
    page = as_mia.get(f"/dashboard/{campaign.slug}/tree/", {"member": public.pk}).content.decode()
    path = page[page.index('data-testid="path"') :]
    assert path.index("Alice") < path.index("Bob")


def test_a_shared_profile_shows_its_first_badge_as_the_preview_image(client, public, awarded):
    page = client.get("/u/bob/").content.decode()
    assert '<meta property="og:image" content="http' in page
    assert '.png">' in page.split('property="og:image"')[1].split("\n")[0]
