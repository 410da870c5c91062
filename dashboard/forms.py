"""Forms of the marketers' dashboard: campaign settings, badge settings, seeding, grants."""

from __future__ import annotations

import uuid

from django import forms

from badges import rules
from badges.models import BadgeSetting
from referrals import services
from referrals.fields import PlainTextFormField
from referrals.ids import parse_id
from referrals.models import Campaign, ModerationAction

from . import imports

RESERVED_SLUGS = {"new"}  # /dashboard/new/ creates a campaign


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "slug",
            "pitch",
            "is_open",
            "code_required",
            "default_quota",
            "uses_per_code",
            "code_expiry_days",
            "activation_rule",
            "reward_every",
            "reward_invites",
            "daily_email_limit",
        ]
        labels = {
            "is_open": "Open for signups",
            "code_required": "An invite code is required to join",
            "default_quota": "Invites per new member",
            "uses_per_code": "Uses per member invite",
            "code_expiry_days": "Member invites expire after (days)",
            "reward_every": "Reward every N activated invitees",
            "reward_invites": "Invites per reward",
            "daily_email_limit": "Invite e-mails per member per day",
        }
        help_texts = {"slug": "Part of the dashboard's address; cannot change later."}
        widgets = {"pitch": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Bookmarked dashboard URLs and API clients use the slug.
            self.fields["slug"].disabled = True
        for name in ("uses_per_code",):
            self.fields[name].min_value = 1
            self.fields[name].widget.attrs["min"] = 1

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_SLUGS and not self.instance.pk:
            raise forms.ValidationError("This name is reserved; pick another slug.")
        return slug

    def clean_uses_per_code(self):
        uses = self.cleaned_data["uses_per_code"]
        if uses < 1:
            raise forms.ValidationError("An invite must allow at least one use.")
        return uses


MAX_TIERS = 10
MAX_THRESHOLD = 10_000_000  # ten tiers of this still fit BadgeSetting.thresholds
THRESHOLD_HELP = {
    rules.EARLY_ADOPTER: "“First N” members by join number, comma-separated, e.g. 100, 1000.",
    rules.CONNECTOR: "Activated invitees needed for each tier, comma-separated, e.g. 1, 5, 25.",
    rules.TREE_BUILDER: "Members in their tree for each tier, comma-separated, e.g. 100, 1000.",
}


def parse_thresholds(text: str) -> tuple[int, ...]:
    """Comma-separated positive whole numbers as sorted, distinct tiers; ValidationError if not."""
    pieces = [piece.strip() for piece in text.split(",") if piece.strip()]
    for piece in pieces:
        # isascii: "²".isdigit() is true, but int() refuses it.
        if not (piece.isascii() and piece.isdigit()) or int(piece) < 1:
            raise forms.ValidationError(
                f"“{piece}” is not a whole number above zero. "
                "Enter the tiers as numbers separated by commas, e.g. 1, 5, 25."
            )
        if int(piece) > MAX_THRESHOLD:
            raise forms.ValidationError(f"A tier can be at most {MAX_THRESHOLD:,}.")
    tiers = tuple(sorted({int(piece) for piece in pieces}))
    if not tiers:
        raise forms.ValidationError("Enter at least one tier, e.g. 1, 5, 25.")
    if len(tiers) > MAX_TIERS:
        raise forms.ValidationError(f"A badge can have at most {MAX_TIERS} tiers.")
    return tiers


class BadgeForm(forms.Form):
    """One badge's name, tiers and on/off switch for a campaign (prefix: badge-<slug>)."""

    name = PlainTextFormField(max_length=60, required=False)
    thresholds = forms.CharField(max_length=200, label="Tiers")
    enabled = forms.BooleanField(required=False, label="Award this badge")

    def __init__(self, data=None, *, slug: str, setting=None):
        self.slug = slug
        self.default = rules.DEFAULTS[slug]
        self.setting = setting  # the campaign's BadgeSetting row, if it has one
        current = setting and setting.thresholds.strip()
        initial = {
            "name": (setting and setting.name) or self.default.name,
            "thresholds": current or ", ".join(map(str, self.default.thresholds)),
            "enabled": setting.enabled if setting else True,
        }
        super().__init__(data, prefix=f"badge-{slug}", initial=initial)
        self.fields["name"].widget.attrs["placeholder"] = self.default.name
        if self.default.thresholds:
            field = self.fields["thresholds"]
            field.help_text = THRESHOLD_HELP[slug]
            defaults = ", ".join(map(str, self.default.thresholds))
            field.error_messages["required"] = f"Enter at least one tier (defaults: {defaults})."
        else:
            del self.fields["thresholds"]  # an untiered badge: joined, or a seed member

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        return "" if name == self.default.name else name  # empty: the default name

    def clean_thresholds(self) -> str:
        tiers = parse_thresholds(self.cleaned_data["thresholds"])
        # Empty: the defaults, so a campaign left at them follows future defaults.
        return "" if tiers == self.default.thresholds else ",".join(map(str, tiers))

    def save(self, *, campaign: Campaign) -> None:
        """Create or update the campaign's row for this badge; none for a badge at its defaults."""
        values = {
            "name": self.cleaned_data["name"],
            "thresholds": self.cleaned_data.get("thresholds", ""),
            "enabled": self.cleaned_data["enabled"],
        }
        if self.setting is None and values == {"name": "", "thresholds": "", "enabled": True}:
            return
        BadgeSetting.objects.update_or_create(campaign=campaign, slug=self.slug, defaults=values)


class BadgeSettingsForm:
    """A campaign's BadgeForms, one per badge, validated and saved together.

    A badge's form is bound only when the request carries its section, so a
    POST without it (an older page, a script) leaves that badge alone instead
    of reading the missing checkbox as "switched off".
    """

    def __init__(self, data=None, *, campaign: Campaign | None = None):
        settings = {s.slug: s for s in campaign.badge_settings.all()} if campaign else {}
        self.forms = [
            BadgeForm(
                data if data is not None and f"badge-{slug}-name" in data else None,
                slug=slug,
                setting=settings.get(slug),
            )
            for slug in rules.ORDER
        ]

    def __iter__(self):
        return iter(self.forms)

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms if form.is_bound])

    def save(self, *, campaign: Campaign) -> None:
        """Save every badge the request set (call is_valid() first)."""
        for form in self.forms:
            if form.is_bound:
                form.save(campaign=campaign)


class ModerationForm(forms.Form):
    """One moderation action on a member, with the reason the member is told."""

    action = forms.ChoiceField(choices=ModerationAction.Action.choices)
    reason = PlainTextFormField(
        multiline=True,
        max_length=500,
        error_messages={"required": "Say why: the member is told, and the log keeps it."},
    )
    # For a move: the new inviter's join number, as the explorer shows it ("#42" or "42").
    new_inviter = forms.CharField(required=False, max_length=20)

    def clean_new_inviter(self) -> int | None:
        text = self.cleaned_data["new_inviter"].strip().lstrip("#").replace(",", "")
        if not text:
            return None
        if not text.isdigit() or len(text) > 10:
            raise forms.ValidationError("Give the new inviter's join number, like #42.")
        return int(text)

    def clean(self):
        data = super().clean()
        if data.get("action") == ModerationAction.Action.REPARENT and not data.get("new_inviter"):
            self.add_error("new_inviter", "Give the new inviter's join number, like #42.")
        return data


class CreditDecisionForm(forms.Form):
    """Approve or reject held redemptions (checked boxes on the review queue)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    redemptions = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    reason = PlainTextFormField(multiline=True, max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ids; the view keeps only this campaign's (a foreign id decides nothing).
        self.fields["redemptions"].valid_value = lambda value: str(value).isdigit()
        self.fields["redemptions"].error_messages["required"] = "Tick at least one signup."

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("reason"):
            raise forms.ValidationError("Say why you reject: the log keeps it.")
        return data


class SeedCodesForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=5000, initial=10, label="How many codes")
    uses = forms.IntegerField(min_value=1, max_value=1000, initial=1, label="Uses per code")
    expires_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        label="Expire after (days)",
        help_text="Empty: never.",
    )
    public = forms.BooleanField(
        required=False,
        label="Public codes",
        help_text="Meant to travel (a conference or newsletter code): never frozen when "
        "many strangers use them at once.",
    )


class SeedImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"Columns name and email, one invitee per row; up to {imports.MAX_ROWS:,} rows.",
    )
    note = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="A note in every invite e-mail",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {imports.MAX_BYTES // 1_000_000} MB."
            )
        return upload


class GrantForm(forms.Form):
    invites = forms.IntegerField(
        min_value=1, max_value=services.MAX_GRANT, initial=3, label="Extra invites each"
    )
    # A fresh id per rendered form: posting the same form twice grants once.
    submission = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member_ids: list[int] = []

    def clean(self):
        cleaned = super().clean()
        raw = self.data.getlist("member") if hasattr(self.data, "getlist") else []
        self.member_ids = sorted({pk for pk in map(parse_id, raw) if pk is not None})
        if not self.member_ids:
            raise forms.ValidationError("Tick at least one member to grant invites to.")
        if len(self.member_ids) > 1000:
            raise forms.ValidationError("Grant to at most 1,000 members at a time.")
        return cleaned
