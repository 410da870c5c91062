from django.contrib import admin
from django.urls import include, path

from accounts.views import signup
from referrals import views as referrals
from referrals.health import healthz

urlpatterns = [
    path("", referrals.home, name="home"),
    path("i/<str:code>/", referrals.invite_landing, name="invite_landing"),
    path("invites/", referrals.invites, name="invites"),
    # Our signup view first: it wraps allauth's with throttling and race handling.
    path("accounts/signup/", signup, name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
