"""/dashboard/: the marketers' campaign list, each campaign's figures, settings and seeding."""

from django.urls import path

from .views import dashboard

urlpatterns = [
    path("", dashboard.home, name="dashboard"),
    path("new/", dashboard.campaign_create, name="dashboard_new"),
    path("<slug:slug>/", dashboard.campaign, name="dashboard_campaign"),
    path("<slug:slug>/settings/", dashboard.campaign_edit, name="dashboard_edit"),
    path("<slug:slug>/refresh/", dashboard.refresh, name="dashboard_refresh"),
    path("<slug:slug>/grant/", dashboard.grant, name="dashboard_grant"),
    path("<slug:slug>/seed/", dashboard.seed, name="dashboard_seed"),
    path("<slug:slug>/seed/codes.csv", dashboard.seed_codes, name="dashboard_seed_codes"),
    path("<slug:slug>/seed/import/", dashboard.import_upload, name="dashboard_import_upload"),
    path("<slug:slug>/imports/<int:job_id>/", dashboard.import_detail, name="dashboard_import"),
    path(
        "<slug:slug>/imports/<int:job_id>/status.json",
        dashboard.import_status,
        name="dashboard_import_status",
    ),
    path(
        "<slug:slug>/imports/<int:job_id>/rejected.csv",
        dashboard.import_report_csv,
        name="dashboard_import_report",
    ),
]
