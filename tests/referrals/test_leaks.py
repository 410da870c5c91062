"""Leaked codes: a code redeemed from many networks in a burst is frozen after the tripping one."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from referrals import errors, leaks, outbox, services
from referrals.models import Invite, InviteEvent, OutboundEmail, Redemption
from tests.helpers import make_user, signup


def redeem_from(invite, networks: list[int], *, first: int = 0) -> list:
    """One signup per entry, from 203.0.<n>.7; the outcome of each (a member or the refusal)."""
    outcomes = []
    for i, n in enumerate(networks, start=first):
        try:
            member = services.redeem_invite(
                code=invite.code, user=make_user(f"p{i}"), signup_ip=f"203.0.{n}.7"
            )
            outcomes.append(member)
        except errors.InviteRefused as refused:
            outcomes.append(refused)
    return outcomes


@pytest.fixture
def shared_code(alice):
    """alice's 30-use invite (the campaign lets one invite bring in 30 people)."""
    return make_multi_use(alice, 30)


def make_multi_use(member, uses: int) -> Invite:
    campaign = member.campaign
    campaign.uses_per_code = uses
    campaign.save()
    member.invites_left = uses
    member.save()
    return services.create_invite(member=member)


def test_ten_redemptions_from_five_networks_freeze_the_code_after_the_tenth(shared_code):
    outcomes = redeem_from(shared_code, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6, 7])
    assert [type(o).__name__ for o in outcomes] == ["Member"] * 10 + ["CodeFrozen"] * 2
    shared_code.refresh_from_db()
    assert shared_code.frozen_at is not None and shared_code.uses == 10
    assert shared_code.status == "frozen"
    assert InviteEvent.objects.filter(invite=shared_code, kind="frozen").count() == 1


@pytest.mark.parametrize(
    "networks",
    [
        [1, 2, 3, 4, 5, 1, 2, 3, 4],  # nine redemptions
        [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4],  # twelve, but from four networks
    ],
)
def test_short_of_the_rule_nothing_is_frozen(shared_code, networks):
    outcomes = redeem_from(shared_code, networks)
    assert all(type(o).__name__ == "Member" for o in outcomes)
    shared_code.refresh_from_db()
    assert shared_code.frozen_at is None


def test_only_redemptions_within_the_window_count(shared_code):
    redeem_from(shared_code, [1, 2, 3, 4, 5])
    two_hours_ago = timezone.now() - timedelta(hours=2)
    Redemption.objects.filter(invite=shared_code).update(redeemed_at=two_hours_ago)
    redeem_from(shared_code, [6, 7, 8, 9, 10], first=5)
    shared_code.refresh_from_db()
    assert shared_code.frozen_at is None  # ten in all, but five in the last hour


def test_a_public_code_travels_freely(campaign):
    [code] = services.create_seed_codes(campaign=campaign, count=1, uses=30, public=True)
    outcomes = redeem_from(code, list(range(1, 21)))
    assert all(type(o).__name__ == "Member" for o in outcomes)


def test_seed_codes_are_watched_too_and_the_thresholds_are_the_campaigns(campaign):
    campaign.leak_redemptions, campaign.leak_networks = 4, 3
    campaign.save()
    [code] = services.create_seed_codes(campaign=campaign, count=1, uses=30)
    outcomes = redeem_from(code, [1, 2, 3, 4, 5])
    assert [type(o).__name__ for o in outcomes] == ["Member"] * 4 + ["CodeFrozen"]
    # A seed code has no owner to e-mail: the marketers see it in the review queue.
    assert not OutboundEmail.objects.filter(kind="code_frozen").exists()


def test_the_owner_is_told_once_by_email(shared_code, alice, mailoutbox):
    redeem_from(shared_code, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6])
    [row] = OutboundEmail.objects.filter(kind="code_frozen")
    assert row.to_email == alice.user.email
    assert outbox.deliver(row.pk) == "sent"
    [message] = [m for m in mailoutbox if "paused" in m.subject]
    assert shared_code.display_code in message.subject
    assert "shared publicly" in message.body


def test_a_frozen_code_says_so_on_its_page_and_on_the_signup_form(client, shared_code):
    redeem_from(shared_code, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    page = client.get(f"/i/{shared_code.code}/")
    assert page.status_code == 403
    assert "This invite code is paused" in page.content.decode()
    response = signup(client, shared_code.code, username="late", email="late@example.com")
    assert response.status_code == 200
    assert errors.CodeFrozen().message in response.context["form"].errors["code"]
    assert not Redemption.objects.filter(member__user__username="late").exists()


def test_unfreezing_lets_signups_in_and_starts_the_count_afresh(shared_code):
    redeem_from(shared_code, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    shared_code.refresh_from_db()
    assert leaks.unfreeze(invite=shared_code, now=timezone.now())
    assert not leaks.unfreeze(invite=shared_code, now=timezone.now())  # twice: once
    outcomes = redeem_from(shared_code, [6, 7, 8], first=10)
    assert all(type(o).__name__ == "Member" for o in outcomes)
    shared_code.refresh_from_db()
    assert shared_code.frozen_at is None and shared_code.uses == 13


def test_single_use_codes_cost_no_extra_query(alice, django_assert_num_queries):
    invite = services.create_invite(member=alice)
    with_rule = Invite.objects.get(pk=invite.pk)
    # The rule reads nothing for a one-use code: the common personal invite.
    with django_assert_num_queries(0):
        assert not leaks.freeze_if_leaked(invite=with_rule, now=timezone.now())


def test_invite_codes_public_makes_codes_that_are_never_frozen(campaign, capsys):
    call_command("invite_codes", "--count", "2", "--uses", "50", "--public")
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2
    assert Invite.objects.filter(is_public=True, max_uses=50).count() == 2


def test_the_owner_sees_the_frozen_code_and_can_take_it_back(client, alice, shared_code):
    redeem_from(shared_code, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    client.force_login(alice.user)
    page = client.get("/invites/").content.decode()
    assert 'class="status frozen">frozen<' in page
    assert "Paused: it was used from many places" in page
    before = type(alice).objects.get(pk=alice.pk).invites_left
    client.post(f"/invites/{shared_code.pk}/revoke/")
    assert type(alice).objects.get(pk=alice.pk).invites_left == before + 20  # the unused seats


def test_staff_unfreeze_codes_from_the_admin(admin_client, shared_code):
    redeem_from(shared_code, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    response = admin_client.post(
        "/admin/referrals/invite/",
        {"action": "unfreeze_codes", "_selected_action": [shared_code.pk]},
    )
    assert response.status_code == 302
    shared_code.refresh_from_db()
    assert shared_code.frozen_at is None
    assert admin_client.get("/admin/referrals/invite/?frozen_at__isempty=0").status_code == 200
