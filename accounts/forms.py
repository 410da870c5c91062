from allauth.account.forms import SignupForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.core.validators import MaxLengthValidator, URLValidator
from django.db import transaction

from referrals import errors, services
from referrals.models import Campaign

from .models import User

EMAIL_MAX_LENGTH = 254


class InviteSignupForm(SignupForm):
    """allauth's signup form with an invite-code field; saving is all or nothing."""

    code = forms.CharField(
        label="Invite code",
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text="Spaces, dashes and upper or lower case don't matter.",
    )

    field_order = ["code", "email", "username", "password1", "password2"]

    def __init__(
        self, *args, remembered_code: str = "", campaign: Campaign | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.code_was_unknown = False
        self.probed_existing_address = False
        self.remembered_code = remembered_code
        self.invite = None  # the invite the code names, once clean_code found it
        self.code_required = (campaign or Campaign.default()).code_required
        # allauth's e-mail field has no length limit; the column holds 254
        # (PostgreSQL enforces it, so a longer address would be a 500).
        email = self.fields["email"]
        email.max_length = EMAIL_MAX_LENGTH
        email.validators.append(MaxLengthValidator(EMAIL_MAX_LENGTH))
        email.widget.attrs["maxlength"] = str(EMAIL_MAX_LENGTH)

    def clean_code(self) -> str:
        # An empty field falls back to the code remembered from /i/<code>/.
        typed = self.cleaned_data.get("code", "").strip() or self.remembered_code
        if not typed:
            if self.code_required:
                raise forms.ValidationError("You need an invite code to join.")
            return ""
        try:
            invite = services.find_invite(typed)
            services.check_redeemable(invite)
        except errors.InviteRefused as refused:
            self.code_was_unknown = isinstance(refused, errors.UnknownCode)
            raise forms.ValidationError(refused.message, code=refused.reason) from None
        self.invite = invite
        return invite.code

    def try_save(self, request):
        if self.account_already_exists:
            # allauth answers as for a new account and creates nothing; do the
            # one costly thing a real signup does, so timing does not tell.
            make_password(self.cleaned_data.get("password1") or "")
            self.probed_existing_address = True
        return super().try_save(request)

    def save(self, request):
        # allauth writes the user and its e-mail address without a transaction
        # of its own; with ours, a refused code leaves no half-made account.
        with transaction.atomic():
            return super().save(request)


class WebURLField(forms.URLField):
    """A link shown on the public profile: web pages only (no ftp:, no javascript:)."""

    default_validators = [URLValidator(schemes=["http", "https"])]


class ProfileForm(forms.ModelForm):
    blog_url = WebURLField(
        label="Blog or website",
        required=False,
        max_length=200,
        assume_scheme="https",
        error_messages={"invalid": "Enter a web address starting with https:// or http://."},
    )

    class Meta:
        model = User
        fields = [
            "display_name",
            "blog_url",
            "use_gravatar",
            "public_profile",
            "show_inviter",
            "email_on_join",
            "email_on_activation",
        ]
        labels = {
            "display_name": "Display name",
            "blog_url": "Blog or website",
            "use_gravatar": "Use my Gravatar as my picture",
            "public_profile": "Public profile page",
            "show_inviter": "Show who invited me on my profile",
            "email_on_join": "E-mail me when someone I invited joins",
            "email_on_activation": "E-mail me when someone I invited becomes active",
        }
        help_texts = {
            "display_name": "Shown to people you invite. Leave empty to use your username.",
            "use_gravatar": "Otherwise we show your initials.",
            "public_profile": "Anyone can see your join number and how many people you brought in.",
            "show_inviter": "Only if they have a public profile too; moderators always see it.",
            "email_on_join": "",
            "email_on_activation": "",
        }
