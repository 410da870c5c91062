"""The marketer's tree explorer, exports and review queue, under /dashboard/<slug>/."""

from django.urls import path

from .views import explorer, exports, review

urlpatterns = [
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
    path("<slug:slug>/review/", review.review, name="dashboard_review"),
]
