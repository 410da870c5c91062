"""The mixed load of benchmarks.load: badge hits, invite and landing pages, real signups.

Run by benchmarks.load with locust from the bench environment (.venv-bench);
this file imports only locust and the standard library. What to request
comes from the JSON file named by PASSALONG_LOAD_DATA (badge paths of
existing members, open codes whose pages to show, one-use codes to sign up
with). Every request looks as if it came through the production TLS proxy:
X-Forwarded-For (a new address per visitor) and X-Forwarded-Proto.

Of every 100 tasks: 90 badge hits, 4 invite pages (/i/<code>/), 4 landing
pages (/), 2 signups (the form's GET, then its POST with a fresh username
and address, expecting the 302 to "verify your e-mail").
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from http.cookies import SimpleCookie

from locust import FastHttpUser, task

with open(os.environ["PASSALONG_LOAD_DATA"]) as data_file:
    DATA = json.load(data_file)
BADGES = DATA["badge_paths"]
OPEN_CODES = DATA["spare_codes"]
SIGNUP_CODES = iter(DATA["codes"])
PASSWORD = "a long unusual passphrase 42"
RATE = float(os.environ.get("PASSALONG_LOAD_RATE", "2"))  # tasks a second per visitor, on average
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_visitors = itertools.count(1)


def _address() -> str:
    """A new visitor's address, on a /24 no recent visitor had (198.18.0.0/15: benchmarks)."""
    n = next(_visitors)
    return f"198.{18 + n % 512 // 256}.{n % 256}.{1 + n // 512 % 254}"


class Visitor(FastHttpUser):
    def wait_time(self) -> float:
        # Exponential pauses: visitors arrive at random, as real ones do (a fixed
        # rate would keep every visitor in step and send them all at once).
        return random.expovariate(RATE)

    def on_start(self) -> None:
        self.proxy = {"X-Forwarded-For": _address(), "X-Forwarded-Proto": "https"}

    @task(90)
    def badge(self) -> None:
        with self.client.get(
            random.choice(BADGES), headers=self.proxy, name="badge .svg", catch_response=True
        ) as response:
            if response.status_code != 200 or b"<svg" not in (response.content or b""):
                response.failure(f"badge answered {response.status_code}")

    @task(4)
    def invite_page(self) -> None:
        code = random.choice(OPEN_CODES)
        self.client.get(f"/i/{code}/", headers=self.proxy, name="invite page /i/<code>/")

    @task(4)
    def landing_page(self) -> None:
        self.client.get("/", headers=self.proxy, name="landing page /")

    @task(2)
    def signup(self) -> None:
        code = next(SIGNUP_CODES, None)
        if code is None:
            return
        n = next(_visitors)
        visitor = {"X-Forwarded-For": _address(), "X-Forwarded-Proto": "https"}
        with self.client.get(
            f"/accounts/signup/?code={code}",
            headers=visitor,
            name="signup: the form (GET)",
            catch_response=True,
        ) as page:
            token = _CSRF.search(page.text or "")
            cookies = _cookies(page)
            if page.status_code != 200 or token is None or "csrftoken" not in cookies:
                page.failure(f"signup form answered {page.status_code}")
                return
        origin = f"https://{self.host.split('://', 1)[-1]}"
        with self.client.post(
            "/accounts/signup/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "code": code,
                "email": f"load{os.getpid()}x{n}@load.test",
                "username": f"load{os.getpid()}x{n}",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            headers=visitor
            | {
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                "Origin": origin,
                "Referer": origin + "/accounts/signup/",
            },
            allow_redirects=False,
            name="signup: submit (POST)",
            catch_response=True,
        ) as response:
            location = response.headers.get("Location") or ""
            if response.status_code != 302 or not location.endswith("/accounts/confirm-email/"):
                response.failure(f"signup answered {response.status_code} {location}")


def _cookies(response) -> dict[str, str]:
    """The cookies a response sets, Secure ones included (a browser would keep them)."""
    jar: dict[str, str] = {}
    headers = response.headers
    values = headers.get_all("Set-Cookie") if hasattr(headers, "get_all") else None
    for header in values or [headers.get("Set-Cookie") or ""]:
        for name, morsel in SimpleCookie(header).items():
            jar[name] = morsel.value
    return jar
