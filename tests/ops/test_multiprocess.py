"""PROMETHEUS_MULTIPROC_DIR: counts made in several processes (gunicorn's workers) add up."""

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import subprocess_database_url
from tests.ops.conftest import TOKEN, parse, value

ROOT = Path(__file__).resolve().parents[2]

# One process of the site: serves a badge image, and with "scrape TOKEN" reads /metrics after.
SITE_PROCESS = """
import sys
import django
django.setup()
from django.test import Client
client = Client()
assert client.get("/badges/nobody/passalong.svg").status_code == 404
if sys.argv[1:2] == ["scrape"]:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + sys.argv[2])
    assert response.status_code == 200, response.status_code
    sys.stdout.write(response.content.decode())
"""


def run_site_process(tmp_path, *args) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METRICS_")} | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "CACHE_URL": "locmemcache://",  # each process its own render cache: a miss apiece
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", SITE_PROCESS, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_counts_from_every_process_add_up_in_one_scrape(db, tmp_path):
    run_site_process(tmp_path)
    run_site_process(tmp_path)  # a process that has exited still counts: its files stay
    samples = parse(run_site_process(tmp_path, "scrape", TOKEN))
    assert value(samples, "passalong_badge_render_cache_total", result="miss") == 3
    assert (
        value(
            samples,
            "passalong_http_request_duration_seconds_count",
            route="badge_svg",
            method="GET",
        )
        == 3
    )
    # The database's figures sit beside them, read once by the scraping process.
    assert value(samples, "passalong_database_up") == 1
