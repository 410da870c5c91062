"""Failure drills with real processes: a worker SIGKILLed around the SMTP hand-off, Redis
stopped while members sign up. Nothing is lost, nothing arrives twice.

A local SMTP sink (aiosmtpd) counts what it accepted; the workers are real
`celery worker` processes on a real Redis; the drills' timings (visibility
timeout, the outbox lease) are shortened through the same settings an
operator would use.
"""

from __future__ import annotations

import email
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from config.celery import app
from referrals import outbox, services
from referrals.models import Member, OutboundEmail
from tests.helpers import (
    free_port,
    port_is_open,
    subprocess_database_url,
    wait_for,
    worker_command,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# --- The SMTP sink ------------------------------------------------------------------


class Sink:
    """Accepts every message; can SIGKILL a worker when a command arrives (once)."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.kill_at: str | None = None  # "MAIL" (before the hand-off) or "QUIT" (after)
        self.victim: subprocess.Popen | None = None

    def _maybe_kill(self, command: str) -> None:
        if self.kill_at == command and self.victim is not None:
            self.kill_at = None
            os.kill(self.victim.pid, signal.SIGKILL)
            self.victim.wait(timeout=10)

    async def handle_MAIL(self, server, session, envelope, address, options):
        self._maybe_kill("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self._maybe_kill("QUIT")
        return "221 Bye"

    def to(self, address: str) -> list[email.message.Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


# --- Workers ------------------------------------------------------------------------


class Workers:
    """Starts real workers on one broker and queue; each logs to its own file."""

    def __init__(self, tmp_path: Path, broker: str, queue: str, smtp_port: int, db: str):
        self.tmp_path, self.broker, self.queue = tmp_path, broker, queue
        self.env = {
            **os.environ,
            "DATABASE_URL": db,
            "CELERY_BROKER_URL": broker,
            "CELERY_QUEUE": queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            # An unacknowledged task comes back after 3 s, an e-mail's lease lasts 2 s.
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "CELERY_RESTORE_INTERVAL": "1",
            "OUTBOX_LEASE_SECONDS": "2",
        }
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self) -> subprocess.Popen:
        log = self.tmp_path / f"worker{len(self.started)}.log"
        process = subprocess.Popen(
            worker_command(self.queue),
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.started.append((process, log))
        return process

    def log(self, index: int) -> str:
        return self.started[index][1].read_text()

    def send(self, task: str, *args) -> None:
        with app.connection_for_write(self.broker) as conn:
            app.send_task(task, args=list(args), queue=self.queue, connection=conn)

    def stop(self) -> None:
        for process, log in self.started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            print(log.name, log.read_text()[-3000:])  # shown when a drill fails


@pytest.fixture
def workers(tmp_path, sink):

    if not port_is_open(6379):
        pytest.skip("needs Redis on 127.0.0.1:6379 for a real broker (.ci/run provides it)")
    handler, smtp_port = sink
    crew = Workers(
        tmp_path,
        "redis://127.0.0.1:6379/4",
        f"drill-{uuid.uuid4().hex[:8]}",
        smtp_port,
        subprocess_database_url(),
    )
    yield crew, handler
    crew.stop()


def queued_invite(member, address):
    """An invite e-mail's outbox row, not yet enqueued: the drill decides who delivers it."""
    invite = services.create_invite(member=member, recipient_email=address)
    return OutboundEmail.objects.create(
        key=f"invite:{invite.pk}:1", kind="invite", to_email=address, sender=member, invite=invite
    )


def status(row) -> str:
    return OutboundEmail.objects.get(pk=row.pk).status


# --- Killed around the hand-off -------------------------------------------------------


def test_a_worker_killed_right_after_the_hand_off_delivers_exactly_once(workers, alice):
    crew, sink = workers
    row = queued_invite(alice, "after@example.com")
    sink.kill_at = "QUIT"  # the message is accepted; the worker dies saying goodbye
    sink.victim = crew.start()
    crew.send("referrals.tasks.send_outbound_email", row.pk)
    assert wait_for(lambda: sink.victim.poll() is not None), "the worker was never killed"
    assert len(sink.to("after@example.com")) == 1
    assert status(row) == "sent"  # recorded between the server's 250 and our QUIT

    # The task was never acknowledged: a second worker gets it again, and skips it.
    crew.start()
    assert wait_for(lambda: "succeeded" in crew.log(1) and "'busy'" in crew.log(1)), crew.log(1)
    time.sleep(1)
    assert len(sink.to("after@example.com")) == 1


def test_a_worker_killed_before_the_send_has_its_task_redelivered_and_sends_once(workers, alice):
    crew, sink = workers
    row = queued_invite(alice, "before@example.com")
    sink.kill_at = "MAIL"  # the worker dies before a byte of the message is handed over
    sink.victim = crew.start()
    crew.send("referrals.tasks.send_outbound_email", row.pk)
    assert wait_for(lambda: sink.victim.poll() is not None), "the worker was never killed"
    assert sink.to("before@example.com") == []
    assert status(row) == "sending"  # leased to the dead worker

    crew.start()  # the task comes back once its visibility timeout passes
    assert wait_for(lambda: status(row) == "sent"), crew.log(1)
    assert "'sent'" in crew.log(1)
    time.sleep(1.5)
    [message] = sink.to("before@example.com")
    assert message["Message-ID"].startswith(f"<outbox-{row.pk}.")
    assert OutboundEmail.objects.get(pk=row.pk).attempts == 2  # the dead try, and this one


# --- Redis stopped while members sign up ------------------------------------------------


class PrivateRedis:
    """A redis-server of the drill's own, on its own port, that the drill stops and starts."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(lambda: port_is_open(self.port), 10), "redis-server did not start"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        assert wait_for(lambda: not port_is_open(self.port), 10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def private_redis(settings, monkeypatch):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (Debian's redis-server package)")
    redis = PrivateRedis()
    redis.start()
    # This process's broker and cache are the drill's Redis, as in production.
    before = (app.conf.broker_url, app.conf.task_always_eager)
    app.set_current()  # shared tasks (send_outbound_email.delay) resolve to this app
    app.conf.broker_url, app.conf.task_always_eager = redis.url, False
    monkeypatch.setenv("CELERY_BROKER_URL", redis.url)  # Celery reads it before broker_url
    # A private Redis: its workers may take this process's own default queue.
    queue = app.conf.task_default_queue
    app._pool, app.amqp._producer_pool = None, None
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": redis.url.replace("/0", "/1"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield redis, queue
    app.conf.broker_url, app.conf.task_always_eager = before
    app._pool, app.amqp._producer_pool = None, None
    if redis.process.poll() is None:
        redis.stop()


def sign_up(code: str, username: str, n: int):
    response = Client(REMOTE_ADDR=f"198.51.100.{n}").post(
        f"/accounts/signup/?code={code}",
        {
            "code": code,
            "email": f"{username}@example.org",
            "username": username,
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )
    return response.status_code


def test_signups_while_redis_is_stopped_succeed_and_every_email_arrives_once(
    tmp_path, sink, private_redis, alice
):

    handler, smtp_port = sink
    redis, queue = private_redis
    crew = Workers(tmp_path, redis.url, queue, smtp_port, subprocess_database_url())
    crew.start()
    Member.objects.filter(pk=alice.pk).update(invites_left=20)
    codes = [services.create_invite(member=alice).code for _ in range(9)]
    try:
        assert wait_for(lambda: "ready." in crew.log(0), 60), crew.log(0)
        statuses = [sign_up(codes[i], f"before{i}", i + 1) for i in range(3)]
        sent = OutboundEmail.objects.filter(status="sent")
        assert wait_for(lambda: sent.count() == 3, 60)  # delivered as usual
        redis.stop()
        started = time.monotonic()
        statuses += [sign_up(codes[3 + i], f"during{i}", 10 + i) for i in range(4)]
        during = time.monotonic() - started
        redis.start()
        statuses += [sign_up(codes[7 + i], f"after{i}", 20 + i) for i in range(2)]
        assert statuses == [302] * 9, statuses  # nobody saw an error
        assert Member.objects.filter(inviter=alice).count() == 9

        # Enqueued while Redis was down: the broker never had them; they wait,
        # pending, in the outbox. Those from after the restart are delivered.
        lost = OutboundEmail.objects.filter(subject_member__user__username__startswith="during")
        assert wait_for(lambda: sent.count() == 5, 60)
        assert list(lost.values_list("status", flat=True)) == ["pending"] * 4

        # The sweep (beat runs it every minute) resends them; its two-minute grace
        # for a task still on its way is let pass here.
        OutboundEmail.objects.update(
            created_at=OutboundEmail.objects.first().created_at - outbox.STUCK_AFTER * 2
        )
        crew.send("referrals.tasks.sweep_outbox")
        rows = list(OutboundEmail.objects.values_list("pk", "to_email"))
        assert len(rows) == 9  # alice is told of each invitee
        assert wait_for(lambda: OutboundEmail.objects.exclude(status="sent").count() == 0, 90), (
            list(OutboundEmail.objects.values_list("pk", "status"))
        )
        time.sleep(1.5)  # time for a wrongful second copy to arrive
        ids = sorted(m["Message-ID"] for m in handler.messages if m["To"] == alice.user.email)
        assert len(ids) == 9 and len(set(ids)) == 9, ids  # each e-mail exactly once
    finally:
        crew.stop()
    print(f"4 signups with Redis stopped took {during:.1f} s in all")
