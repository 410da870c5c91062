import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# The browser tests' conftest allows async-unsafe ORM calls in this process;
# a production check must not inherit that.
UNSET = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "SITE_URL", "HOST", "PORT"}


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in UNSET} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + "production-secret-key-with-enough-entropy-9876543210",
        SITE_URL="https://passalong.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_nonsense_booleans_fail_loudly():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_site_url_follows_the_dev_servers_host_and_port_unless_set():
    show = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL)",
    ]
    assert manage(*show, PORT="8123").stdout.strip() == "http://127.0.0.1:8123"
    assert manage(*show, HOST="0.0.0.0", PORT="9000").stdout.strip() == "http://127.0.0.1:9000"
    assert (
        manage(*show, PORT="8123", SITE_URL="https://x.example").stdout.strip()
        == "https://x.example"
    )
