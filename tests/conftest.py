"""Shared personas: alice is a seed member, bob joined with alice's invite, mara markets."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.db import connection

from badges.tasks import award_new_members
from config.celery import app
from referrals import services, tree
from referrals.models import Campaign
from tests.helpers import make_marketer, make_user, marketer_of, token_client
from webhooks.models import SUBSCRIBABLE, Endpoint


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for the test suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters and tree caches live in the cache; tests start clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def campaign(db) -> Campaign:
    # The default campaign comes from a data migration; transactional tests
    # flush tables, so make sure it is there.
    found, _ = Campaign.objects.get_or_create(
        is_default=True, defaults={"slug": "default", "name": "Passalong beta"}
    )
    return found


@pytest.fixture
def alice(campaign):
    seed = services.create_seed_codes(campaign=campaign, count=1)[0]
    return services.redeem_invite(code=seed.code, user=make_user("alice"))


@pytest.fixture
def bob(alice):
    invite = services.create_invite(member=alice)
    return services.redeem_invite(code=invite.code, user=make_user("bob"))


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1/passalong"
        )


@pytest.fixture
def mara(campaign):
    """A marketer who runs the default campaign only."""
    return marketer_of(campaign, "mara")


@pytest.fixture
def mara_api(mara):
    """mara's API client, authenticated with her token."""
    return token_client(mara)


# --- A real HTTP receiver on 127.0.0.1 (stdlib http.server in a thread), and endpoints.


class Receiver:
    """Records every request; answers `status` (and `location`, for a redirect)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def endpoint(campaign, receiver):
    return Endpoint.objects.create(
        campaign=campaign, url=receiver.url, events=[e.value for e in SUBSCRIBABLE]
    )


# --- Badges: alice and bob, counted by the tree and awarded their badges.


@pytest.fixture
def awarded(alice, bob):
    """alice (#1, seed) and bob (#2, her invitee), counted and awarded."""
    tree.fold_all()
    award_new_members()
    return alice


# --- mia, a marketer who runs the default campaign (the dashboard and explorer tests).


@pytest.fixture
def mia(campaign):
    """A marketer who runs the default campaign."""
    return make_marketer("mia", campaign)


@pytest.fixture
def as_mia(client, mia):
    client.force_login(mia)
    return client


@pytest.fixture
def tasks_in_process():
    """Tasks queued on commit run in this process, for tests that read their outcome.

    Without a broker (SQLite runs) they do anyway; with one, nothing else
    would consume them. Opt-in per test: the worker integration tests
    (test_worker.py) cover the real broker path.
    """
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
