"""A baseline for the badge benchmark: the same bytes, no lookup, no cache, no headers work."""

from django.http import HttpResponse

_BODY = None


def same_bytes(request):
    global _BODY
    if _BODY is None:
        from badges import render

        _BODY = render.badge_svg(label="Passalong beta", value="#1 · brought in 3").encode()
    return HttpResponse(_BODY, content_type="image/svg+xml")
