"""/dashboard/: the marketer side. Campaigns, figures, seeding, the tree explorer, exports,
review and webhooks, all under /dashboard/<slug>/ (public URLs, do not rename)."""

from django.urls import path

from .views import (
    campaigns,
    explorer,
    exports,
    followup,
    moderation,
    review,
    waitlist,
    webhooks,
)

urlpatterns = [
    path("", campaigns.home, name="dashboard"),
    path("new/", campaigns.campaign_create, name="dashboard_new"),
    path("<slug:slug>/", campaigns.campaign, name="dashboard_campaign"),
    path("<slug:slug>/settings/", campaigns.campaign_edit, name="dashboard_edit"),
    path("<slug:slug>/refresh/", campaigns.refresh, name="dashboard_refresh"),
    path("<slug:slug>/live.json", campaigns.live_json, name="dashboard_live"),
    path("<slug:slug>/grant/", campaigns.grant, name="dashboard_grant"),
    path("<slug:slug>/seed/", campaigns.seed, name="dashboard_seed"),
    path("<slug:slug>/seed/codes.csv", campaigns.seed_codes, name="dashboard_seed_codes"),
    path("<slug:slug>/seed/import/", campaigns.import_upload, name="dashboard_import_upload"),
    path("<slug:slug>/imports/<int:job_id>/", campaigns.import_detail, name="dashboard_import"),
    path(
        "<slug:slug>/imports/<int:job_id>/status.json",
        campaigns.import_status,
        name="dashboard_import_status",
    ),
    path(
        "<slug:slug>/imports/<int:job_id>/rejected.csv",
        campaigns.import_report_csv,
        name="dashboard_import_report",
    ),
    path(
        "<slug:slug>/imports/<int:job_id>/people.csv",
        followup.people_csv,
        name="dashboard_import_people",
    ),
    path(
        "<slug:slug>/imports/<int:job_id>/resend/",
        followup.resend,
        name="dashboard_import_resend",
    ),
    path("<slug:slug>/waitlist/", waitlist.waitlist, name="dashboard_waitlist"),
    path("<slug:slug>/waitlist/waves/", waitlist.release, name="dashboard_wave"),
    # The tree explorer, exports and review.
    path("<slug:slug>/tree/", explorer.explorer, name="dashboard_explorer"),
    path("<slug:slug>/tree/roots.json", explorer.roots_json, name="dashboard_explorer_roots"),
    path("<slug:slug>/tree/search.json", explorer.search_json, name="dashboard_explorer_search"),
    path(
        "<slug:slug>/tree/<int:member_id>/invitees.json",
        explorer.children_json,
        name="dashboard_explorer_children",
    ),
    path(
        "<slug:slug>/tree/<int:member_id>/path.json",
        explorer.path_json,
        name="dashboard_explorer_path",
    ),
    path("<slug:slug>/export/members.csv", exports.members_csv, name="dashboard_export_members"),
    path("<slug:slug>/export/invites.csv", exports.invites_csv, name="dashboard_export_invites"),
    path("<slug:slug>/export/tree.graphml", exports.tree_graphml, name="dashboard_export_graphml"),
    path(
        "<slug:slug>/tree/<int:member_id>/moderate/",
        moderation.moderate,
        name="dashboard_moderate",
    ),
    path("<slug:slug>/moderation/", moderation.log, name="dashboard_moderation"),
    path("<slug:slug>/moderation.csv", exports.moderation_csv, name="dashboard_moderation_csv"),
    path("<slug:slug>/review/", review.review, name="dashboard_review"),
    path("<slug:slug>/review/decide/", review.decide, name="dashboard_decide"),
    path(
        "<slug:slug>/review/codes/<int:invite_id>/unfreeze/",
        review.unfreeze,
        name="dashboard_unfreeze",
    ),
    # Webhook endpoints and their deliveries.
    path("<slug:slug>/webhooks/", webhooks.webhooks, name="dashboard_webhooks"),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/pause/",
        webhooks.pause,
        name="dashboard_webhook_pause",
    ),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/resume/",
        webhooks.resume,
        name="dashboard_webhook_resume",
    ),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/delete/",
        webhooks.delete,
        name="dashboard_webhook_delete",
    ),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/ping/", webhooks.ping, name="dashboard_webhook_ping"
    ),
]
