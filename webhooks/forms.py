from django import forms
from django.core.exceptions import ValidationError

from .models import SUBSCRIBABLE, Endpoint
from .targets import UnsafeTarget, check_url


class EndpointForm(forms.ModelForm):
    """The admin's endpoint form: events as checkboxes, the URL checked against SSRF."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(e.value, e.label) for e in SUBSCRIBABLE], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Endpoint
        fields = ["campaign", "url", "events", "is_active", "description", "secret"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeTarget as refused:
            raise ValidationError(str(refused)) from None
        return url
