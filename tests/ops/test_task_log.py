"""One log line per Celery task, carrying the id of the request that queued it."""

import io
import json
import logging
import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest

from ops.logging import console_handler
from referrals import services
from referrals.models import InviteEvent
from tests.helpers import (
    free_port,
    port_is_open,
    signup,
    subprocess_database_url,
    wait_for,
    worker_command,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = console_handler("json", stream=stream)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def task_lines(text: str) -> list[dict]:
    return [line for line in json_lines(text) if line.get("logger") == "passalong.task"]


# Real commits: the signup's on-commit tasks run inside the request, as in production.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tasks_a_request_runs_in_process_log_under_its_id(
    client, alice, json_log, tasks_in_process
):
    invite = services.create_invite(member=alice)
    response = signup(client, invite.code, username="newbie")
    assert response.status_code == 302
    tasks = task_lines(json_log.getvalue())
    assert {"referrals.tasks.fold_tree", "referrals.tasks.send_outbound_email"} <= {
        t["task"] for t in tasks
    }
    for line in tasks:
        assert line["request_id"] == response["X-Request-ID"]
        assert line["outcome"] == "success"
        assert line["duration_ms"] >= 0
        assert line["task_id"]
    # The request's own line comes after its tasks (they ran on commit, inside it). Lines of
    # other requests (a live server's thread from an earlier test) may be in the capture too.
    lines = json_lines(json_log.getvalue())
    [request] = [
        line
        for line in lines
        if line["event"] == "request" and line["request_id"] == response["X-Request-ID"]
    ]
    assert "task_id" not in request
    assert lines.index(request) > max(lines.index(task) for task in tasks)


def test_a_failing_task_logs_its_failure(db, json_log, tasks_in_process):
    with pytest.raises(ValueError):  # the task's own error, propagated (eager)
        services.record_invite_open.delay("not an id", "visitor")
    [line] = task_lines(json_log.getvalue())
    assert (line["task"], line["outcome"]) == ("referrals.tasks.record_invite_open", "failure")
    assert "request_id" not in line  # nothing asked for it outside a request


# --- gunicorn, Redis and a worker: the id crosses processes in the message's headers.

BROKER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


class Process:
    """A subprocess whose output is read as it comes (a thread), so the test can wait on it."""

    def __init__(self, command: list[str], env: dict):
        self.popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.popen.stdout))
        self.reader.start()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> str:
        """A warm shutdown (SIGTERM): a worker finishes its task, and its line, first."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        self.reader.join(timeout=5)
        return "".join(self.lines)


@pytest.fixture
def site_and_worker():
    """gunicorn serving the site and a `celery worker`, on a queue of their own, JSON logs."""
    if not port_is_open(6379):
        pytest.skip("needs Redis on 127.0.0.1:6379 for a real broker (.ci/run provides it)")
    queue, port = f"test-ops-{uuid.uuid4().hex[:8]}", free_port()
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
        "LOG_FORMAT": "json",
    }
    worker = Process(worker_command(queue), env)
    web = Process(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        env,
    )
    try:
        # Redis drops a message for a queue nobody has declared yet: wait for the worker.
        assert wait_for(lambda: worker.said(" ready."), seconds=60), "".join(worker.lines)
        assert wait_for(lambda: port_is_open(port), seconds=60), "".join(web.lines)
        yield f"http://127.0.0.1:{port}", worker
    finally:
        print(web.stop(), worker.stop())  # shown by pytest when the test fails


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_logs_a_task_under_the_id_of_the_request_that_queued_it(alice, site_and_worker):
    site, worker = site_and_worker
    invite = services.create_invite(member=alice)
    # The invite page queues the "opened" event (a task) as it answers.
    with urllib.request.urlopen(f"{site}/i/{invite.code}/", timeout=30) as response:
        assert response.status == 200
        request_id = response.headers["X-Request-ID"]
    opened = InviteEvent.objects.filter(invite=invite, kind=InviteEvent.Kind.OPENED)
    assert wait_for(opened.exists, seconds=30)
    [line] = [
        t for t in task_lines(worker.stop()) if t["task"] == "referrals.tasks.record_invite_open"
    ]
    assert line["request_id"] == request_id
    assert line["outcome"] == "success"
    assert line["duration_ms"] > 0
