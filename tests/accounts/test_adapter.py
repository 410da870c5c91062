"""The invite gate lives in the account adapter, which every signup flow passes,
including social-account signups that never show our form."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from accounts.adapter import SESSION_CODE_KEY, AccountAdapter
from referrals import errors, services
from referrals.models import Member

User = get_user_model()


def request_for(path="/accounts/social/signup/", code=None):
    request = RequestFactory().post(path)
    request.session = SessionStore()
    if code:
        request.session[SESSION_CODE_KEY] = code
    return request


class NoFormFields:
    """What a social signup hands save_user: no invite-code field."""

    cleaned_data = {"email": "sam@example.com", "username": "sam"}


def test_signup_is_closed_to_flows_without_a_code(campaign):
    assert AccountAdapter().is_open_for_signup(request_for()) is False


def test_signup_is_open_with_a_code_remembered_from_an_invite_link(alice):
    invite = services.create_invite(member=alice)
    assert AccountAdapter().is_open_for_signup(request_for(code=invite.code)) is True


def test_a_formless_signup_without_a_code_creates_no_account(campaign):
    with pytest.raises(errors.UnknownCode):
        AccountAdapter().save_user(request_for(), User(), NoFormFields())
    assert not User.objects.filter(username="sam").exists()


def test_a_formless_signup_redeems_the_remembered_code(alice):
    invite = services.create_invite(member=alice)
    request = request_for(code=invite.code)
    user = AccountAdapter().save_user(request, User(), NoFormFields())
    member = Member.objects.get(user=user)
    assert member.inviter == alice
    assert SESSION_CODE_KEY not in request.session


def test_a_formless_signup_with_a_used_code_creates_no_account(bob):
    used = bob.redemption.invite
    with pytest.raises(errors.CodeUsedUp):
        AccountAdapter().save_user(request_for(code=used.code), User(), NoFormFields())
    assert not User.objects.filter(username="sam").exists()
