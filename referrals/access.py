"""Who may run which campaign: the marketers' side of the site.

The dashboard and the marketer parts of the API are for superusers, staff
and members of the "marketers" group. Superusers run every campaign; anyone
else only the campaigns that list them in `Campaign.marketers`.
"""

from __future__ import annotations

from django.http import Http404

from .models import Campaign

MARKETERS_GROUP = "marketers"


def is_marketer(user) -> bool:
    """May this user open the dashboard at all?"""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.groups.filter(name=MARKETERS_GROUP).exists()


def managed_campaigns(user):
    """The campaigns this user may read and change; empty for non-marketers."""
    if not is_marketer(user):
        return Campaign.objects.none()
    return granted_campaigns(user)


def granted_campaigns(user):
    """The campaigns granted to this user (all, for superusers), whatever their role."""
    if user.is_superuser:
        return Campaign.objects.all()
    return Campaign.objects.filter(marketers=user)


def can_manage(user, campaign: Campaign) -> bool:
    return managed_campaigns(user).filter(pk=campaign.pk).exists()


def get_managed_campaign(user, slug: str) -> Campaign:
    """The campaign `slug` if this user runs it; 404 otherwise (no hint that it exists)."""
    try:
        return managed_campaigns(user).get(slug=slug)
    except Campaign.DoesNotExist:
        raise Http404("No such campaign") from None
