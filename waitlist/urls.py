from django.urls import path

from . import views

urlpatterns = [
    path("c/<slug:slug>/", views.campaign_page, name="campaign_page"),
    path("c/<slug:slug>/waitlist/", views.ask, name="waitlist_ask_campaign"),
    path("waitlist/", views.ask, name="waitlist_ask"),
    path("invites/pool/", views.pool, name="waitlist_pool"),
    path("waitlist/vouch/", views.vouch, name="waitlist_vouch"),
    path("waitlist/confirm/<str:token>/", views.confirm, name="waitlist_confirm"),
    path("waitlist/<str:token>/", views.page, name="waitlist_page"),
    path("waitlist/<str:token>/status.json", views.status, name="waitlist_status"),
]
