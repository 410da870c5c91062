"""The award sweep also finds connectors whose badge lags (the activation's task was lost)."""

from badges.models import Award
from badges.services import connector_candidates
from badges.tasks import sweep_awards
from referrals import services, tree
from referrals.models import Member


def test_a_connector_whose_award_task_was_lost_is_found_and_awarded_by_the_sweep(alice, bob):
    tree.fold_all()
    # As if the on-commit task of bob's activation never reached a worker:
    # the tests' transaction never commits, so it is not run.
    services.activate_member(member=Member.objects.get(pk=bob.pk))
    assert not Award.objects.filter(member=alice, slug="connector").exists()
    assert connector_candidates() == [alice.pk]
    sweep_awards()
    award = Award.objects.get(member=alice, slug="connector")
    assert award.tier == 1
    assert connector_candidates() == []  # awarded members cost one index probe, nothing more
