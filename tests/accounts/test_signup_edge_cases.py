"""Signup under stress: a username taken mid-request, SMTP down, NUL bytes, huge input."""

import smtplib
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client

from referrals import services
from referrals.models import Member
from tests.helpers import code_errors, signup

User = get_user_model()


class SmtpDown(BaseEmailBackend):
    """An SMTP server that hangs up on every message (the outside world, faked)."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@contextmanager
def username_taken_just_before_insert(username: str):
    """Make another signup win the race: insert a user with `username` just before ours."""

    won = []

    def wrapper(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "accounts_user"') and not won:
            won.append(True)
            User.objects.create_user(username=username, email="first@example.com")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def test_losing_a_race_for_the_username_is_a_clear_message_not_a_500(alice):
    invite = services.create_invite(member=alice)
    client = Client(raise_request_exception=False)
    with username_taken_just_before_insert("newbie"):
        response = signup(client, invite.code, username="newbie", email="newbie@example.com")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["username"] == [
        "Someone took this username a moment ago. If you just signed up in another tab, "
        "check your e-mail for the confirmation link; otherwise pick another username."
    ]
    # Our signup left nothing behind (here the stand-in winner shared our
    # transaction, so it rolled back with it).
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert not Member.objects.filter(inviter=alice).exists()
    invite.refresh_from_db()
    assert invite.uses == 0


def test_an_smtp_outage_at_signup_still_makes_a_whole_account_and_no_500(alice, settings):
    invite = services.create_invite(member=alice)
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDown"
    client = Client(raise_request_exception=False)
    response = signup(client, invite.code)
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    member = Member.objects.get(user__username="newbie")
    assert member.inviter == alice
    invite.refresh_from_db()
    assert invite.uses == 1


def test_nul_bytes_in_every_signup_field_are_refused_without_a_500(alice):
    invite = services.create_invite(member=alice)
    client = Client(raise_request_exception=False)
    assert client.get("/accounts/signup/", {"code": "\x00"}).status_code == 200
    response = client.post(
        "/accounts/signup/?code=%00",
        {
            "code": invite.code + "\x00",
            "email": "new\x00bie@example.com",
            "username": "new\x00bie",
            "password1": "a long \x00 passphrase 42",
            "password2": "a long \x00 passphrase 42",
        },
    )
    assert response.status_code == 200
    assert code_errors(response) == ["Null characters are not allowed."]
    assert not User.objects.filter(username__startswith="new").exists()
    invite.refresh_from_db()
    assert invite.uses == 0


def test_a_very_long_email_or_code_is_refused_with_a_message(alice):
    invite = services.create_invite(member=alice)
    client = Client(raise_request_exception=False)
    long_email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    response = signup(client, invite.code, email=long_email)
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    response = signup(client, "A" * 5000)
    assert response.status_code == 200
    assert code_errors(response) == ["Ensure this value has at most 40 characters (it has 5000)."]
    assert not User.objects.filter(username="newbie").exists()
