"""/dashboard/<slug>/review/: frozen codes with their evidence, and unfreezing them."""

import contextlib

from referrals import errors, services
from referrals.models import Campaign, Invite
from tests.helpers import make_user


def leak(invite, networks):
    for i, n in enumerate(networks):
        with contextlib.suppress(errors.CodeFrozen):
            services.redeem_invite(
                code=invite.code, user=make_user(f"x{invite.pk}-{i}"), signup_ip=f"198.51.{n}.9"
            )


def frozen_seed_code(campaign) -> Invite:
    [code] = services.create_seed_codes(campaign=campaign, count=1, uses=50)
    leak(code, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    code.refresh_from_db()
    assert code.frozen_at
    return code


def test_the_review_queue_lists_a_frozen_code_with_its_networks_and_times(as_mia, campaign):
    code = frozen_seed_code(campaign)
    page = as_mia.get(f"/dashboard/{campaign.slug}/review/").content.decode()
    section = page[page.index('data-testid="frozen-codes"') :]
    assert code.display_code in section
    assert "10 redemptions from 10 networks" in section
    assert "198.51.1.0/24" in section and "198.51.10.0/24" in section
    assert "198.51.11.0/24" not in section  # refused, so not redeemed


def test_a_marketer_unfreezes_a_code_and_it_takes_signups_again(as_mia, campaign):
    code = frozen_seed_code(campaign)
    response = as_mia.post(f"/dashboard/{campaign.slug}/review/codes/{code.pk}/unfreeze/")
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.frozen_at is None
    services.redeem_invite(code=code.code, user=make_user("welcome"), signup_ip="192.0.2.1")
    page = as_mia.get(f"/dashboard/{campaign.slug}/review/").content.decode()
    assert "No frozen codes." in page


def test_unfreezing_needs_a_post_and_a_code_of_this_campaign(as_mia, campaign):
    code = frozen_seed_code(campaign)
    url = f"/dashboard/{campaign.slug}/review/codes/{code.pk}/unfreeze/"
    assert as_mia.get(url).status_code == 405
    other = Campaign.objects.create(slug="other", name="Other")
    [elsewhere] = services.create_seed_codes(campaign=other, count=1, uses=50)
    url = f"/dashboard/{campaign.slug}/review/codes/{elsewhere.pk}/unfreeze/"
    assert as_mia.post(url).status_code == 404


def test_a_visitor_cannot_unfreeze(client, campaign, alice):
    code = frozen_seed_code(campaign)
    client.force_login(alice.user)
    response = client.post(f"/dashboard/{campaign.slug}/review/codes/{code.pk}/unfreeze/")
    assert response.status_code in (403, 404)
    code.refresh_from_db()
    assert code.frozen_at is not None


def test_the_seed_form_makes_public_codes(as_mia, campaign):
    as_mia.post(
        f"/dashboard/{campaign.slug}/seed/codes.csv", {"count": 2, "uses": 100, "public": "on"}
    )
    assert Invite.objects.filter(campaign=campaign, is_public=True, max_uses=100).count() == 2
