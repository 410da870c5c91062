from django.utils import timezone

from . import services


class MemberVisitMiddleware:
    """Records, once a day per session, that a signed-in member came back (activation)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.endswith((".svg", ".png")) or request.path == "/healthz":
            # Badge images are hot-linked and must set no cookie: leave the session be.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            today = timezone.localdate().isoformat()
            if request.session.get("seen_on") != today:
                services.record_visit(user=user)
                request.session["seen_on"] = today
        return self.get_response(request)
