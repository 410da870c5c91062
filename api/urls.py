"""/api/: the versioned REST API under v1/, its OpenAPI schema and its docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import views, webhook_views
from .docs import SwaggerDocs

v1 = [
    path("campaigns/", views.CampaignList.as_view(), name="api_campaigns"),
    path("campaigns/<slug:slug>/", views.CampaignDetail.as_view(), name="api_campaign"),
    path("campaigns/<slug:slug>/stats/", views.CampaignStats.as_view(), name="api_campaign_stats"),
    path("campaigns/<slug:slug>/members/", views.MemberList.as_view(), name="api_members"),
    path(
        "campaigns/<slug:slug>/members/<int:member_id>/",
        views.MemberDetail.as_view(),
        name="api_member",
    ),
    path(
        "campaigns/<slug:slug>/members/<int:member_id>/ancestors/",
        views.MemberAncestors.as_view(),
        name="api_member_ancestors",
    ),
    path(
        "campaigns/<slug:slug>/members/<int:member_id>/invitees/",
        views.MemberInvitees.as_view(),
        name="api_member_invitees",
    ),
    path(
        "campaigns/<slug:slug>/activations/",
        views.ActivationReport.as_view(),
        name="api_activations",
    ),
    path("invites/", views.InviteList.as_view(), name="api_invites"),
    path("invites/<int:invite_id>/", views.InviteDetail.as_view(), name="api_invite"),
    path("webhooks/", webhook_views.EndpointList.as_view(), name="api_webhooks"),
    path("webhooks/<int:endpoint_id>/", webhook_views.EndpointDetail.as_view(), name="api_webhook"),
    path(
        "webhooks/<int:endpoint_id>/deliveries/",
        webhook_views.DeliveryList.as_view(),
        name="api_webhook_deliveries",
    ),
    path(
        "webhooks/<int:endpoint_id>/ping/",
        webhook_views.EndpointPing.as_view(),
        name="api_webhook_ping",
    ),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SwaggerDocs.as_view(url_name="api_schema"), name="api_docs"),
    path("v1/", include(v1)),
    # Scripts get JSON for a mistyped path too, not the site's HTML 404 page.
    re_path(r"^v1/", views.not_found, name="api_not_found"),
]
