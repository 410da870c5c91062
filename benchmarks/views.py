"""Baselines for `make bench`, mounted only when BENCHMARK_VIEWS=1 (config/urls.py).

- same_bytes: the badge benchmark's floor, the same bytes with no lookup, no
  cache, no headers work.
- allauth_signup: the signup benchmark's baseline, django-allauth alone: its
  stock SignupView and SignupForm with an adapter that does not gate (no
  code, no member, no redemption, nothing of ours), on the same server,
  hasher, templates and middleware as our signup.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import SignupForm
from allauth.account.views import SignupView
from django.http import HttpResponse
from django.test.utils import override_settings

from referrals.throttle import client_ip

_BODY = None


def same_bytes(request):
    global _BODY
    if _BODY is None:
        from badges import render

        _BODY = render.badge_svg(label="Passalong beta", value="#1 · brought in 3").encode()
    return HttpResponse(_BODY, content_type="image/svg+xml")


class AllauthOnlyAdapter(DefaultAccountAdapter):
    """allauth's own adapter: open signup, the plain user save, allauth's own e-mails.

    Only the client's address is read as the site reads it (behind
    TRUSTED_PROXY_COUNT proxies), as AccountAdapter does, so that allauth's
    per-address signup limit counts visitors, not the proxy, in both runs.
    """

    def get_client_ip(self, request) -> str:
        return client_ip(request)


class _StockSignupView(SignupView):
    def get_form_class(self):
        return SignupForm  # not settings.ACCOUNT_FORMS (ours)


_stock_signup = _StockSignupView.as_view()
_ALLAUTH_ONLY = override_settings(ACCOUNT_ADAPTER="benchmarks.views.AllauthOnlyAdapter")


def allauth_signup(request):
    # allauth looks its adapter up in settings on every call (get_adapter), so
    # the swap covers the whole request, rendering included. Process-wide:
    # right for gunicorn's sync workers (one request at a time), which is
    # what the benchmark runs; never mount this on a threaded server.
    with _ALLAUTH_ONLY:
        response = _stock_signup(request)
        if hasattr(response, "render"):
            response.render()
    return response
