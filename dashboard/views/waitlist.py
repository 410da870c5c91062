"""/dashboard/<slug>/waitlist/: who waits, and waves that let them in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from waitlist import admission
from waitlist.models import Entry, WaitlistSettings, Wave

from ..guards import flash_errors, managed

LISTED = 50


class WaveForm(forms.Form):
    size = forms.IntegerField(min_value=1, max_value=100_000, label="How many invites")
    order = forms.ChoiceField(choices=Wave.Order.choices, initial=Wave.Order.POSITION)
    source = forms.ChoiceField(choices=Wave.Source.choices, initial=Wave.Source.CAMPAIGN)
    per_day = forms.IntegerField(
        min_value=0, max_value=100_000, initial=0, required=False,
        label="At most this many a day (0: all now)",
    )  # fmt: skip
    picked = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["picked"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        data = super().clean()
        if data.get("order") == Wave.Order.PICKED and not data.get("picked"):
            raise forms.ValidationError("Tick the people to let in.")
        return data


@managed
def waitlist(request, campaign):
    query = request.GET.get("q", "").strip()[:100]
    waiting = Entry.objects.waiting().filter(campaign=campaign)
    listed = waiting.order_by("rank", "-boost", "sequence")
    if query:
        listed = listed.filter(email__icontains=query)
    return render(
        request,
        "dashboard/waitlist.html",
        {
            "campaign": campaign,
            "current": "waitlist",
            "rules": WaitlistSettings.of(campaign),
            "waiting": waiting.count(),
            "admitted": Entry.objects.filter(campaign=campaign, admitted_at__isnull=False).count(),
            "pool": admission.pool_seats(campaign),
            "listed": list(listed[:LISTED]),
            "query": query,
            "waves": campaign.waves.order_by("-created_at")[:10],
            "form": WaveForm(),
        },
    )


@require_POST
@managed
def release(request, campaign):
    form = WaveForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("dashboard_waitlist", campaign.slug)
    data = form.cleaned_data
    picked = data["picked"] if data["order"] == Wave.Order.PICKED else []
    wave = admission.start_wave(
        campaign=campaign,
        size=len(picked) if picked else data["size"],
        order=data["order"],
        source=data["source"],
        per_day=data.get("per_day") or 0,
        picked=picked,
        by=request.user,
    )
    messages.success(request, f"Wave of {wave.size:,} released; admitted people get their e-mail.")
    return redirect("dashboard_waitlist", campaign.slug)
