from django.urls import path

from .views import door, images, oembed, openbadges, pages

urlpatterns = [
    path("badges/", pages.my_badges, name="my_badges"),
    path("settings/badges/<int:award_id>/visibility/", pages.toggle_hidden, name="badge_toggle"),
    # Any name at all: a badge URL with a typo still gets the "not found" image.
    path("badges/<str:username>/<str:slug>.svg", images.badge_svg, name="badge_svg"),
    path("badges/<str:username>/<str:slug>.png", images.badge_png, name="badge_png"),
    path("badges/<str:username>/<slug:slug>/", pages.proof, name="badge_proof"),
    path("badges/<str:username>/<slug:slug>/ask/", door.ask, name="badge_ask"),
    path(
        "settings/requests/<int:request_id>/<str:decision>/",
        door.answer,
        name="invite_request_answer",
    ),
    path(
        "badges/<str:username>/<slug:slug>/baked.<str:ext>",
        openbadges.baked,
        name="badge_baked",
    ),
    path("u/<str:username>/", pages.profile, name="profile"),
    path("oembed/", oembed.oembed, name="oembed"),
    path("openbadges/issuer.json", openbadges.issuer, name="openbadges_issuer"),
    path(
        "openbadges/badges/<slug:campaign_slug>/<slug:slug>.json",
        openbadges.badge_class,
        name="openbadges_badgeclass",
    ),
    path(
        "openbadges/badges/<slug:campaign_slug>/<slug:slug>.svg",
        openbadges.badge_class_image,
        name="openbadges_image",
    ),
    path(
        "openbadges/assertions/<int:award_id>.json",
        openbadges.assertion,
        name="openbadges_assertion",
    ),
]
