"""django-allauth adapter: the invite gate for every kind of signup.

Custom forms are skipped by social-account signups, so the gate and the
redemption live here, where every signup passes.
"""

import hashlib
import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.core.cache import cache
from django.db import transaction

from referrals import errors, services, sightings
from referrals.models import Campaign
from referrals.session import SESSION_CODE_KEY, forget_code, remembered_code
from referrals.throttle import client_ip

__all__ = ["SESSION_CODE_KEY", "AccountAdapter", "pending_code"]

logger = logging.getLogger(__name__)

ACCOUNT_EXISTS_MAIL_EVERY = 24 * 3600  # seconds


def pending_code(request, form=None) -> str:
    """The invite code of this signup: the form's field, else the one remembered from /i/<code>/."""
    if form is not None and (code := getattr(form, "cleaned_data", {}).get("code")):
        return code
    return remembered_code(request)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        campaign = Campaign.default()
        if not campaign.code_required:
            return campaign.is_open
        # The form asks for the code itself; other flows need one remembered
        # from an invite link.
        if request.path.startswith("/accounts/signup"):
            return True
        return bool(pending_code(request))

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if not commit:
                return user
            code = pending_code(request, form)
            if code:
                services.redeem_invite(
                    code=code,
                    user=user,
                    signup_ip=client_ip(request) if request is not None else None,
                    opened_by=sightings.own_link_openers(request),
                )
            else:
                campaign = Campaign.default()
                if campaign.code_required:
                    raise errors.UnknownCode()
                services.join_without_code(campaign=campaign, user=user)
        forget_code(request)
        return user

    def send_account_already_exists_mail(self, email: str) -> None:
        # Someone signed up with this member's address: tell them once a day at
        # most, however often it is tried (allauth alone repeats every 3 min).
        key = "account-exists-mail:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()
        if cache.add(key, 1, timeout=ACCOUNT_EXISTS_MAIL_EVERY):
            super().send_account_already_exists_mail(email)

    def send_mail(self, template_prefix, email, context):
        # The account is already committed when allauth sends the confirmation:
        # an SMTP outage must not turn a whole signup into a 500. The person
        # can ask for the e-mail again from the "verify your e-mail" page or
        # by logging in.
        try:
            super().send_mail(template_prefix, email, context)
        except Exception:  # SMTP and network errors of every kind
            logger.exception("could not send %s to %s", template_prefix, email)

    def confirm_email(self, request, email_address):
        confirmed = super().confirm_email(request, email_address)
        for member in email_address.user.memberships.select_related("campaign"):
            services.check_activation(member=member)
        return confirmed
