"""Who may call what: referrals.access decides, these adapt it to DRF."""

from rest_framework.permissions import BasePermission

from referrals import access


class IsMarketer(BasePermission):
    """Staff, superusers and the "marketers" group; which campaigns is up to the view."""

    message = "This part of the API is for campaign marketers."

    def has_permission(self, request, view) -> bool:
        return access.is_marketer(request.user)
