"""django-allauth adapters: the invite gate for every kind of signup.

Custom forms are skipped by social-account signups, so the gate and the
redemption live here, where every signup passes: `AccountAdapter` for the
form, `SocialAccountAdapter` for a signup through a provider (GitHub), which
carries the code remembered from the invite link it started from.
"""

import hashlib
import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.core.cache import cache
from django.db import transaction
from django.http import Http404
from django.shortcuts import render

from referrals import errors, services, sightings
from referrals.models import Campaign
from referrals.session import SESSION_CODE_KEY, forget_code, remembered_code
from referrals.throttle import client_ip

__all__ = [
    "SESSION_CODE_KEY",
    "AccountAdapter",
    "SocialAccountAdapter",
    "default_campaign",
    "pending_code",
]

logger = logging.getLogger(__name__)

ACCOUNT_EXISTS_MAIL_EVERY = 24 * 3600  # seconds


def pending_code(request, form=None) -> str:
    """The invite code of this signup: the form's field, else the one remembered from /i/<code>/."""
    if form is not None and (code := getattr(form, "cleaned_data", {}).get("code")):
        return code
    return remembered_code(request)


def default_campaign(request) -> Campaign:
    """The default campaign, read once per request: the gate, the form and the join all ask."""
    if request is None:
        return Campaign.default()
    campaign = getattr(request, "_passalong_default_campaign", None)
    if campaign is None:
        campaign = request._passalong_default_campaign = Campaign.default()
    return campaign


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        campaign = default_campaign(request)
        if not campaign.code_required:
            return campaign.is_open
        # The form asks for the code itself; other flows need one remembered
        # from an invite link.
        if request.path.startswith("/accounts/signup"):
            return True
        return bool(pending_code(request))

    def get_client_ip(self, request) -> str:
        # allauth's own limits (20 signups a minute per address, logins...) count
        # the address our throttles and risk signals believe: behind the TLS
        # proxy (TRUSTED_PROXY_COUNT) it is the visitor's, not the proxy's, which
        # would otherwise hold the whole site to 20 signups a minute.
        return client_ip(request)

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if not commit:
                return user
            # The invite the form's code check read: the redemption claims it
            # without reading it again.
            join(request, user, pending_code(request, form), invite=getattr(form, "invite", None))
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


def join(request, user, code: str, invite=None) -> None:
    """Hang a just-saved `user` under the owner of `code`, or make a seed member if no
    code is needed; InviteRefused otherwise. Runs inside the signup's transaction.

    `invite`: what services.find_invite(code) returned for this request, if it ran."""
    if code:
        services.redeem_invite(
            code=code,
            user=user,
            signup_ip=client_ip(request) if request is not None else None,
            opened_by=sightings.own_link_openers(request),
            invite=invite,
        )
        return
    campaign = default_campaign(request)
    if campaign.code_required:
        raise errors.UnknownCode()
    services.join_without_code(campaign=campaign, user=user)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """A signup through GitHub passes the same gate, with the code from the invite link."""

    def get_app(self, request, provider, client_id=None):
        # The provider is installed but has no keys: its URLs are not there.
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404("This way of signing in is not set up.") from None

    def is_open_for_signup(self, request, sociallogin) -> bool:
        campaign = default_campaign(request)
        if not campaign.code_required:
            return campaign.is_open
        code = remembered_code(request)
        if not code:
            return False  # account/signup_closed.html says how to get in
        try:
            services.check_redeemable(services.find_invite(code))
        except errors.InviteRefused as refused:
            raise ImmediateHttpResponse(_refused(request, refused)) from None
        return True

    def save_user(self, request, sociallogin, form=None):
        try:
            with transaction.atomic():
                user = super().save_user(request, sociallogin, form=form)
                if form is None:
                    # With a form, allauth called AccountAdapter.save_user, which joined.
                    join(request, user, remembered_code(request))
        except errors.InviteRefused as refused:
            # The last use went to someone else since the gate looked: the
            # transaction rolled back, so no account and no social link exist.
            raise ImmediateHttpResponse(_refused(request, refused)) from None
        forget_code(request)
        if form is None:
            for member in user.memberships.select_related("campaign"):
                services.check_activation(member=member)  # a verified GitHub address
        return user


def _refused(request, refused: errors.InviteRefused):
    return render(request, "account/signup_closed.html", {"refusal": refused.message}, status=400)
