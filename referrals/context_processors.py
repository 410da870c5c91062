"""Template context for every page: whether to show the marketers' Dashboard link."""

from django.utils.functional import SimpleLazyObject

from . import access


def marketer(request) -> dict:
    """`is_marketer`, evaluated only if a template reads it (the nav, for logged-in users)."""

    def check() -> bool:
        known = getattr(request, "is_marketer", None)
        if known is None:
            user = getattr(request, "user", None)
            known = bool(user is not None and access.is_marketer(user))
        return known

    return {"is_marketer": SimpleLazyObject(check)}
