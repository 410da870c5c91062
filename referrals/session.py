"""The invite code a visitor carries in their session from /i/<code>/ to signup.

Opening an invite link never spends a use; it only remembers the code here,
so the signup form (and allauth flows that skip our form) can find it.
"""

SESSION_CODE_KEY = "invite_code"


def remember_code(request, code: str) -> None:
    """Keep `code` for this visitor's signup."""
    request.session[SESSION_CODE_KEY] = code


def remembered_code(request) -> str:
    """The code remembered from an invite link, or ""."""
    return request.session.get(SESSION_CODE_KEY, "") if request is not None else ""


def forget_code(request) -> None:
    """Drop the remembered code (it has been used)."""
    if request is not None:
        request.session.pop(SESSION_CODE_KEY, None)
