"""Integration: a real Celery worker, a real Redis broker, delivery through the outbox."""

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from referrals import outbox, services
from referrals.models import OutboundEmail
from tests.helpers import port_is_open, subprocess_database_url, wait_for, worker_command

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture
def worker(tmp_path):
    if not port_is_open(6379):
        pytest.skip("needs Redis on 127.0.0.1:6379 for a real broker (.ci/run provides it)")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "CELERY_BROKER_URL": REDIS,
        "CELERY_QUEUE": queue,
        "EMAIL_URL": f"filemail://{mail_dir}",
    }
    process = subprocess.Popen(
        worker_command(queue),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Not the current app: shared tasks must keep using the project's app in later tests.
    client = Celery(broker=REDIS, set_as_current=False)
    try:
        yield client, queue, mail_dir
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output)  # shown by pytest when the test fails
        client.close()


def send(client, task, queue, args=()):
    # An explicit connection: Celery prefers $CELERY_BROKER_URL over broker=.
    with client.connection_for_write(REDIS) as conn:
        client.send_task(task, args=args, queue=queue, connection=conn)


def queued_invite(member, address, note=""):
    """An invite and its outbox row as invite_by_email writes them, minus the enqueue:
    here the test decides who delivers (without a broker the suite would send
    in-process on commit)."""
    invite = services.create_invite(member=member, recipient_email=address, note=note)
    row = OutboundEmail.objects.create(
        key=f"invite:{invite.pk}:1", kind="invite", to_email=address, sender=member, invite=invite
    )
    return invite, row


def delivered(mail_dir: Path) -> list[str]:
    return [p.read_text() for p in sorted(mail_dir.iterdir())]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_delivers_an_invite_once_through_the_outbox(worker, alice):
    client, queue, mail_dir = worker
    invite, row = queued_invite(alice, "zed@example.com", note="Hi Zed!")
    # Sent twice, as a retry or a second worker would: one e-mail all the same.
    for _ in range(2):
        send(client, "referrals.tasks.send_outbound_email", queue, args=[row.pk])
    assert wait_for(lambda: OutboundEmail.objects.get(pk=row.pk).status == "sent")
    assert wait_for(lambda: len(delivered(mail_dir)) >= 1)
    time.sleep(1)  # time for a wrongful second delivery to show up
    [message] = delivered(mail_dir)
    assert "To: zed@example.com" in message
    assert "Hi Zed!" in message
    assert invite.absolute_link() in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_sends_what_a_down_broker_left_behind(worker, alice):
    client, queue, mail_dir = worker
    # Nothing was enqueued (as if the broker had been down); the row waits.
    _, row = queued_invite(alice, "yan@example.com")
    OutboundEmail.objects.filter(pk=row.pk).update(
        created_at=row.created_at - outbox.STUCK_AFTER * 2
    )
    assert outbox.stuck_ids() == [row.pk]
    send(client, "referrals.tasks.sweep_outbox", queue)
    assert wait_for(lambda: OutboundEmail.objects.get(pk=row.pk).status == "sent")
    [message] = delivered(mail_dir)
    assert "To: yan@example.com" in message
