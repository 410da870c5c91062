"""Plain helpers shared by test modules (no fixtures: those live in the conftest.py files)."""

import html
import re
from collections import Counter

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from badges.rules import CONNECTOR, EARLY_ADOPTER, FOUNDING, ORDER, TREE_BUILDER
from referrals import services
from referrals.access import MARKETERS_GROUP
from referrals.models import Campaign, Invite, Member

# --- People.


def make_user(username: str, *, verified: bool = True):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password="correct horse battery staple",
        display_name=username.title(),
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def marketer_of(campaign: Campaign, username: str):
    """A user in the "marketers" group who runs `campaign` (and nothing else)."""
    user = make_user(username)
    user.groups.add(Group.objects.get_or_create(name=MARKETERS_GROUP)[0])
    campaign.marketers.add(user)
    return user


def make_marketer(username: str, *campaigns: Campaign):
    user = make_user(username)
    user.groups.add(Group.objects.get_or_create(name=MARKETERS_GROUP)[0])
    for campaign in campaigns:
        campaign.marketers.add(user)
    return user


def join(inviter: Member, username: str) -> Member:
    invite = services.create_invite(member=inviter)
    return services.redeem_invite(code=invite.code, user=make_user(username))


# --- API.


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- Signup (/accounts/signup/).


def signup(client, code, username="newbie", email=None, **extra):
    return client.post(
        "/accounts/signup/",
        {
            "code": code,
            "email": email or f"{username}@example.com",
            "username": username,
            "password1": "a long unusual passphrase 42",
            "password2": "a long unusual passphrase 42",
            **extra,
        },
    )


def code_errors(response):
    return response.context["form"].errors.get("code", [])


# --- The inviter's page (/invites/).


def invites_left_shown(content: str) -> int:
    return int(re.search(r'data-testid="invites-left">(\d+)<', content)[1])


def invite_item(content: str, invite: Invite) -> str:
    """The <li> of one invite in the list."""
    return re.search(
        rf'<li class="invite" data-code="{invite.code}">(.*?)\n    </li>', content, re.S
    )[1]


def messages_shown(content: str) -> list[str]:
    block = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', content, re.S)
    return [html.unescape(m) for m in re.findall(r"<li[^>]*>(.*?)</li>", block[1])] if block else []


# --- The dashboard's campaign settings form (/dashboard/<slug>/settings/).

DEFAULT_TIERS = {EARLY_ADOPTER: "100, 1000", CONNECTOR: "1, 5, 25", TREE_BUILDER: "100"}
DEFAULT_NAMES = {
    "passalong": "Passalong",
    EARLY_ADOPTER: "Early adopter",
    FOUNDING: "Founding member",
    CONNECTOR: "Connector",
    TREE_BUILDER: "Tree builder",
}


def settings_post(campaign: Campaign, **badge_fields) -> dict:
    """The settings form as a browser sends it: the campaign as it is, every badge at its defaults.

    `badge_fields` override badge inputs by their name without the prefix, e.g.
    connector_thresholds="1, 2"; enabled=False drops the checkbox, as a browser does.
    """
    data = {
        "name": campaign.name,
        "slug": campaign.slug,
        "pitch": campaign.pitch,
        "is_open": "on",
        "code_required": "on",
        "default_quota": campaign.default_quota,
        "uses_per_code": campaign.uses_per_code,
        "code_expiry_days": campaign.code_expiry_days or "",
        "activation_rule": campaign.activation_rule,
        "reward_every": campaign.reward_every,
        "reward_invites": campaign.reward_invites,
        "daily_email_limit": campaign.daily_email_limit,
    }
    for slug in ORDER:
        key = slug.replace("-", "_")
        data[f"badge-{slug}-name"] = badge_fields.get(f"{key}_name", DEFAULT_NAMES[slug])
        if slug in DEFAULT_TIERS:
            data[f"badge-{slug}-thresholds"] = badge_fields.get(
                f"{key}_thresholds", DEFAULT_TIERS[slug]
            )
        if badge_fields.get(f"{key}_enabled", True):
            data[f"badge-{slug}-enabled"] = "on"
    return data


def assert_tree_is_consistent(campaign) -> None:
    """Depth, ancestry and every counter equal what the inviter edges say (brute force)."""
    members = {m.pk: m for m in Member.objects.filter(campaign=campaign)}
    below, invitees = Counter(), Counter()
    for m in members.values():
        chain, parent = [], m.inviter_id
        while parent is not None:
            chain.append(parent)
            below[parent] += 1
            parent = members[parent].inviter_id
        assert m.depth == len(chain), m
        assert m.ancestry == "".join(f"{pk}/" for pk in reversed(chain)), m
        if m.inviter_id:
            invitees[m.inviter_id] += 1
    for m in members.values():
        assert (m.downline_size, m.invitee_count) == (below[m.pk], invitees[m.pk]), m


# --- Real processes: ports, the test database's URL for a subprocess, a celery worker.


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_open(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def wait_for(predicate, seconds: float = 60) -> bool:
    """Poll `predicate` every 0.2 s until it holds (True) or `seconds` pass (False)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def subprocess_database_url() -> str:
    """The URL of the database this test uses, for a worker started as a subprocess."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_command(queue: str) -> list[str]:
    """A real `celery worker` on one queue, one task at a time (its pid runs the task)."""
    import sys

    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
        "--concurrency=1", "-Q", queue, "--without-heartbeat", "--without-gossip",
        "--without-mingle", "--loglevel=INFO",
    ]  # fmt: skip


def run_together(count: int, work) -> list:
    """Start `count` threads at one barrier, each calling work(i); their results in order.

    Each thread has its own database connection, so on PostgreSQL these are
    real concurrent transactions. A crash is a result the test looks at.
    """
    import threading

    from django.db import connection

    start = threading.Barrier(count)
    results = [None] * count

    def thread(i):
        try:
            start.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def deliver_outbox() -> None:
    """What a worker does with the queued e-mails, run here (tests without one)."""
    from referrals import outbox
    from referrals.models import OutboundEmail

    for pk in OutboundEmail.objects.filter(status="pending").values_list("pk", flat=True):
        outbox.deliver(pk)
