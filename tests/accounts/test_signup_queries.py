"""What one invite signup costs the database, counted: a signup that grows a query per
ancestor, per member or per invite would fail here long before it shows at 1M members."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import services
from referrals.models import Member
from tests.helpers import signup

# The whole POST: session, throttle lookups, the form's checks (code, address, username),
# the user, its e-mail address, the invite's claim, member, redemption, events, risk signals,
# outbox rows and webhook events, the confirmation e-mail's key. Measured: 36 on SQLite and
# on PostgreSQL, whatever the inviter's depth (38 until the default campaign was read once
# per request and the redemption reused the invite the form's check read: docs/architecture.md,
# "The signup path, profiled"). A change that adds one must say why here.
MAX_QUERIES = 36


def test_an_invite_signup_costs_the_same_few_queries_however_deep_the_inviter(
    client, alice, django_assert_max_num_queries
):
    inviter = alice
    for depth in range(12):  # a chain twelve generations deep
        invite = services.create_invite(member=inviter)
        inviter = services.redeem_invite(
            code=invite.code,
            user=type(alice.user).objects.create_user(f"chain{depth}", f"c{depth}@example.com"),
        )
    deep = services.create_invite(member=inviter)
    shallow = services.create_invite(member=alice)
    counts = []
    for code, name in ((shallow.code, "near"), (deep.code, "far")):
        with (
            CaptureQueriesContext(connection) as queries,
            django_assert_max_num_queries(MAX_QUERIES),
        ):
            assert signup(client, code, name).status_code == 302
        counts.append(len(queries))
        client.logout()
    assert counts[0] == counts[1], counts  # depth costs nothing at signup time
    assert Member.objects.get(user__username="far").depth == 13
