"""/settings/: display name, blog, public profile and e-mail preferences."""

import pytest

from referrals import services
from referrals.models import OutboundEmail
from tests.helpers import make_user


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def reload(member):
    member.user.refresh_from_db()
    return member.user


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/settings/"
    assert client.post("/settings/", {"display_name": "Mallory"}).status_code == 302


def test_it_shows_the_form_filled_in(alice_client):
    response = alice_client.get("/settings/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="display_name" value="Alice"' in content
    for field in ("blog_url", "use_gravatar", "public_profile", "email_on_join"):
        assert f'name="{field}"' in content
    assert 'name="email_on_activation" id="id_email_on_activation" checked' in content


def test_it_saves_the_profile_and_email_preferences(alice_client, alice):
    response = alice_client.post(
        "/settings/",
        {
            "display_name": "Alice Liddell",
            "blog_url": "alice.example",
            "public_profile": "on",
            "email_on_activation": "on",
            # email_on_join and use_gravatar left unticked
        },
        follow=True,
    )
    assert response.redirect_chain == [("/settings/", 302)]
    assert "Settings saved." in response.content.decode()
    user = reload(alice)
    assert user.display_name == "Alice Liddell"
    assert user.blog_url == "https://alice.example"
    assert user.public_profile is True
    assert user.use_gravatar is False
    assert user.email_on_join is False
    assert user.email_on_activation is True


def test_a_full_url_is_kept_as_typed(alice_client, alice):
    alice_client.post("/settings/", {"display_name": "", "blog_url": "http://alice.example/blog"})
    user = reload(alice)
    assert user.blog_url == "http://alice.example/blog"
    assert user.public_name() == "alice"  # an empty display name falls back to the username


@pytest.mark.parametrize(
    "typed",
    [
        "not a url",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://alice.example/blog",
        "https://alice.example/\x00",
    ],
)
def test_an_invalid_blog_url_is_refused_and_nothing_changes(alice_client, alice, typed):
    response = alice_client.post(
        "/settings/", {"display_name": "Someone Else", "blog_url": typed, "email_on_join": "on"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["blog_url"]
    assert errors in (
        ["Enter a web address starting with https:// or http://."],
        ["Null characters are not allowed."],
    )
    user = reload(alice)
    assert user.display_name == "Alice"
    assert user.blog_url == ""


def test_turning_join_emails_off_stops_the_notice(alice_client, alice):
    alice_client.post("/settings/", {"display_name": "Alice", "email_on_activation": "on"})
    invite = services.create_invite(member=alice)
    services.redeem_invite(code=invite.code, user=make_user("bob"))
    assert not OutboundEmail.objects.filter(kind="invitee_joined").exists()


def test_control_and_direction_characters_are_dropped_from_a_display_name(alice_client, alice):
    # U+202E (right-to-left override) would flip everything after the name.
    response = alice_client.post(
        "/settings/",
        {
            "display_name": "Alice\u202e\u0007 Smith",
            "blog_url": "",
            "email_on_join": "on",
            "email_on_activation": "on",
        },
    )
    assert response.status_code == 302
    alice.user.refresh_from_db()
    assert alice.user.display_name == "Alice Smith"


def test_a_joined_emoji_in_a_display_name_stays_joined(alice_client, alice):
    # 👩‍💻 is 👩 + ZERO WIDTH JOINER + 💻: dropping the joiner shows two emoji.
    response = alice_client.post(
        "/settings/",
        {"display_name": "Alice 👩\u200d💻", "blog_url": "", "email_on_join": "on"},
    )
    assert response.status_code == 302
    alice.user.refresh_from_db()
    assert alice.user.display_name == "Alice 👩\u200d💻"
