"""referrals.events: consumers react to what referrals publishes, in the cause's transaction."""

import pytest

from referrals import errors, events, services
from referrals.models import Member
from tests.helpers import make_user


def refuse(**payload):
    raise RuntimeError("a consumer failed")


def test_a_failing_consumer_rolls_the_signup_back_whole(alice):
    invite = services.create_invite(member=alice)
    events.subscribe(events.MEMBER_JOINED, refuse)
    try:
        with pytest.raises(RuntimeError):
            services.redeem_invite(code=invite.code, user=make_user("zed"))
    finally:
        events._handlers[events.MEMBER_JOINED].remove(refuse)
    invite.refresh_from_db()
    assert invite.uses == 0
    assert not Member.objects.filter(user__username="zed").exists()
    # The code is still good for the next try.
    services.redeem_invite(code=invite.code, user=make_user("zoe"))
    with pytest.raises(errors.CodeUsedUp):
        services.redeem_invite(code=invite.code, user=make_user("amy"))


def test_every_event_has_the_consumers_the_house_promises():
    # Webhooks and badges subscribe in their AppConfig.ready.
    handlers = {name: [h.__module__ for h in events._handlers[name]] for name in events.KNOWN}
    assert "webhooks.services" in handlers[events.MEMBER_JOINED]
    assert "webhooks.services" in handlers[events.MEMBER_ACTIVATED]
    assert "webhooks.services" in handlers[events.BADGE_AWARDED]
    assert "badges.tasks" in handlers[events.MEMBER_ACTIVATED]
    assert "badges.tasks" in handlers[events.MEMBERS_COUNTED]


def test_an_unknown_event_is_refused():
    with pytest.raises(ValueError):
        events.publish("member.joinde", member=None)
    with pytest.raises(ValueError):
        events.subscribe("member.joinde", print)
