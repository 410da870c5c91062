"""The marketers' pages' guards: every /dashboard/ view goes through one of these."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from referrals import access
from referrals.models import Campaign


def marketer_required(view):
    """Logged in (else to the login page) and a marketer (else 403)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not access.is_marketer(request.user):
            raise PermissionDenied("The dashboard is for the campaign's marketers.")
        request.is_marketer = True  # spares the nav's context processor a query
        return view(request, *args, **kwargs)

    return wrapper


def managed(view):
    """A marketer view of one campaign: `slug` becomes the campaign, or 404 if not theirs."""

    @marketer_required
    @functools.wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        # The role is checked already: only the grant is left to look up.
        try:
            campaign = access.granted_campaigns(request.user).get(slug=slug)
        except Campaign.DoesNotExist:
            raise Http404("No such campaign") from None
        return view(request, campaign, *args, **kwargs)

    return wrapper


def flash_errors(request, form) -> None:
    """Show a refused form's errors as messages (for forms posted from another page)."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
