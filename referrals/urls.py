from django.urls import path

from .views import invites, network, public

urlpatterns = [
    path("", public.home, name="home"),
    path("i/<str:code>/", public.invite_landing, name="invite_landing"),
    path("i/<str:code>/accept/", public.accept_invite, name="invite_accept"),
    path("no-invites/<str:token>/", public.dont_invite, name="dont_invite"),
    path("invites/", invites.invites, name="invites"),
    path("invites/new/", invites.create_link, name="invite_create"),
    path("invites/email/", invites.send_email, name="invite_email"),
    path("invites/<int:invite_id>/revoke/", invites.revoke, name="invite_revoke"),
    path("invites/<int:invite_id>/resend/", invites.resend, name="invite_resend"),
    path("invites/<int:invite_id>/qr.svg", invites.qr_code, name="invite_qr"),
    path("network/", network.network, name="network"),
]
