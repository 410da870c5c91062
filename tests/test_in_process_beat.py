"""`make run` without a broker runs the periodic jobs in-process (config/beat.py)."""

from config import beat
from referrals import outbox
from referrals.models import CampaignStats, OutboundEmail


def test_one_tick_runs_every_periodic_job_and_schedules_the_next(
    campaign, alice, mailoutbox, tasks_in_process
):
    # What goes stale on `make run` today: figures never computed, an e-mail left pending.
    row = OutboundEmail.objects.create(
        key="stuck", kind="invitee_joined", to_email=alice.user.email, subject_member=alice
    )
    OutboundEmail.objects.filter(pk=row.pk).update(
        created_at=row.created_at - outbox.STUCK_AFTER * 2
    )
    due: dict[str, float] = {}
    ran = beat.run_due(due, now=1000.0)
    assert set(ran) == set(beat.settings.CELERY_BEAT_SCHEDULE)
    assert CampaignStats.objects.filter(campaign=campaign).exists()
    assert OutboundEmail.objects.get(pk=row.pk).status == "sent"
    assert due["fold-tree"] == 1015.0 and due["sweep-outbox"] == 1060.0
    assert beat.run_due(due, now=1001.0) == []  # nothing is due a second later
    assert beat.run_due(due, now=1016.0) == ["fold-tree"]


def test_it_starts_only_in_the_dev_servers_serving_process_without_a_broker(settings, monkeypatch):
    monkeypatch.delenv("RUN_MAIN", raising=False)
    monkeypatch.delenv("PASSALONG_INPROCESS_BEAT", raising=False)
    assert beat.start_if_serving_without_broker() is False  # tests and commands
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("RUN_MAIN", "true")
    assert beat.start_if_serving_without_broker() is False  # beat's job then
