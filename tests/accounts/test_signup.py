from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from referrals import codes, services
from referrals.models import Invite, Member, Redemption
from tests.helpers import code_errors, signup

User = get_user_model()


def test_it_signs_up_with_a_member_invite_and_hangs_under_the_inviter(client, alice):
    invite = services.create_invite(member=alice)
    response = signup(client, invite.display_code)
    assert response.status_code == 302
    newbie = Member.objects.get(user__username="newbie")
    assert newbie.inviter == alice
    assert newbie.depth == 1
    assert newbie.invites_left == alice.campaign.default_quota
    assert Redemption.objects.get(member=newbie).invite == invite
    invite.refresh_from_db()
    assert invite.uses == 1


def test_a_seed_code_makes_a_seed_member(client, campaign):
    seed = services.create_seed_codes(campaign=campaign, count=1)[0]
    signup(client, seed.code)
    newbie = Member.objects.get(user__username="newbie")
    assert newbie.inviter is None
    assert newbie.depth == 0


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.lower(),
        lambda c: codes.display(c).replace("-", " "),
        lambda c: f"  {codes.display(c).lower()}  ",
        lambda c: c.replace("0", "o").replace("1", "l"),
    ],
)
def test_it_accepts_typed_variants_of_a_code(client, alice, typed):
    invite = services.create_invite(member=alice)
    response = signup(client, typed(invite.code))
    assert response.status_code == 302, code_errors(response)
    assert User.objects.filter(username="newbie").exists()


def refused_signup(client, code):
    users_before = User.objects.count()
    response = signup(client, code)
    assert response.status_code == 200
    assert User.objects.count() == users_before
    return code_errors(response)


def test_unknown_code_is_refused_with_its_own_message(client, alice):
    assert refused_signup(client, "AAAAA-BBBBB-CCCCC") == [
        "We don't recognise that invite code. Check it for typos: codes look like "
        "ABCDE-FGHJK-MNPQR."
    ]


def test_used_up_code_is_refused(client, bob):
    used = bob.redemption.invite
    assert refused_signup(client, used.code) == [
        "This invite code has already been used. Ask the person who sent it for a fresh one."
    ]


def test_expired_code_is_refused(client, alice):
    invite = services.create_invite(member=alice)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(days=1))
    [message] = refused_signup(client, invite.code)
    assert message.startswith("This invite code expired on ")


def test_revoked_code_is_refused(client, alice):
    invite = services.create_invite(member=alice)
    services.revoke_invite(invite=invite)
    assert refused_signup(client, invite.code) == [
        "This invite code was withdrawn by the person who sent it."
    ]


def test_closed_campaign_refuses_signups(client, alice):
    invite = services.create_invite(member=alice)
    alice.campaign.is_open = False
    alice.campaign.save()
    assert refused_signup(client, invite.code) == [
        "Passalong beta is not accepting new members right now."
    ]


def test_a_code_is_required(client, alice):
    assert refused_signup(client, "") == ["You need an invite code to join."]


def test_a_refused_signup_keeps_the_invite_unused(client, alice):
    invite = services.create_invite(member=alice)
    # A password mismatch fails the form: the code must not be spent.
    response = signup(client, invite.code, password2="something else entirely 9")
    assert response.status_code == 200
    invite.refresh_from_db()
    assert invite.uses == 0


def test_signup_with_a_known_email_does_not_say_so_and_spends_nothing(client, alice):
    invite = services.create_invite(member=alice)
    response = signup(client, invite.code, username="someoneelse", email="alice@example.com")
    # Same answer as a fresh signup: on to "verify your e-mail".
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    invite.refresh_from_db()
    assert invite.uses == 0
    assert not User.objects.filter(username="someoneelse").exists()


def test_signup_form_is_prefilled_from_the_query_string(client, alice):
    invite = services.create_invite(member=alice)
    response = client.get(f"/accounts/signup/?code={invite.display_code}")
    assert response.context["form"].initial["code"] == invite.display_code


def test_opening_an_invite_link_remembers_the_code_and_spends_nothing(client, alice):
    invite = services.create_invite(member=alice)
    for _ in range(3):  # mail scanners and link previews open links too
        assert client.get(f"/i/{invite.code}/").status_code == 200
    invite.refresh_from_db()
    assert invite.uses == 0
    response = client.get("/accounts/signup/")
    assert response.context["form"].initial["code"] == invite.code
    # ...and the remembered code is used even if the field is left empty.
    signup(client, "")
    assert Member.objects.get(user__username="newbie").inviter == alice


def test_a_signup_verifies_email_before_login(client, alice, mailoutbox):
    invite = services.create_invite(member=alice)
    response = signup(client, invite.code)
    assert response.url == "/accounts/confirm-email/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newbie@example.com"]
