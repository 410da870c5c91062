from django import forms

from referrals.fields import PlainTextFormField


class RequestInviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Your e-mail address")
    note = PlainTextFormField(
        multiline=True, max_length=500, required=False, label="A note for the team (optional)"
    )
    blog_url = forms.URLField(
        max_length=300, required=False, assume_scheme="https", label="Your blog (optional)"
    )
    ref = forms.CharField(max_length=16, required=False, widget=forms.HiddenInput)
