"""redeem_invite can take the invite the signup form's check already read (one query less);
the invite's row still decides, and an invite read for another code is never used."""

import pytest

from referrals import errors, services
from referrals.models import Member, Redemption
from tests.helpers import make_user


def test_an_invite_read_before_its_last_use_went_to_someone_else_is_refused(alice):
    invite = services.create_invite(member=alice)  # one use
    read_by_the_form = services.find_invite(invite.code)
    services.redeem_invite(code=invite.code, user=make_user("quick"))

    with pytest.raises(errors.CodeUsedUp):
        services.redeem_invite(code=invite.code, user=make_user("slow"), invite=read_by_the_form)

    assert not Member.objects.filter(user__username="slow").exists()
    invite.refresh_from_db()
    assert invite.uses == 1


def test_an_invite_read_for_another_code_is_not_the_one_redeemed(alice):
    first, second = services.create_invite(member=alice), services.create_invite(member=alice)
    read = services.find_invite(first.code)

    member = services.redeem_invite(code=second.code, user=make_user("zoe"), invite=read)

    assert Redemption.objects.get(member=member).invite_id == second.pk
    first.refresh_from_db()
    assert first.uses == 0
