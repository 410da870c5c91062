"""deploy/: the nginx site runs and caches badges as promised; every process starts the same way.

The nginx tests run Debian's nginx on loopback with deploy/nginx/passalong.conf
filled as make bench fills it. Where they check what nginx forwards and keeps
(cookies, Set-Cookie, the forwarded headers, stale faces), the upstream is a
small stand-in that records each request and sets a cookie on purpose: the
real badge views never set one, so only a stand-in can show nginx drops it.
"""

import importlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks import proxy

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = {
    "web": DEPLOY / "systemd" / "passalong-web.service",
    "worker": DEPLOY / "systemd" / "passalong-worker.service",
    "beat": DEPLOY / "systemd" / "passalong-beat.service",
}

PLACEHOLDER = re.compile(r"\$\{PASSALONG_[A-Z_]+\}")
needs_nginx = pytest.mark.skipif(
    not (os.access(proxy.NGINX, os.X_OK) and shutil.which("envsubst")),
    reason="needs Debian's nginx and envsubst: apt-get install nginx gettext-base",
)


def _render(env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(proxy.RENDER), str(env_file)], capture_output=True, text=True)


def _nginx_t(scratch: Path, env_file: Path) -> subprocess.CompletedProcess:
    conf = proxy.write_nginx_conf(scratch, env_file)
    return subprocess.run(
        [proxy.NGINX, "-p", str(scratch), "-c", str(conf), "-t"], capture_output=True, text=True
    )


@needs_nginx
def test_the_loopback_site_passes_nginx_t(tmp_path):
    env_file = proxy.write_env_file(tmp_path / "nginx.env", proxy.nginx_values(tmp_path, tmp_path))

    checked = _nginx_t(tmp_path, env_file)

    assert checked.returncode == 0, checked.stderr
    assert not PLACEHOLDER.search((tmp_path / "passalong.conf").read_text())


@needs_nginx
def test_the_production_site_passes_nginx_t_with_its_tls_snippet(tmp_path):
    cert, key = _self_signed_certificate(tmp_path)
    tls = (DEPLOY / "nginx" / "tls.conf").read_text()
    tls = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", tls)
    tls = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", tls)
    (tmp_path / "tls.conf").write_text(tls)
    # production.env as shipped, but for where the certificate and the cache are.
    env_file = tmp_path / "production.env"
    env_file.write_text(
        (DEPLOY / "nginx" / "production.env").read_text()
        + f"\nPASSALONG_TLS={tmp_path / 'tls.conf'}\nPASSALONG_CACHE_DIR={tmp_path / 'cache'}\n"
        + f"PASSALONG_ACCESS_LOG='{tmp_path / 'access.log'} passalong'\n"
    )

    checked = _nginx_t(tmp_path, env_file)

    assert checked.returncode == 0, checked.stderr
    site = (tmp_path / "passalong.conf").read_text()
    assert "listen 443 ssl http2;" in site
    assert "return 301 https://$host$request_uri;" in site


@needs_nginx
def test_the_compose_values_fill_every_placeholder():
    rendered = _render(DEPLOY / "nginx" / "compose.env")

    assert rendered.returncode == 0, rendered.stderr
    assert not PLACEHOLDER.search(rendered.stdout)
    assert "server web:8000;" in rendered.stdout


@needs_nginx
def test_render_refuses_an_env_file_that_leaves_a_placeholder_unset(tmp_path):
    values = proxy.nginx_values(tmp_path, tmp_path)
    del values["PASSALONG_UPSTREAM"]
    env_file = proxy.write_env_file(tmp_path / "nginx.env", values)

    rendered = _render(env_file)

    assert rendered.returncode != 0
    assert "PASSALONG_UPSTREAM is not set" in rendered.stderr


class _Upstream(ThreadingHTTPServer):
    """Stands in for gunicorn: faces fresh for 1 s with an ETag, a cookie on everything,
    and the request id echoed."""

    daemon_threads = True

    def __init__(self):
        self.seen: list[tuple[str, dict]] = []
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)


class _UpstreamHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append((self.path, dict(self.headers)))
        badge = self.path.endswith(".svg")
        if badge and self.headers.get("If-None-Match") == '"face-1"':
            self.send_response(304)
        else:
            self.send_response(200)
        if badge:
            self.send_header("Content-Type", "image/svg+xml")
            self.send_header("Cache-Control", "public, max-age=1")
            self.send_header("ETag", '"face-1"')
        else:
            self.send_header("Content-Type", "text/html")
        self.send_header("Set-Cookie", "sessionid=from-the-app")
        if "X-Request-ID" in self.headers:  # echoed, as ops/middleware.py does
            self.send_header("X-Request-ID", self.headers["X-Request-ID"])
        body = b"<svg>face</svg>" if badge else b"<p>page</p>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path):
    """nginx with the loopback site in front of the stand-in upstream: (base URL, upstream)."""
    upstream = _Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port, redirect_port = _free_port(), _free_port()
    values = proxy.nginx_values(
        tmp_path,
        tmp_path,
        port=port,
        redirect_port=redirect_port,
        upstream=f"127.0.0.1:{upstream.server_address[1]}",
    )
    nginx = proxy.start_nginx(tmp_path, proxy.write_env_file(tmp_path / "nginx.env", values))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_port(port)
        yield base, upstream
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()


@needs_nginx
def test_a_badge_is_cached_once_for_every_visitor_and_no_cookie_crosses_it(site):
    base, upstream = site
    badge = base + "/badges/ada/passalong.svg"

    first = _get(badge, Cookie="sessionid=alice-session")
    second = _get(badge, Cookie="sessionid=bob-session")

    assert (first.status, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    assert [path for path, _ in upstream.seen] == ["/badges/ada/passalong.svg"]
    assert "Cookie" not in upstream.seen[0][1]


@needs_nginx
def test_pages_keep_their_cookies_and_are_not_cached(site):
    base, upstream = site

    page = _get(base + "/u/ada/", Cookie="sessionid=alice-session")
    _get(base + "/u/ada/", Cookie="sessionid=alice-session")

    assert page.headers["Set-Cookie"] == "sessionid=from-the-app"
    assert "X-Cache-Status" not in page.headers
    assert [headers["Cookie"] for _, headers in upstream.seen] == ["sessionid=alice-session"] * 2


@needs_nginx
def test_the_app_sees_one_proxy_and_a_scheme_the_client_cannot_forge(site):
    base, upstream = site

    _get(base + "/u/ada/", **{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})

    headers = upstream.seen[0][1]
    # TRUSTED_PROXY_COUNT=1 reads the last hop: the address nginx saw, not the client's claim.
    assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"


@needs_nginx
def test_a_stale_badge_is_revalidated_and_served_while_the_app_is_down(site):
    base, upstream = site
    badge = base + "/badges/ada/passalong.svg"
    _get(badge)
    time.sleep(2.1)  # past max-age=1

    stale = _get(badge)
    _wait_until(lambda: len(upstream.seen) == 2)
    upstream.shutdown()
    upstream.server_close()
    time.sleep(2.1)
    with_the_app_down = [_get(badge) for _ in range(5)]

    # The crowd gets the stale face at once while one background request revalidates it.
    assert (stale.status, stale.headers["X-Cache-Status"]) == (200, "STALE")
    assert upstream.seen[1][1]["If-None-Match"] == '"face-1"'
    assert {(r.status, r.headers["X-Cache-Status"]) for r in with_the_app_down} == {(200, "STALE")}
    assert {r.body for r in with_the_app_down} == {b"<svg>face</svg>"}


@needs_nginx
def test_the_access_log_keeps_no_code_key_or_token_and_the_app_gets_a_request_id(tmp_path):
    upstream = _Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = _free_port()
    values = proxy.nginx_values(
        tmp_path,
        tmp_path,
        port=port,
        redirect_port=_free_port(),
        upstream=f"127.0.0.1:{upstream.server_address[1]}",
    )
    values["PASSALONG_ACCESS_LOG"] = f"{tmp_path / 'site.log'} passalong"  # production's format
    nginx = proxy.start_nginx(tmp_path, proxy.write_env_file(tmp_path / "nginx.env", values))
    secrets = ["7KQ2M9XPTR4HZ8N", "c0nf1rmk3y", "r3s3tk3y", "0ptouttok", "w41tl1sttok"]
    paths = [
        f"/i/{secrets[0]}/",
        f"/i/{secrets[0]}/accept/",
        f"/accounts/confirm-email/{secrets[1]}/",
        f"/accounts/password/reset/key/{secrets[2]}/",
        f"/no-invites/{secrets[3]}/",
        f"/waitlist/confirm/{secrets[4]}/",
        f"/waitlist/{secrets[4]}/status.json",
        f"/accounts/signup/?code={secrets[0]}",
    ]
    try:
        _wait_for_port(port)
        for path in paths:
            _get(f"http://127.0.0.1:{port}{path}")
        badge = _get(f"http://127.0.0.1:{port}/badges/ada/passalong.svg")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()

    log = (tmp_path / "site.log").read_text()
    assert len(log.splitlines()) == len(paths) + 1
    assert not [secret for secret in secrets if secret in log]
    assert '"GET /i/<code>/"' in log and '"GET /accounts/signup/"' in log
    ids = [headers.get("X-Request-ID") for _, headers in upstream.seen]
    assert all(ids) and len(set(ids)) == len(ids)
    assert "X-Request-ID" not in badge.headers  # a cached face carries no one's id


@needs_nginx
def test_plain_http_redirects_to_https(tmp_path):
    port, redirect_port = _free_port(), _free_port()
    values = proxy.nginx_values(tmp_path, tmp_path, port=port, redirect_port=redirect_port)
    nginx = proxy.start_nginx(tmp_path, proxy.write_env_file(tmp_path / "nginx.env", values))
    try:
        _wait_for_port(redirect_port)
        answer = _get(f"http://127.0.0.1:{redirect_port}/badges/ada/passalong.svg?style=flat")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)

    assert answer.status == 301
    assert answer.headers["Location"] == "https://127.0.0.1/badges/ada/passalong.svg?style=flat"


# --- every process starts the same way everywhere --------------------------------


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        name: shlex.split(command)
        for name, command in (line.split(":", 1) for line in lines if line.strip())
    }


def _unit_command(unit: Path) -> list[str]:
    exec_start = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.M).group(1)
    program, *args = shlex.split(exec_start)
    assert program.startswith("/srv/passalong/.venv/bin/"), program
    return [Path(program).name, *args]


def _compose() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_web_worker_and_beat_run_the_same_command_in_every_deployment():
    procfile, services = _procfile(), _compose()

    for process, unit in UNITS.items():
        assert _unit_command(unit) == procfile[process], unit.name
        assert shlex.split(services[process]["command"]) == procfile[process], process
    assert shlex.split(services["release"]["command"]) == procfile["release"]
    # make bench measures the very command production runs.
    assert list(proxy.GUNICORN) == procfile["web"]


def test_compose_runs_the_nginx_site_and_the_services_it_needs():
    services = _compose()

    assert {"db", "redis", "web", "worker", "beat", "nginx"} <= set(services)
    nginx_command = " ".join(services["nginx"]["command"])
    assert "deploy/nginx/render.sh deploy/nginx/compose.env" in nginx_command
    assert "PASSALONG_UPSTREAM=web:8000" in (DEPLOY / "nginx" / "compose.env").read_text()
    assert services["web"]["environment"]["GUNICORN_BIND"] == "0.0.0.0:8000"


def test_the_commands_name_programs_modules_and_files_that_exist():
    procfile = _procfile()
    bin_dir = Path(sys.executable).parent

    for command in procfile.values():
        program = command[0]
        if program == "python":
            assert (ROOT / command[1]).is_file(), command
        else:
            assert (bin_dir / program).is_file(), f"{program} is not installed by requirements.txt"
    celery_apps = {cmd[cmd.index("-A") + 1] for cmd in procfile.values() if cmd[0] == "celery"}
    for name in celery_apps:
        assert importlib.import_module(name).celery_app.main == "passalong"


def test_gunicorn_loads_its_config_and_the_app():
    checked = subprocess.run(
        [sys.executable, "-m", *proxy.GUNICORN, "--check-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
def test_the_systemd_units_have_no_unknown_or_malformed_settings():
    checked = subprocess.run(
        ["systemd-analyze", "verify", *map(str, UNITS.values())], capture_output=True, text=True
    )

    # The checkout is not installed in /srv/passalong here: that complaint is expected.
    problems = [
        line
        for line in checked.stderr.splitlines()
        if not re.search(r"Command /srv/passalong/\.venv/bin/\w+ is not executable", line)
    ]
    assert problems == []
    for unit in UNITS.values():
        text = unit.read_text()
        assert "EnvironmentFile=/etc/passalong/env" in text
        assert "User=passalong" in text
        assert "NoNewPrivileges=yes" in text and "ProtectSystem=strict" in text


# --- helpers -----------------------------------------------------------------------


class _Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


def _get(url: str, **headers) -> _Answer:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return _Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return _Answer(error.code, error.headers, error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int) -> None:
    _wait_until(lambda: _connects(port))


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "invites.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
