from django.utils import timezone

from config.celery import enqueue_on_commit

from . import services


class MemberVisitMiddleware:
    """Notes, once a day per session, that a signed-in member came back (for activation).

    The page view pays one conditional UPDATE at most; what follows from it
    (activation, the inviter's reward, notices, webhooks, badges) runs in a task.
    """

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
                if services.note_return(user=user):
                    enqueue_on_commit(
                        services.activate_returned_member,
                        user.pk,
                        what="activate_returned",
                        inline_if_down=True,
                    )
                request.session["seen_on"] = today
        return self.get_response(request)
