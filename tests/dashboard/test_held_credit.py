"""/dashboard/<slug>/review/: the queue of held credit, decided singly or in bulk."""

import pytest

from referrals import services, tree
from referrals.models import CreditDecision, Member, Redemption
from tests.helpers import make_user


@pytest.fixture
def strict(campaign):
    campaign.risk_threshold = 30  # a throwaway address alone holds
    campaign.save()
    return campaign


def held_signup(inviter, username):
    Member.objects.filter(pk=inviter.pk).update(invites_left=50)
    inviter.refresh_from_db()
    user = make_user(username)
    user.email = f"{username}@mailinator.com"
    user.save()
    member = services.redeem_invite(code=services.create_invite(member=inviter).code, user=user)
    return Redemption.objects.get(member=member)


def test_the_queue_lists_held_redemptions_with_their_evidence_oldest_first(as_mia, strict, alice):
    first, second = held_signup(alice, "h1"), held_signup(alice, "h2")
    page = as_mia.get(f"/dashboard/{strict.slug}/review/").content.decode()
    section = page[
        page.index('data-testid="held-credit"') : page.index('data-testid="frozen-codes"')
    ]
    assert section.index(f'data-redemption="{first.pk}"') < section.index(
        f'data-redemption="{second.pk}"'
    )
    assert "+30 disposable_address · domain: mailinator.com" in section


def test_the_queue_is_keyset_paged(as_mia, strict, alice):
    held = [held_signup(alice, f"k{i}") for i in range(27)]
    page = as_mia.get(f"/dashboard/{strict.slug}/review/").content.decode()
    assert (
        f'data-redemption="{held[24].pk}"' in page
        and f'data-redemption="{held[25].pk}"' not in page
    )
    nxt = as_mia.get(f"/dashboard/{strict.slug}/review/", {"after": held[24].pk}).content.decode()
    assert (
        f'data-redemption="{held[25].pk}"' in nxt and f'data-redemption="{held[0].pk}"' not in nxt
    )


def test_a_marketer_approves_in_bulk_and_a_double_post_releases_nothing_twice(
    as_mia, strict, alice
):
    a, b = held_signup(alice, "b1"), held_signup(alice, "b2")
    tree.fold_all()
    for r in (a, b):
        m = Member.objects.select_related("campaign").get(pk=r.member_id)
        services.activate_member(member=m)
    post = {"decision": "approve", "redemptions": [a.pk, b.pk], "reason": ""}
    as_mia.post(f"/dashboard/{strict.slug}/review/decide/", post)
    as_mia.post(f"/dashboard/{strict.slug}/review/decide/", post)  # the same form again
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 2
    assert CreditDecision.objects.filter(decision="approved").count() == 2


def test_rejecting_needs_a_reason_and_records_it(as_mia, strict, alice):
    r = held_signup(alice, "r1")
    url = f"/dashboard/{strict.slug}/review/decide/"
    as_mia.post(url, {"decision": "reject", "redemptions": [r.pk], "reason": ""})
    assert not CreditDecision.objects.exists()
    as_mia.post(
        url, {"decision": "reject", "redemptions": [r.pk], "reason": "One person, four accounts"}
    )
    decision = CreditDecision.objects.get(redemption=r)
    assert (decision.decision, decision.reason, decision.decided_by_name) == (
        "rejected",
        "One person, four accounts",
        "mia",
    )


def test_another_campaigns_redemption_is_never_decided(as_mia, strict, alice):
    other = type(strict).objects.create(slug="other", name="Other", risk_threshold=30)
    [seed] = services.create_seed_codes(campaign=other, count=1, uses=5)
    user = make_user("far")
    user.email = "far@mailinator.com"
    user.save()
    member = services.redeem_invite(code=seed.code, user=user)
    elsewhere = Redemption.objects.get(member=member)
    as_mia.post(
        f"/dashboard/{strict.slug}/review/decide/",
        {"decision": "approve", "redemptions": [elsewhere.pk]},
    )
    assert not CreditDecision.objects.exists()
