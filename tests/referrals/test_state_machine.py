"""A hypothesis state machine drives the product's writes in random order and checks the tree.

Steps: invite, join (invite someone who signs up at once), grow (a few joins
and activations at once), redeem (some from
a throwaway address, so credit is held),
verify, activate, approve or reject held credit, freeze and unfreeze a code,
revoke, revoke the right to invite, ban, flag a subtree (its credit held),
reparent (loops refused), delete (a hard delete refused, an account
deleted), and fold. After every step:

- the tree is acyclic; each member has at most one inviter and a path to a root;
- depth and ancestry agree with the inviter chain;
- every invite's uses equal its redemptions and never exceed its limit;
- after a fold, downline counts equal a brute-force count;
- no credit without a verified, activated, unheld invitee: each inviter's
  activated-invitee count equals the invitees who are all three;
- after a fold, the dashboard's figures kept by adding what changed
  (referrals.figures: the funnel, members, activations, cycle time, each
  generation, each day, every member's branch) equal the same figures
  computed afresh from the tables.
"""

import contextlib
from collections import Counter

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, ProtectedError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dashboard import branches, stats
from referrals import credit, errors, figures, leaks, moderation, services, tree
from referrals.models import BranchFigures, Campaign, Invite, Member, Redemption

User = get_user_model()


class TreeMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each run starts from the same database and leaves nothing behind.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.campaign = Campaign.default()
        self.campaign.uses_per_code = 2
        self.campaign.risk_threshold = 30  # a throwaway address alone holds
        self.campaign.save()
        self.n = 0
        self.moderator = User.objects.create_user(username="moderator")
        # Two seeds: moves go within one tree and from one to the other.
        for code in services.create_seed_codes(campaign=self.campaign, count=2, uses=1):
            services.redeem_invite(code=code.code, user=self._user(verified=True))
        # The figures are built once, then kept by folding what changes.
        tree.fold_all()
        figures.rebuild(self.campaign)

    def _user(self, *, verified: bool, disposable: bool = False):
        self.n += 1
        domain = "mailinator.com" if disposable else "example.com"
        user = User.objects.create_user(
            username=f"u{id(self)}x{self.n}", email=f"u{self.n}@{domain}"
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
        return user

    def _members(self):
        return list(Member.objects.filter(campaign=self.campaign).order_by("id"))

    @staticmethod
    def pick(items, index):
        return items[index % len(items)] if items else None

    # --- Steps ---------------------------------------------------------------

    @rule(i=st.integers(0, 50))
    def invite(self, i):
        member = self.pick(self._members(), i)
        Member.objects.filter(pk=member.pk).update(invites_left=10)
        member.refresh_from_db()
        try:
            services.create_invite(member=member)
        except errors.NoInvitesLeft:
            assert not member.can_invite

    @rule(i=st.integers(0, 50), verified=st.booleans(), disposable=st.booleans())
    def join(self, i, verified, disposable):
        """Someone invites a new person, who signs up at once (the tree grows)."""
        inviter = self.pick(self._members(), i)
        Member.objects.filter(pk=inviter.pk).update(invites_left=10)
        inviter.refresh_from_db()
        try:
            invite = services.create_invite(member=inviter)
        except errors.NoInvitesLeft:
            assert not inviter.can_invite
            return
        user = self._user(verified=verified, disposable=disposable)
        services.redeem_invite(code=invite.code, user=user, signup_ip=f"203.0.{i}.7")

    @rule(i=st.lists(st.integers(0, 50), min_size=2, max_size=6))
    def grow(self, i):
        """A few people join at once, under members picked anywhere (bigger trees to move)."""
        for n, pick in enumerate(i):
            self.join(pick, verified=n % 3 != 2, disposable=n % 4 == 3)
            if n % 2 == 0 and Member.objects.filter(activated_at__isnull=True).exists():
                self.activate(pick)

    @precondition(lambda self: Invite.objects.exists())
    @rule(i=st.integers(0, 50), verified=st.booleans(), disposable=st.booleans())
    def redeem(self, i, verified, disposable):
        # Mostly a code that can take a use; sometimes any code (refusals are steps too).
        open_ones = list(Invite.objects.redeemable().order_by("id"))
        invite = self.pick(open_ones or list(Invite.objects.order_by("id")), i)
        user = self._user(verified=verified, disposable=disposable)
        with contextlib.suppress(errors.InviteRefused):
            services.redeem_invite(code=invite.code, user=user, signup_ip=f"198.51.{i}.9")

    @precondition(lambda self: Invite.objects.exists())
    @rule(i=st.integers(0, 50), visitor=st.integers(0, 3))
    def open_link(self, i, visitor):
        invite = self.pick(list(Invite.objects.order_by("id")), i)
        services.record_open(invite_id=invite.pk, visitor=f"visitor-{visitor}")

    @precondition(lambda self: EmailAddress.objects.filter(verified=False).exists())
    @rule(i=st.integers(0, 50))
    def verify(self, i):
        unverified = list(EmailAddress.objects.filter(verified=False).order_by("id"))
        EmailAddress.objects.filter(pk=self.pick(unverified, i).pk).update(verified=True)

    @precondition(lambda self: Member.objects.filter(activated_at__isnull=True).exists())
    @rule(i=st.integers(0, 50))
    def activate(self, i):
        waiting = list(
            Member.objects.filter(activated_at__isnull=True)
            .select_related("campaign")
            .order_by("id")
        )
        services.activate_member(member=self.pick(waiting, i))

    @precondition(lambda self: Redemption.objects.filter(credit="held").exists())
    @rule(i=st.integers(0, 50), approve=st.booleans())
    def decide(self, i, approve):
        held = self.pick(list(Redemption.objects.filter(credit="held").order_by("id")), i)
        decide = credit.approve if approve else credit.reject
        decide(redemption=held, by=self.moderator, reason="checked", now=timezone.now())

    @precondition(lambda self: Invite.objects.exists())
    @rule(i=st.integers(0, 50))
    def freeze_and_unfreeze(self, i):
        invite = self.pick(list(Invite.objects.order_by("id")), i)
        if invite.frozen_at:
            leaks.unfreeze(invite=invite, now=timezone.now())
        else:
            Invite.objects.filter(pk=invite.pk).update(frozen_at=timezone.now())

    @precondition(lambda self: Invite.objects.filter(owner__isnull=False).exists())
    @rule(i=st.integers(0, 50))
    def revoke(self, i):
        invite = self.pick(list(Invite.objects.filter(owner__isnull=False).order_by("id")), i)
        services.revoke_invite(invite=invite)

    @precondition(lambda self: Member.objects.filter(inviter__isnull=False).exists())
    @rule(i=st.integers(0, 50), ban=st.booleans())
    def moderate(self, i, ban):
        # Never a seed: the trees would stop growing and the run teach little.
        member = self.pick(list(Member.objects.filter(inviter__isnull=False).order_by("id")), i)
        member = Member.objects.select_related("campaign", "user").get(pk=member.pk)
        if ban:
            moderation.ban(member=member, actor=self.moderator, reason="drill")
        else:
            moderation.revoke_inviting(member=member, actor=self.moderator, reason="drill")

    @precondition(lambda self: Member.objects.filter(inviter__isnull=False).exists())
    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def reparent(self, i, j):
        tree.fold_all()  # a move waits for its members to be counted
        members = self._members()
        member = self.pick([m for m in members if m.inviter_id], i)
        # Mostly a place the move can go; sometimes anyone (refusals are steps too).
        allowed = [
            m
            for m in members
            if m.pk != member.inviter_id
            and not m.banned_at
            and not m.subtree_prefix.startswith(member.subtree_prefix)
        ]
        to = self.pick(allowed if allowed and j % 4 else members, j)
        try:
            moderation.reparent(member=member, new_inviter=to, actor=self.moderator, reason="drill")
        except tree.CannotMove:
            # Refused only for a reason: a loop, no move at all, or a banned inviter.
            assert (
                to.pk == member.pk
                or to.ancestry.startswith(member.subtree_prefix)
                or to.pk == member.inviter_id
                or to.banned_at
            )

    @precondition(lambda self: Member.objects.filter(inviter__isnull=False).exists())
    @rule(i=st.integers(0, 50))
    def flag(self, i):
        member = self.pick([m for m in self._members() if m.inviter_id], i)
        member = Member.objects.select_related("campaign", "user").get(pk=member.pk)
        moderation.flag_subtree(member=member, actor=self.moderator, reason="drill")

    @precondition(lambda self: Member.objects.filter(inviter__isnull=False).exists())
    @rule(i=st.integers(0, 50))
    def delete(self, i):
        """A hard delete is refused; an account deleted leaves "a former member" in place."""
        member = self.pick([m for m in self._members() if m.inviter_id], i)
        with pytest.raises(ProtectedError), transaction.atomic():
            member.delete()
        if member.user_id:
            User.objects.filter(pk=member.user_id).delete()
        member.refresh_from_db()
        assert member.user_id is None

    @rule()
    def fold(self):
        tree.fold_all()
        members = {m.pk: m for m in self._members()}
        below = Counter()
        for m in members.values():
            parent = m.inviter_id
            while parent is not None:
                below[parent] += 1
                parent = members[parent].inviter_id
        for m in members.values():
            assert m.downline_size == below[m.pk], (m.pk, m.downline_size, below[m.pk])
        figures.fold_all()
        kept, fresh = stats.kept(self.campaign), stats.from_tables(self.campaign)
        # (the kept cycles are whole milliseconds)
        assert kept.pop("avg_cycle_seconds") == pytest.approx(
            fresh.pop("avg_cycle_seconds"), abs=figures.CYCLE_TOLERANCE_SECONDS
        )
        assert kept == {key: fresh[key] for key in kept}
        for m in members.values():
            expected = branches.branch_figures_from_tables(m)
            got = BranchFigures.objects.filter(member=m).first() or BranchFigures(member=m)
            cycle = got.cycle_total_ms / got.cycle_count / 1e3 if got.cycle_count else None
            assert (got.invites_sent, got.invites_redeemed, got.activated) == (
                expected["invites_sent"],
                expected["invites_redeemed"],
                expected["activated"],
            ), m.pk
            assert cycle == pytest.approx(
                expected["avg_cycle_seconds"], abs=figures.CYCLE_TOLERANCE_SECONDS
            ), m.pk

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- Invariants ------------------------------------------------------------

    @invariant()
    def the_tree_is_a_forest_whose_paths_agree(self):
        members = {m.pk: m for m in self._members()}
        for m in members.values():
            seen, chain, parent = {m.pk}, [], m.inviter_id
            while parent is not None:
                assert parent not in seen, "a cycle"
                seen.add(parent)
                chain.append(parent)
                parent = members[parent].inviter_id
            assert m.depth == len(chain)
            assert m.ancestry == "".join(f"{pk}/" for pk in reversed(chain))

    @invariant()
    def uses_equal_redemptions_within_the_limit(self):
        counted = dict(
            Redemption.objects.values("invite_id")
            .annotate(n=Count("id"))
            .values_list("invite_id", "n")
        )
        for invite in Invite.objects.all():
            assert invite.uses == counted.get(invite.pk, 0) <= invite.max_uses

    @invariant()
    def credit_only_for_verified_activated_unheld_invitees(self):
        verified = set(EmailAddress.objects.filter(verified=True).values_list("user_id", flat=True))
        expected = Counter()
        for r in Redemption.objects.select_related("member"):
            m = r.member
            if m.inviter_id and m.activated_at and r.credit in ("counted", "approved"):
                assert m.user_id is None or m.user_id in verified  # never activated unverified
                expected[m.inviter_id] += 1
            if m.activated_at and m.user_id is not None:  # (a deleted account keeps its place)
                assert m.user_id in verified
        for m in self._members():
            assert m.activated_invitee_count == expected[m.pk], m.pk


@pytest.mark.django_db
def test_the_tree_holds_its_invariants_under_random_operations(campaign):
    TreeMachine.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    TreeMachine.TestCase().runTest()
