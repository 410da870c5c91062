from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts
from ops.views import metrics
from referrals.health import healthz

# Django's own 400 page, but JSON for the API (a body over the upload limit).
handler400 = "api.views.bad_request"

urlpatterns = [
    path("", include("referrals.urls")),
    path("", include("waitlist.urls")),
    path("", include("badges.urls")),
    # Our signup view first: it wraps allauth's with throttling and race handling.
    path("accounts/signup/", accounts.signup, name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("settings/", accounts.profile_settings, name="settings"),
    path("dashboard/", include("dashboard.urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
]

if settings.BENCHMARK_VIEWS:  # only for `make bench`: the baselines (benchmarks/views.py)
    from benchmarks.views import allauth_signup, same_bytes

    urlpatterns.append(path("bench/same-bytes.svg", same_bytes))
    # The signup benchmark's baseline: allauth's own form, no invite gate.
    urlpatterns.append(path("bench/allauth-signup/", allauth_signup))
