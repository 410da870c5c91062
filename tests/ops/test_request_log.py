"""One JSON line per request: id, route, method, status, duration, user; never a secret."""

import io
import json
import logging

import pytest
from django.http import HttpResponseServerError
from django.test import RequestFactory
from django.urls import resolve
from django.utils.log import log_response

from ops.logging import console_handler
from referrals import services
from tests.helpers import signup

PASSWORD = "a long unusual passphrase 42"  # tests.helpers.signup's


@pytest.fixture
def json_log():
    """What the production handler (LOG_FORMAT=json) writes, every logger at every level."""
    stream = io.StringIO()
    handler = console_handler("json", stream=stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def request_lines(stream) -> list[dict]:
    return [line for line in lines(stream) if line["logger"] == "passalong.request"]


def test_a_signup_logs_one_line_with_the_route_and_no_secret(client, alice, json_log):
    invite = services.create_invite(member=alice)
    response = signup(client, invite.code, username="newbie", email="newbie@example.com")
    assert response.status_code == 302
    [line] = request_lines(json_log)
    assert line["event"] == "request"
    assert line["route"] == "account_signup"
    assert (line["method"], line["status"]) == ("POST", 302)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["request_id"] == response["X-Request-ID"]
    assert "user_id" in line and "timestamp" in line
    written = json_log.getvalue()
    for secret in (PASSWORD, invite.code, invite.display_code, "newbie@example.com", "/accounts/"):
        assert secret not in written


def test_a_refused_code_in_the_path_never_reaches_the_log(client, db, json_log):
    response = client.get("/i/ABCDE-FGHJK-MNPQR/?utm_source=secret-campaign")
    assert response.status_code == 404
    [line] = request_lines(json_log)
    assert (line["route"], line["status"]) == ("invite_landing", 404)
    written = json_log.getvalue()
    assert "ABCDE" not in written and "/i/" not in written and "secret-campaign" not in written


def test_djangos_own_request_errors_name_the_route_not_the_path(db, json_log):
    # Django's handler logs a 5xx as "Internal Server Error: <path>" (django.request).
    request = RequestFactory().get("/i/ABCDE-FGHJK-MNPQR/")
    request.resolver_match = resolve(request.path)
    log_response(
        "%s: %s",
        "Internal Server Error",
        request.path,
        response=HttpResponseServerError(),
        request=request,
    )
    [line] = [line for line in lines(json_log) if line["logger"] == "django.request"]
    assert line["event"] == "Internal Server Error: invite_landing"
    assert "ABCDE" not in json_log.getvalue()


def test_a_signed_in_members_line_has_their_user_id(client, alice, json_log):
    client.force_login(alice.user)
    assert client.get("/invites/").status_code == 200
    [line] = request_lines(json_log)
    assert (line["route"], line["user_id"]) == ("invites", alice.user_id)


def test_a_badge_hit_loads_no_user_to_log_one(client, awarded, json_log, django_assert_num_queries):
    client.force_login(awarded.user)  # a member looking at their own badge, cookie and all
    client.get("/badges/alice/passalong.svg")
    json_log.truncate(0)
    json_log.seek(0)
    with django_assert_num_queries(1):  # the badge's one version query; no session, no user
        assert client.get("/badges/alice/passalong.svg").status_code == 200
    [line] = request_lines(json_log)
    assert (line["route"], line["user_id"]) == ("badge_svg", None)


@pytest.mark.parametrize(
    "incoming",
    ["0af7651916cd43dd8448eb211c80319c", "Root=1-67891233-abcdef012345678912345678", "edge:42.17"],
)
def test_a_sane_incoming_request_id_is_kept_and_echoed(client, db, json_log, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] == incoming
    [line] = request_lines(json_log)
    assert line["request_id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "short", "x" * 65, "has spaces in it", "new\nline-injected", "<script>x</script>"],
)
def test_anything_else_gets_a_fresh_request_id(client, db, json_log, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    fresh = response["X-Request-ID"]
    assert fresh != incoming and len(fresh) == 32
    [line] = request_lines(json_log)
    assert line["request_id"] == fresh
    assert incoming not in json_log.getvalue() or incoming == ""


def test_every_request_gets_its_own_id(client, db):
    ids = {client.get("/healthz")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_plain_text_for_make_run_has_the_same_fields(client, db):
    stream = io.StringIO()
    handler = console_handler("plain", stream=stream)
    logging.getLogger().addHandler(handler)
    try:
        response = client.get("/healthz")
    finally:
        logging.getLogger().removeHandler(handler)
    [text] = [line for line in stream.getvalue().splitlines() if "passalong.request" in line]
    assert "route=healthz" in text and "status=200" in text
    assert f"request_id={response['X-Request-ID']}" in text
    assert not text.startswith("{")
