"""/dashboard/<slug>/webhooks/: marketers register endpoints and read their deliveries."""

from django.urls import path

from . import views

urlpatterns = [
    path("<slug:slug>/webhooks/", views.webhooks, name="dashboard_webhooks"),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/pause/",
        views.pause,
        name="dashboard_webhook_pause",
    ),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/resume/",
        views.resume,
        name="dashboard_webhook_resume",
    ),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/delete/",
        views.delete,
        name="dashboard_webhook_delete",
    ),
    path("<slug:slug>/webhooks/<int:endpoint_id>/ping/", views.ping, name="dashboard_webhook_ping"),
]
