"""/metrics: off until configured; a bearer token and/or an allow-list of networks; never a 500."""

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]


def networks(*cidrs):
    return [ipaddress.ip_network(c) for c in cidrs]


def get(client, token=None, **extra):
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/metrics", **extra)


def test_metrics_are_off_until_a_token_or_an_allow_list_is_set(client, db, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", []
    assert get(client).status_code == 404
    assert get(client, token="anything at all").status_code == 404


def test_it_asks_for_the_token_when_none_is_sent(client, db, metrics_on):
    response = get(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"passalong_" not in response.content


def test_it_refuses_a_wrong_token(client, db, metrics_on):
    for wrong in ["nope", TOKEN[:-1], TOKEN + "x", TOKEN.upper()]:
        response = get(client, token=wrong)
        assert response.status_code == 403, wrong
        assert b"passalong_" not in response.content


def test_the_right_token_reads_the_metrics_in_prometheus_text_format(client, db, metrics_on):
    response = get(client, token=TOKEN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    assert b"# TYPE passalong_http_request_duration_seconds histogram" in response.content


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer\t" + TOKEN[:5],
        "Bearer \u00e9\u00e8\u00ff" * 40,
        "Token " + TOKEN,
        "x" * 10_000,
    ],
)
def test_a_mangled_authorization_header_is_a_401_or_403_never_a_500(client, db, metrics_on, header):
    assert get(client, HTTP_AUTHORIZATION=header).status_code in (401, 403)


def test_an_allow_list_alone_admits_its_networks_and_refuses_the_rest(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW = networks("10.0.0.0/8", "2001:db8::/32")
    assert get(client, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert get(client, REMOTE_ADDR="2001:db8::7").status_code == 200
    # An IPv4 client on a dual-stack socket is still that IPv4 address.
    assert get(client, REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200
    assert get(client, REMOTE_ADDR="192.0.2.1").status_code == 403
    assert get(client, REMOTE_ADDR="").status_code == 403
    assert get(client, REMOTE_ADDR="not an address").status_code == 403


def test_behind_a_trusted_proxy_the_allow_list_checks_the_forwarded_client(client, db, settings):
    settings.METRICS_TOKEN, settings.TRUSTED_PROXY_COUNT = "", 1
    settings.METRICS_ALLOW = networks("10.0.0.0/8")
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert get(client, HTTP_X_FORWARDED_FOR="10.9.9.9", **proxy).status_code == 200
    assert get(client, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy).status_code == 403


def test_with_both_set_a_scraper_needs_both(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = networks("10.0.0.0/8")
    assert get(client, token=TOKEN, REMOTE_ADDR="10.0.0.5").status_code == 200
    assert get(client, token=TOKEN, REMOTE_ADDR="192.0.2.1").status_code == 403
    assert get(client, REMOTE_ADDR="10.0.0.5").status_code == 401
    assert get(client, token="wrong", REMOTE_ADDR="10.0.0.5").status_code == 403


def test_only_get_is_answered(client, db, metrics_on):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.post("/metrics", **auth).status_code == 405


def check(**env):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("METRICS_", "PROMETHEUS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=keep | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_nonsense_metrics_settings_stop_the_site_at_start(tmp_path):
    result = check(METRICS_ALLOW="10.0.0.0/8, the office")
    assert result.returncode != 0
    assert "METRICS_ALLOW: 'the office' is not a network" in result.stderr
    result = check(METRICS_TOKEN="short")
    assert result.returncode != 0
    assert "METRICS_TOKEN must be at least 16 characters" in result.stderr
    result = check(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "is not a directory" in result.stderr
    result = check(LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' must be json or plain" in result.stderr
