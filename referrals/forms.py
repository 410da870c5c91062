from django import forms


class InviteLinkForm(forms.Form):
    # A fresh id per page view: posting the same form twice makes one invite.
    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(
        label="Personal note (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why you thought of them"}),
    )


class InviteEmailForm(InviteLinkForm):
    # One address at a time, on purpose: invites are personal, not a mailing list.
    # 254: the longest address SMTP delivers, and the column's size (PostgreSQL enforces it).
    email = forms.EmailField(label="Their e-mail address", max_length=254)

    field_order = ["email", "note"]
