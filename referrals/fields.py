"""Model and form fields for text people write: cleaned by referrals.text wherever it is saved.

The model fields hand out the cleaning form field, so every ModelForm (the
dashboard's, the settings page, the admin) cleans without a line of its own,
and `full_clean` cleans too. Plain forms declare `PlainTextFormField`.
"""

from __future__ import annotations

from django import forms
from django.db import models

from .text import plain_text


class PlainTextFormField(forms.CharField):
    """A form CharField whose value loses control and format characters (bidi overrides)."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return plain_text(value, multiline=self.multiline) if value else value


class PlainCharField(models.CharField):
    """One line of people's text: a name, a title."""

    def to_python(self, value):
        value = super().to_python(value)
        return plain_text(value) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PlainTextFormField, **kwargs})


class PlainTextField(models.TextField):
    """People's text that may run over several lines: a note, a pitch."""

    def to_python(self, value):
        value = super().to_python(value)
        return plain_text(value, multiline=True) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PlainTextFormField, "multiline": True, **kwargs})
