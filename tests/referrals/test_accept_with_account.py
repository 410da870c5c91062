"""Someone who has an account already joins another campaign from its invite link."""

from referrals import errors, services
from referrals.models import Campaign, Member, Redemption
from tests.helpers import make_user


def spring_invite():
    spring = Campaign.objects.create(slug="spring", name="Spring beta")
    [seed] = services.create_seed_codes(campaign=spring, count=1)
    olga = services.redeem_invite(code=seed.code, user=make_user("olga"))
    return spring, olga, services.create_invite(member=olga)


def test_a_logged_in_member_joins_another_campaign_with_their_account(client, alice):
    spring, olga, invite = spring_invite()
    client.force_login(alice.user)
    landing = client.get(f"/i/{invite.code}/").content.decode()
    assert "Join Spring beta as alice" in landing
    response = client.post(f"/i/{invite.code}/accept/", follow=True)
    assert "Welcome to Spring beta." in response.content.decode()
    member = Member.objects.get(campaign=spring, user=alice.user)
    assert member.inviter == olga
    assert Redemption.objects.get(member=member).invite == invite
    assert Member.objects.filter(user=alice.user).count() == 2


def test_a_member_of_that_campaign_is_told_so_and_spends_nothing(client, alice):
    invite = services.create_invite(member=alice)
    bob = make_user("bob")
    services.redeem_invite(code=services.create_invite(member=alice).code, user=bob)
    client.force_login(bob)
    assert "You're already a member of" in client.get(f"/i/{invite.code}/").content.decode()
    response = client.post(f"/i/{invite.code}/accept/", follow=True)
    assert errors.AlreadyMember("Passalong beta").message in response.content.decode()
    invite.refresh_from_db()
    assert invite.uses == 0


def test_a_used_up_code_is_refused_with_its_reason(client, alice):
    spring, _, invite = spring_invite()
    services.redeem_invite(code=invite.code, user=make_user("pete"))
    client.force_login(alice.user)
    response = client.post(f"/i/{invite.code}/accept/", follow=True)
    assert response.status_code == 410  # the landing page says why the code is gone
    assert not Member.objects.filter(campaign=spring, user=alice.user).exists()


def test_accepting_needs_a_login_and_a_post(client, alice):
    spring, _, invite = spring_invite()
    assert client.post(f"/i/{invite.code}/accept/")["Location"].startswith("/accounts/login/")
    client.force_login(alice.user)
    assert client.get(f"/i/{invite.code}/accept/").status_code == 405
    assert not Member.objects.filter(campaign=spring, user=alice.user).exists()
