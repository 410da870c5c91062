"""Choosing the app server: gunicorn's sync workers beside granian (Rust, WSGI) and uvicorn (ASGI).

Each server runs the same app (DEBUG=0, one trusted proxy, a scratch SQLite
database with the demo data) with 2 worker processes on loopback, one after
the other, and wrk drives the badge and the signup form at the same
concurrency. gunicorn is started as production starts it (deploy/gunicorn.conf.py);
granian and uvicorn come from make bench's own environment (.venv-bench,
requirements-bench.txt) and load the project's packages from its .venv, so
the site's own dependencies are the same in every run.

The rule (docs/operations.md, "Choosing the app server"): keep gunicorn
unless another serves more at no worse p99. Not part of make bench; run it
with `python -m benchmarks.servers [--seconds N] [--connections C]` after
`make bench` (or `make .venv-bench/.installed`) made .venv-bench.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from benchmarks.proxy import GUNICORN, app_env, prepare_database, run_wrk, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
PORT = 8183
ROUTES = (
    ("badge SVG", "/badges/ada/passalong.svg"),
    ("signup form (GET)", "/accounts/signup/"),
)


def servers(bench_python: str) -> list[tuple[str, list[str]]]:
    listen = ["--host", "127.0.0.1", "--port", str(PORT), "--log-level", "warning"]
    granian = [bench_python, "-m", "granian", "--interface", "wsgi", "--workers", "2", *listen]
    uvicorn = [bench_python, "-m", "uvicorn", "--workers", "2", *listen]
    return [
        ("gunicorn sync (ours)", [sys.executable, "-m", *GUNICORN]),
        (
            "granian WSGI, 1 thread",
            [*granian, "--blocking-threads", "1", "config.wsgi:application"],
        ),
        (
            "granian WSGI, 4 threads",
            [*granian, "--blocking-threads", "4", "config.wsgi:application"],
        ),
        ("uvicorn ASGI", [*uvicorn, "--no-access-log", "config.asgi:application"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--bench-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is missing: apt-get install wrk")
    if not Path(args.bench_python).exists():
        sys.exit(f"{args.bench_python} is missing: make .venv-bench/.installed")
    scratch = Path(tempfile.mkdtemp(prefix="passalong-servers-"))
    env = app_env(scratch, port=PORT)
    prepare_database(env)
    # The trial servers' interpreter finds the project and its .venv's packages.
    env_trial = {**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{sysconfig.get_paths()['purelib']}"}
    results = []
    try:
        for name, command in servers(args.bench_python):
            trial = env if command[0] == sys.executable else env_trial
            log = open(scratch / "server.log", "ab")  # noqa: SIM115 - closed below
            server = subprocess.Popen(command, cwd=ROOT, env=trial, stdout=log, stderr=log)
            try:
                wait_for(f"http://127.0.0.1:{PORT}/healthz", name, log=scratch / "server.log")
                for route, path in ROUTES:
                    url = f"http://127.0.0.1:{PORT}{path}"
                    results.append(
                        (name, route, *run_wrk(wrk, url, args.connections, args.seconds))
                    )
            finally:
                stop(server)
                log.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_report(args, results)


def print_report(args, results) -> None:
    print(
        f"\nApp servers, 2 worker processes each, wrk {args.connections} connections, "
        f"{args.seconds}s each, {os.cpu_count()} cores shared with wrk"
    )
    print(f"{'server':<26} {'route':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs ours':>8}")
    ours = {route: (rps, p99) for name, route, rps, _, p99 in results if name.endswith("(ours)")}
    better = []
    for name, route, rps, p50, p99 in results:
        base_rps, base_p99 = ours[route]
        print(f"{name:<26} {route:<18} {rps:>8.0f} {p50:>8.2f} {p99:>8.2f} {rps / base_rps:>7.0%}")
        if not name.endswith("(ours)") and rps > base_rps and p99 <= base_p99:
            better.append(f"{name} on {route}")
    if better:
        print("serves more at no worse p99 than gunicorn: " + "; ".join(better))
    else:
        print("none serves more at no worse p99 than gunicorn: keep gunicorn")


if __name__ == "__main__":
    main()
