"""The visit middleware: a cheap note that a member came back; activation follows in a task."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from referrals import services
from referrals.models import Member


def as_if_joined_yesterday(member: Member) -> None:
    Member.objects.filter(pk=member.pk).update(joined_at=timezone.now() - timedelta(days=1))


def test_a_member_back_on_a_later_day_is_activated_by_a_page_view(
    client, alice, bob, django_capture_on_commit_callbacks, tasks_in_process
):
    as_if_joined_yesterday(bob)
    client.force_login(bob.user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get("/invites/").status_code == 200
    bob.refresh_from_db()
    alice.refresh_from_db()
    assert bob.last_seen_on == timezone.localdate()
    assert bob.is_activated
    assert alice.activated_invitee_count == 1


def test_the_page_view_itself_only_notes_the_return_and_queues_the_rest(
    client, alice, bob, django_capture_on_commit_callbacks
):
    as_if_joined_yesterday(bob)
    client.force_login(bob.user)
    with django_capture_on_commit_callbacks() as queued:  # captured, not run
        client.get("/invites/")
    bob.refresh_from_db()
    assert bob.last_seen_on == timezone.localdate()
    assert not bob.is_activated  # activation is the task's work
    assert len(queued) == 1


def test_the_return_is_noted_once_a_day(alice, bob):
    today = timezone.localdate()
    assert services.note_return(user=bob.user, today=today) == 1
    with CaptureQueriesContext(connection) as queries:
        assert services.note_return(user=bob.user, today=today) == 0
    assert len(queries) == 1  # one conditional UPDATE, nothing read first


def test_a_second_page_view_the_same_day_writes_nothing(client, bob):
    client.force_login(bob.user)
    client.get("/invites/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/invites/")
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def broker_down(*args, **kwargs):
    # What Celery raises when Redis refuses the connection.
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_with_the_broker_down_the_return_still_activates_in_process(
    client, alice, bob, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services.activate_returned_member, "apply_async", broker_down)
    as_if_joined_yesterday(bob)
    client.force_login(bob.user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get("/invites/").status_code == 200
    bob.refresh_from_db()
    assert bob.is_activated
    assert "could not enqueue activate_returned; running it in-process" in caplog.text
