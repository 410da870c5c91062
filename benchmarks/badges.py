"""Badge serving throughput: a cached badge, a 304, and a bare "same bytes" view.

Starts gunicorn (2 sync workers, this machine's cores) on a private port
against a scratch SQLite database with the demo data (or DATABASE_URL),
drives it with wrk, and prints a table. Run: make bench (or python -m
benchmarks.badges [--seconds N]).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8097


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is missing: apt-get install wrk")
    scratch = tempfile.mkdtemp(prefix="passalong-bench-")
    env = {
        **os.environ,
        "BENCHMARK_VIEWS": "1",
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnop",
        "SECURE_SSL_REDIRECT": "0",
        "SITE_URL": f"http://127.0.0.1:{PORT}",
        "LOG_LEVEL": "ERROR",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    # The app's per-request log lines (kept: production writes them too) go to a file.
    server_log = open(Path(scratch) / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{PORT}"
        _wait(base + "/healthz")
        badge = base + "/badges/ada/passalong.svg"
        etag = urllib.request.urlopen(badge).headers["ETag"]
        rows = [
            ("bare view: return the same bytes", base + "/bench/same-bytes.svg", None),
            ("badge SVG, cached (200)", badge, None),
            ("badge SVG, If-None-Match (304)", badge, etag),
            ("badge PNG 2x, cached (200)", base + "/badges/ada/passalong.png?scale=2", None),
        ]
        results = [(name, *_wrk(wrk, url, etag_, args)) for name, url, etag_ in rows]
    finally:
        server.terminate()
        server.wait(timeout=20)
        server_log.close()
        shutil.rmtree(scratch, ignore_errors=True)
    baseline = results[0][1]
    print(
        f"\nBadge serving, gunicorn 2 sync workers, wrk {args.connections} connections, "
        f"{args.seconds}s each, {os.cpu_count()} cores shared with wrk"
    )
    print(f"{'request':<36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}")
    for name, rps, p50, p99 in results:
        print(f"{name:<36} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {rps / baseline:>7.0%}")


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def _wrk(wrk: str, url: str, etag: str | None, args) -> tuple[float, float, float]:
    command = [wrk, "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", url]
    if etag:
        command[1:1] = ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, _ms(out, "50%"), _ms(out, "99%")


def _ms(out: str, pct: str) -> float:
    value, unit = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


if __name__ == "__main__":
    main()
