"""Races for scarce things, with real threads on PostgreSQL.

Each thread has its own database connection, so these are real concurrent
transactions: the conditional UPDATEs and CHECK constraints decide, not luck.
"""

from collections import Counter

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from referrals import credit, errors, moderation, services, tree
from referrals.models import CreditDecision, Invite, Member, Redemption
from tests.helpers import assert_tree_is_consistent, run_together

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="real threads racing need PostgreSQL: "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/passalong",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

User = get_user_model()


def test_forty_signups_racing_for_a_five_use_code_make_exactly_five_accounts(campaign):
    [seed] = services.create_seed_codes(campaign=campaign, count=1, uses=5)

    def sign_up(i):
        # Forty different people: allauth limits signups per client address.
        response = Client(REMOTE_ADDR=f"198.51.100.{i + 1}").post(
            "/accounts/signup/",
            {
                "code": seed.display_code,
                "email": f"racer{i}@example.com",
                "username": f"racer{i}",
                "password1": "a long unusual passphrase 42",
                "password2": "a long unusual passphrase 42",
            },
        )
        if response.status_code == 302:
            return "joined"
        assert response.status_code == 200, response.status_code
        return " ".join(response.context["form"].errors.get("code", []))

    outcomes = Counter(run_together(40, sign_up))

    assert outcomes["joined"] == 5
    refusals = {k: v for k, v in outcomes.items() if k != "joined"}
    assert refusals == {errors.CodeUsedUp(max_uses=5).message: 35}
    # Nothing half-made: five users, five members, five redemptions, five uses.
    assert User.objects.filter(username__startswith="racer").count() == 5
    assert Member.objects.filter(user__username__startswith="racer").count() == 5
    assert Redemption.objects.filter(invite=seed).count() == 5
    seed.refresh_from_db()
    assert seed.uses == 5


def test_twenty_invite_creations_racing_for_three_invites_make_exactly_three(alice):
    alice_id = alice.pk
    Member.objects.filter(pk=alice_id).update(invites_left=3)

    def create(_):
        member = Member.objects.select_related("campaign").get(pk=alice_id)
        try:
            services.create_invite(member=member)
        except errors.NoInvitesLeft:
            return "none left"
        return "created"

    outcomes = Counter(run_together(20, create))

    assert outcomes == {"created": 3, "none left": 17}
    assert Invite.objects.filter(owner_id=alice_id).count() == 3
    assert Member.objects.get(pk=alice_id).invites_left == 0


def test_signups_under_different_inviters_do_not_wait_on_their_shared_root(alice, bob):
    # Every member of a tree shares its root as an ancestor; a signup must not
    # lock the root's row. Hold that row locked in one transaction while
    # another signup under bob goes through.
    from django.db import connections, transaction

    invite = services.create_invite(member=bob)
    locker = connections.create_connection("default")
    try:
        locker.set_autocommit(False)
        with locker.cursor() as cursor:
            cursor.execute("SELECT id FROM referrals_member WHERE id = %s FOR UPDATE", [alice.pk])
            cursor.execute("SET lock_timeout = '1s'")

        def sign_up(_):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            with transaction.atomic():
                user = User.objects.create_user(username="carol", email="carol@example.com")
                services.redeem_invite(code=invite.code, user=user)
            # (Without a broker the tree fold runs on commit and does wait for
            # the root: that is its job, off the signup's path.)

        run_together(1, sign_up)
    finally:
        locker.rollback()
        locker.close()
    carol = Member.objects.get(user__username="carol")
    assert carol.inviter_id == bob.pk
    assert carol.depth == 2


def test_forty_racers_from_forty_networks_cannot_slip_past_the_leaked_code_rule(campaign):
    # A 50-use code posted on a forum: the rule (10 redemptions from 5+ networks
    # within an hour) is checked under the code's row lock, one racer at a time.
    [posted] = services.create_seed_codes(campaign=campaign, count=1, uses=50)

    def sign_up(i):
        user = User.objects.create_user(username=f"leak{i}", email=f"leak{i}@example.com")
        try:
            services.redeem_invite(code=posted.code, user=user, signup_ip=f"198.18.{i}.1")
            return "joined"
        except errors.InviteRefused as refused:
            user.delete()
            return refused.reason

    outcomes = Counter(run_together(40, sign_up))

    assert outcomes == {"joined": 10, "frozen": 30}
    posted.refresh_from_db()
    assert posted.frozen_at is not None
    assert posted.uses == 10 == Redemption.objects.filter(invite=posted).count()


def test_two_marketers_approving_one_held_signup_at_once_release_its_credit_once(alice):
    campaign = alice.campaign
    campaign.risk_threshold = 30
    campaign.save()
    user = User.objects.create_user(username="held", email="held@mailinator.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    member = services.redeem_invite(code=services.create_invite(member=alice).code, user=user)
    member = Member.objects.select_related("campaign").get(pk=member.pk)
    services.activate_member(member=member)
    held = Redemption.objects.get(member=member)
    assert held.credit == "held"
    marketers = [User.objects.create_user(username=f"m{i}") for i in range(8)]

    def approve(i):
        try:
            credit.approve(redemption=held, by=marketers[i], now=timezone.now())
            return "approved"
        except credit.AlreadyDecided:
            return "already"

    outcomes = Counter(run_together(8, approve))

    assert outcomes == {"approved": 1, "already": 7}
    alice.refresh_from_db()
    assert alice.activated_invitee_count == 1
    assert CreditDecision.objects.filter(redemption=held).count() == 1


def _verified_invitee(inviter, username, email=None):
    user = User.objects.create_user(username=username, email=email or f"{username}@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Member.objects.filter(pk=inviter.pk).update(invites_left=100)
    inviter.refresh_from_db()
    member = services.redeem_invite(code=services.create_invite(member=inviter).code, user=user)
    return Member.objects.select_related("campaign").get(pk=member.pk)


def test_a_flag_racing_an_activation_never_leaves_held_credit_counted(alice):
    moderator = User.objects.create_user(username="mod")
    for round_ in range(10):
        invitee = _verified_invitee(alice, f"flagged{round_}")
        work = [
            lambda: services.activate_member(member=invitee),
            lambda: moderation.flag_subtree(member=invitee, actor=moderator, reason="Look"),
        ]
        results = run_together(2, lambda i: work[i]())
        assert not [r for r in results if isinstance(r, Exception)], results
        assert Redemption.objects.get(member=invitee).credit == "held"
        alice.refresh_from_db()
        assert alice.activated_invitee_count == 0, f"round {round_}"


def test_an_approval_racing_an_activation_counts_the_credit_once(alice):
    campaign = alice.campaign
    campaign.risk_threshold = 30
    campaign.save()
    marketer = User.objects.create_user(username="marketer")
    for round_ in range(10):
        invitee = _verified_invitee(alice, f"racer{round_}", email=f"r{round_}@mailinator.com")
        held = Redemption.objects.get(member=invitee)
        assert held.credit == "held"
        work = [
            lambda: services.activate_member(member=invitee),
            lambda: credit.approve(redemption=held, by=marketer, now=timezone.now()),
        ]
        results = run_together(2, lambda i: work[i]())
        assert not [r for r in results if isinstance(r, Exception)], results
        alice.refresh_from_db()
        assert alice.activated_invitee_count == round_ + 1, f"round {round_}"


def test_signups_racing_moves_of_their_inviters_subtree_end_up_in_their_new_place(alice):
    """Signups under a subtree that moves back and forth never block and end up in place."""
    bob = _verified_invitee(alice, "bob")
    erin = _verified_invitee(alice, "erin")
    inviters = [bob]
    for i in range(120):
        inviters.append(_verified_invitee(inviters[i // 3], f"m{i}"))
    tree.fold_all()
    codes = {}
    for inviter in inviters[-10:]:
        Member.objects.filter(pk=inviter.pk).update(invites_left=10)
        inviter.refresh_from_db()
        codes[inviter.pk] = [services.create_invite(member=inviter).code for _ in range(3)]
    signers = list(codes)

    def work(i):
        if i == 0:
            for n in range(6):
                to = Member.objects.get(pk=(erin if n % 2 == 0 else alice).pk)
                tree.move_subtree(member=Member.objects.get(pk=bob.pk), new_inviter=to)
            return "moved"
        for n, code in enumerate(codes[signers[i - 1]]):
            user = User.objects.create_user(username=f"s{i}x{n}", email=f"s{i}x{n}@example.com")
            services.redeem_invite(code=code, user=user)
        return "joined"

    outcomes = Counter(run_together(11, work))

    assert outcomes == {"moved": 1, "joined": 10}, outcomes
    tree.fold_all()
    assert_tree_is_consistent(alice.campaign)
    assert Member.objects.get(pk=bob.pk).inviter_id == alice.pk  # six moves: back home
