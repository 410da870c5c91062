from django import forms

from referrals.fields import PlainTextFormField


class AskForInviteForm(forms.Form):
    name = PlainTextFormField(label="Your name", max_length=80)
    email = forms.EmailField(label="Your e-mail address")
    message = PlainTextFormField(
        multiline=True,
        label="A line about you (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
