"""The badge behind nginx's proxy cache, beside nginx's own ceiling and gunicorn alone.

Runs deploy/nginx/passalong.conf itself (filled by deploy/nginx/render.sh
for loopback, plain HTTP, scratch paths) with Debian's nginx as the current
user, in front of gunicorn started as production starts it
(`gunicorn -c deploy/gunicorn.conf.py config.wsgi`, 2 sync workers),
against a scratch SQLite database with the demo data. Prints one table:

(a) nginx serving the same badge bytes as a static file (the ceiling)
(b) the badge through the proxy cache (a HIT)
(c) the badge straight from gunicorn
(d) the bare view through gunicorn (the same bytes, no lookup)

Then stops gunicorn, waits until the cached faces are past their
freshness (the app's max-age), and counts how many of N requests for them
still answer 200. Run: make bench (or python -m benchmarks.proxy
[--seconds N] [--connections C] [--dead-requests N]).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"
RENDER = ROOT / "deploy" / "nginx" / "render.sh"
GUNICORN_PORT, NGINX_PORT, REDIRECT_PORT = 8180, 8181, 8182
# The faces cached before gunicorn stops (each variant is its own cache entry).
FACES = (
    "/badges/ada/passalong.svg",
    "/badges/ada/passalong.svg?style=flat-square",
    "/badges/ada/passalong.png",
    "/badges/ada/passalong.png?scale=2",
)
MAX_AGE = 60  # badges/views/images.py CACHE_SECONDS: how long a cached face is fresh

# Debian's /etc/nginx/nginx.conf, with scratch paths and no root: the site
# file is included exactly as production includes it.
MAIN_CONF = """\
{user}worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 768;
}}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    # Buffered, as production logs; the cache status is what we count.
    log_format bench '$upstream_cache_status $status $request_uri';
    access_log {prefix}/access.log bench buffer=64k flush=1s;
    gzip on;
    include {prefix}/passalong.conf;
}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--dead-requests", type=int, default=200)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is missing: apt-get install wrk")
    if not os.access(NGINX, os.X_OK):
        sys.exit(f"{NGINX} is missing: apt-get install nginx")
    scratch = Path(tempfile.mkdtemp(prefix="passalong-proxy-"))
    env = app_env(scratch, port=GUNICORN_PORT)
    prepare_database(env)
    gunicorn = start_gunicorn(env, log=scratch / "gunicorn.log")
    nginx = None
    try:
        app = f"http://127.0.0.1:{GUNICORN_PORT}"
        site = f"http://127.0.0.1:{NGINX_PORT}"
        wait_for(app + "/healthz", "gunicorn", log=scratch / "gunicorn.log")
        badge = FACES[0]
        static = scratch / "static"
        (static / "bench").mkdir(parents=True)
        (static / "bench" / "badge.svg").write_bytes(urllib.request.urlopen(app + badge).read())
        env_file = write_env_file(scratch / "nginx.env", nginx_values(scratch, static))
        nginx = start_nginx(scratch, env_file)
        wait_for(site + "/static/bench/badge.svg", "nginx")
        checks = check_site(site, badge)
        warmed_at = time.monotonic()
        for face in FACES:
            for _ in range(2):
                urllib.request.urlopen(site + face).read()
        rows = [
            ("(a) nginx, the same bytes as a static file", site + "/static/bench/badge.svg"),
            ("(b) badge through nginx's proxy cache (HIT)", site + badge),
            ("(c) badge straight from gunicorn", app + badge),
            ("(d) bare view through gunicorn", app + "/bench/same-bytes.svg"),
        ]
        results = []
        for name, url in rows:
            mark = _log_size(scratch)
            results.append((name, *run_wrk(wrk, url, args.connections, args.seconds)))
            if url.startswith(site + "/badges/"):
                hit_counts = _cache_statuses(scratch, mark)
        stop(gunicorn)
        # Past max-age a face is stale: now the answers come from proxy_cache_use_stale.
        time.sleep(max(0.0, warmed_at + MAX_AGE + 1 - time.monotonic()))
        dead = dead_app_answers(site, args.dead_requests)
    finally:
        if nginx is not None:
            stop(nginx)
        stop(gunicorn)
        shutil.rmtree(scratch, ignore_errors=True)
    print_report(args, checks, results, hit_counts, dead)


def app_env(scratch: Path, *, port: int) -> dict[str, str]:
    """Production settings (DEBUG=0, one trusted proxy) on loopback, a scratch database."""
    env = {
        **os.environ,
        "BENCHMARK_VIEWS": "1",
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnop",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "SITE_URL": f"http://127.0.0.1:{NGINX_PORT}",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "ERROR",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",  # this machine's cores, as benchmarks/badges.py runs it
    }
    env.pop("CELERY_BROKER_URL", None)
    env["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    return env


def prepare_database(env: dict[str, str]) -> None:
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    # DEBUG=0 pages name their static files by the manifest collectstatic writes.
    subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


# The command passalong-web.service, the Procfile and docker-compose.yml run.
GUNICORN = ("gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi")


def start_gunicorn(env: dict[str, str], *, log: Path) -> subprocess.Popen:
    """gunicorn as production starts it; its own log (start, stop lines) goes to `log`."""
    command = [sys.executable, "-m", *GUNICORN]
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


def nginx_values(
    scratch: Path,
    static: Path,
    *,
    port: int = NGINX_PORT,
    redirect_port: int = REDIRECT_PORT,
    upstream: str = f"127.0.0.1:{GUNICORN_PORT}",
) -> dict[str, str]:
    """deploy/nginx/passalong.conf's placeholders for loopback, plain HTTP and scratch paths."""
    return {
        "PASSALONG_SERVER_NAME": "127.0.0.1",
        "PASSALONG_LISTEN": f"127.0.0.1:{port}",
        "PASSALONG_TLS": str(ROOT / "deploy" / "nginx" / "plain-http.conf"),
        "PASSALONG_REDIRECT_LISTEN": f"127.0.0.1:{redirect_port}",
        "PASSALONG_UPSTREAM": upstream,
        "PASSALONG_STATIC_ROOT": str(static),
        "PASSALONG_CACHE_DIR": str(scratch / "cache"),
        # The bench's own format (MAIN_CONF): the cache status of each answer is what it counts.
        "PASSALONG_ACCESS_LOG": f"{scratch / 'access.log'} bench buffer=64k flush=1s",
    }


def write_env_file(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
    return path


def write_nginx_conf(scratch: Path, env_file: Path) -> Path:
    """A main nginx.conf in `scratch` that includes passalong.conf as render.sh fills it."""
    site = subprocess.run(
        ["sh", str(RENDER), str(env_file)], capture_output=True, text=True, check=True
    ).stdout
    (scratch / "passalong.conf").write_text(site)
    (scratch / "tmp").mkdir(exist_ok=True)
    # As root (this machine), nginx's workers would become "nobody" and lose
    # the scratch directory: keep them as whoever runs the benchmark.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = scratch / "nginx.conf"
    conf.write_text(MAIN_CONF.format(prefix=scratch, user=user))
    return conf


def start_nginx(scratch: Path, env_file: Path) -> subprocess.Popen:
    conf = write_nginx_conf(scratch, env_file)
    base = [NGINX, "-p", str(scratch), "-c", str(conf)]
    subprocess.run([*base, "-t", "-q"], check=True)
    return subprocess.Popen([*base, "-g", "daemon off;"])


def check_site(site: str, badge: str) -> list[tuple[str, str]]:
    """What the config promises, checked on the running site (each fails the run if wrong)."""
    checks = []
    first = _get(site + badge, cookie="sessionid=someone-s-session")
    second = _get(site + badge)
    assert first.status == 200 and second.status == 200, (first.status, second.status)
    assert second.headers["X-Cache-Status"] == "HIT", second.headers["X-Cache-Status"]
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    checks.append(
        (
            "badge, 2nd request",
            f"X-Cache-Status {second.headers['X-Cache-Status']}, "
            f"Cache-Control {second.headers['Cache-Control']!r}, no Set-Cookie",
        )
    )
    page = _get(site + "/")
    assert page.status == 200, f"the home page through nginx answered {page.status}"
    assert "X-Cache-Status" not in page.headers, "pages must not go through the cache"
    checks.append(("home page", f"{page.status}, not cached (no X-Cache-Status)"))
    static = _get(site + "/static/bench/badge.svg")
    checks.append(("static file", f"Cache-Control {static.headers['Cache-Control']!r}"))
    redirect = _get(f"http://127.0.0.1:{REDIRECT_PORT}/u/ada/")
    assert redirect.status == 301 and redirect.headers["Location"].startswith("https://")
    checks.append(("plain HTTP", f"{redirect.status} to {redirect.headers['Location']}"))
    return checks


def dead_app_answers(site: str, count: int) -> collections.Counter:
    """(status, X-Cache-Status) of `count` requests spread over the cached faces."""
    answers = collections.Counter()
    for i in range(count):
        response = _get(site + FACES[i % len(FACES)])
        answers[(response.status, response.headers.get("X-Cache-Status", "-"))] += 1
    never = _get(site + "/badges/ada/passalong.svg?style=for-the-badge")
    answers[(never.status, "never cached: " + never.headers.get("X-Cache-Status", "-"))] += 1
    return answers


def print_report(args, checks, results, hit_counts, dead) -> None:
    print(f"\nThe badge behind nginx {_nginx_version()} (deploy/nginx/passalong.conf), ", end="")
    print(
        f"gunicorn 2 sync workers, wrk {args.connections} connections, {args.seconds}s each, "
        f"{os.cpu_count()} cores shared by nginx, gunicorn and wrk"
    )
    for what, seen in checks:
        print(f"  {what:<20} {seen}")
    ceiling = results[0][1]
    print(f"\n{'request':<46} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs (a)':>7}")
    for name, rps, p50, p99 in results:
        print(f"{name:<46} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {rps / ceiling:>7.0%}")
    cached, direct = results[1][1], results[2][1]
    verdict = "met" if cached >= 0.5 * ceiling else "NOT met"
    print(
        f"goal: (b) >= 0.5x (a): {cached / ceiling:.2f}x, {verdict}; "
        f"(b) is {cached / direct:.1f}x (c)"
    )
    statuses = ", ".join(f"{status} {n}" for status, n in hit_counts.most_common())
    print(f"(b)'s answers by cache status (access log): {statuses}")
    served = sum(n for (status, cache), n in dead.items() if status == 200)
    asked = sum(n for (status, cache), n in dead.items() if not cache.startswith("never"))
    print(f"\ngunicorn stopped, faces past their max-age={MAX_AGE}:")
    for (status, cache), n in sorted(dead.items(), key=lambda item: -item[1]):
        print(f"  {n:>5} x {status} {cache}")
    verdict = "met" if served == asked else "NOT met"
    print(f"goal: cached badges answer 200 with the app down: {served}/{asked}, {verdict}")


def run_wrk(wrk: str, url: str, connections: int, seconds: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of `url` under wrk; fails on any non-2xx answer."""
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} non-2xx answers\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, _ms(out, "50%"), _ms(out, "99%")


def wait_for(url: str, what: str, log: Path | None = None) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    told = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise SystemExit(f"{what} did not start ({url})\n{told}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=20)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _get(url: str, cookie: str | None = None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with _opener.open(request, timeout=5) as response:
            response.read()
            return response
    except urllib.error.HTTPError as error:  # 3xx, 4xx, 5xx: the answer is what we look at
        return error


def _ms(out: str, pct: str) -> float:
    value, unit = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _log_size(scratch: Path) -> int:
    time.sleep(1.2)  # the access log's buffer flushes every second
    log = scratch / "access.log"
    return log.stat().st_size if log.exists() else 0


def _cache_statuses(scratch: Path, mark: int) -> collections.Counter:
    time.sleep(1.2)
    with open(scratch / "access.log", "rb") as log:
        log.seek(mark)
        return collections.Counter(line.split(b" ", 1)[0].decode() for line in log)


def _nginx_version() -> str:
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
    return out.strip().rsplit("/", 1)[-1]


if __name__ == "__main__":
    main()
