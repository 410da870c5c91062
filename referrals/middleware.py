from django.utils import timezone

from config.celery import enqueue_on_commit

from . import services, sightings
from .networks import network_of
from .throttle import client_ip

# Paths other sites embed or machines poll: badge images (and Open Badges images),
# oEmbed answers, the health check. They never touch the session.
EMBEDDED_SUFFIXES = (".svg", ".png")
EMBEDDED_PATHS = ("/oembed/", "/healthz")


def is_embedded(path: str) -> bool:
    """Is `path` one that other sites embed (or machines poll), so it carries no session state?"""
    return path.endswith(EMBEDDED_SUFFIXES) or path in EMBEDDED_PATHS


class MemberVisitMiddleware:
    """Notes, once a day per session, that a signed-in member came back (for activation).

    The page view pays one conditional UPDATE at most; what follows from it
    (activation, the inviter's reward, notices, webhooks, badges) runs in a task.
    It also notes the session's network (one upsert, once a day per session
    and network) for the risk signals that compare invitees with their
    inviter's recent sessions (referrals.sightings).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_embedded(request.path):
            # Other sites embed these: they must set no cookie nor vary on one.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            today = timezone.localdate().isoformat()
            if request.session.get("seen_on") != today:
                if services.note_return(user=user):
                    enqueue_on_commit(
                        services.activate_returned_member,
                        user.pk,
                        what="activate_returned",
                        inline_if_down=True,
                    )
                request.session["seen_on"] = today
            network = network_of(client_ip(request)) or ""
            if request.session.get("seen_network") != f"{today} {network}":
                sightings.note_network(user=user, network=network)
                request.session["seen_network"] = f"{today} {network}"
        return self.get_response(request)
