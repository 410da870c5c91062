"""The referral tree: every read checked against a brute-force recount.

Hypothesis grows random trees through the real signup service, folding the
counters in random batches along the way, then compares each read the
pages and badges use with a computation from nothing but inviter links.
"""

import itertools
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals import services, tree
from referrals.models import Campaign, Member
from tests.helpers import make_user

User = get_user_model()
examples = itertools.count()

# A step either signs someone up under an earlier member (how many joined
# after that member; None: a seed code) or runs one fold batch.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.none() | st.integers(min_value=0, max_value=5)),
        st.tuples(st.just("fold"), st.integers(min_value=1, max_value=4)),
    ),
    min_size=1,
    max_size=24,
)


def grow(campaign: Campaign, plan) -> list[Member]:
    """Sign members up as the plan says; returns them in joining order."""
    joined: list[Member] = []
    for kind, arg in plan:
        if kind == "fold":
            tree.fold_new_members(batch=arg)
            continue
        user = make_user(f"{campaign.slug}-m{len(joined)}")
        if arg is None or not joined:
            [invite] = services.create_seed_codes(campaign=campaign, count=1)
        else:
            # Counted back from the newest: small numbers make deep chains.
            inviter = joined[-1 - arg % len(joined)]
            Member.objects.filter(pk=inviter.pk).update(invites_left=F("invites_left") + 1)
            inviter.refresh_from_db()
            invite = services.create_invite(member=inviter)
        joined.append(services.redeem_invite(code=invite.code, user=user))
    return joined


def brute_force(members: list[Member]):
    """Parent links only: chains, children, subtree sizes, generations."""
    parent = {m.pk: m.inviter_id for m in members}
    children: dict[int, list[int]] = {m.pk: [] for m in members}
    for m in members:
        if m.inviter_id:
            children[m.inviter_id].append(m.pk)

    def chain(pk):
        path = []
        while parent[pk] is not None:
            pk = parent[pk]
            path.append(pk)
        return path[::-1]

    chains = {m.pk: chain(m.pk) for m in members}
    downline = Counter()
    for pk, path in chains.items():
        downline.update(path)
    generations = {m.pk: Counter() for m in members}
    for pk, path in chains.items():
        for level, ancestor in enumerate(reversed(path), start=1):
            generations[ancestor][level] += 1
    return chains, children, downline, generations


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_tree_reads_match_a_brute_force_recount(db, plan):
    # A campaign of its own for each example: no cleanup between them.
    campaign = Campaign.objects.create(slug=f"tree-{next(examples)}", name="Tree test")
    members = grow(campaign, plan)
    tree.fold_all()
    fresh = {m.pk: m for m in Member.objects.filter(campaign=campaign)}
    chains, children, downline, generations = brute_force(list(fresh.values()))

    # Join numbers follow the order of joining, without gaps, whatever the batches.
    assert [fresh[m.pk].join_number for m in members] == list(range(1, len(members) + 1))
    for pk, member in fresh.items():
        assert member.depth == len(chains[pk])
        assert member.ancestor_ids() == chains[pk]
        assert [a.pk for a in tree.ancestors(member)] == chains[pk]
        assert member.invitee_count == len(children[pk])
        assert member.downline_size == downline[pk]
        assert Member.objects.downline_of(member).count() == downline[pk]
        assert tree.generations_below(member) == dict(generations[pk])
        # Keyset pages of two, put together, are the invitees in joining order.
        paged, after = [], 0
        while page := tree.direct_invitees(member, after_id=after, limit=2):
            paged += [m.pk for m in page]
            after = page[-1].pk
        assert paged == sorted(children[pk])
    expected_top = sorted(fresh, key=lambda pk: (-downline[pk], pk))[:5]
    assert [m.pk for m in tree.top_members(campaign, limit=5)] == expected_top
    assert Campaign.objects.get(pk=campaign.pk).members_counted == len(members)


def test_a_signup_leaves_the_counters_to_the_fold(alice, bob):
    # The signup wrote bob's row only; alice's counters move when the fold runs.
    tree.fold_all()
    carol = services.redeem_invite(
        code=services.create_invite(member=bob).code, user=make_user("carol")
    )
    alice.refresh_from_db()
    assert alice.downline_size == 1
    assert carol.join_number is None
    assert tree.fold_new_members() == 1
    alice.refresh_from_db()
    carol.refresh_from_db()
    assert alice.downline_size == 2
    assert carol.join_number == 3


def test_folding_twice_counts_nobody_twice(alice, bob):
    assert tree.fold_all() == 2
    assert tree.fold_all() == 0
    alice.refresh_from_db()
    assert alice.downline_size == 1
    assert alice.invitee_count == 1


def test_a_deleted_user_leaves_a_tombstone_and_the_tree_whole(alice, bob):
    carol = services.redeem_invite(
        code=services.create_invite(member=bob).code, user=make_user("carol")
    )
    tree.fold_all()
    bob.user.delete()
    bob.refresh_from_db()
    carol.refresh_from_db()
    assert bob.user is None
    assert bob.name == "a former member"
    assert str(bob).startswith("a former member #")
    assert carol.inviter_id == bob.pk
    assert [m.pk for m in tree.ancestors(carol)] == [alice.pk, bob.pk]
    alice.refresh_from_db()
    assert alice.downline_size == 2
