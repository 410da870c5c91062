"""/dashboard/: the marketers' campaigns, their figures, seeding and grants.

Pages read the precomputed CampaignStats / DailyStat rows (dashboard.stats)
plus one index scan for the top connectors, so a 1,000,000-member campaign
costs the same handful of queries as a small one.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from itertools import islice

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from referrals import access, services
from referrals.models import DailyStat, ImportJob, InviteGrant, Member
from referrals.replica import reads_from_replica
from waitlist import services as waitlist_services

from .. import branches, exports, followup, imports, stats
from ..forms import (
    BadgeSettingsForm,
    CampaignForm,
    GrantForm,
    SeedCodesForm,
    SeedImportForm,
)
from ..guards import managed, marketer_required

TOP_CONNECTORS = 15
REPORT_ROWS_SHOWN = 500
PEOPLE_SHOWN = 200


@marketer_required
def home(request):
    campaigns = access.managed_campaigns(request.user).select_related("stats").order_by("name")
    return render(request, "dashboard/home.html", {"campaigns": campaigns})


def _forms_valid(form: CampaignForm, badges: BadgeSettingsForm) -> bool:
    # Both, always: every error shows at once.
    return all([form.is_valid(), badges.is_valid()])


@marketer_required
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    badges = BadgeSettingsForm(request.POST or None)
    if request.method == "POST" and _forms_valid(form, badges):
        with transaction.atomic():
            campaign = form.save()
            badges.save(campaign=campaign)
            campaign.marketers.add(request.user)
        messages.success(
            request, f"Campaign “{campaign.name}” created. Seed it with codes or invitees."
        )
        return redirect("dashboard_seed", campaign.slug)
    return render(
        request,
        "dashboard/campaign_form.html",
        {"form": form, "badges": badges, "campaign": None},
    )


@managed
def campaign_edit(request, campaign):
    form = CampaignForm(request.POST or None, instance=campaign)
    badges = BadgeSettingsForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and _forms_valid(form, badges):
        with transaction.atomic():
            form.save()
            badges.save(campaign=campaign)
        messages.success(request, "Campaign settings saved.")
        return redirect("dashboard_campaign", campaign.slug)
    return render(
        request,
        "dashboard/campaign_form.html",
        {"form": form, "badges": badges, "campaign": campaign, "current": "settings"},
    )


@reads_from_replica
@managed
def campaign(request, campaign):
    figures = stats.current(campaign)
    context = {"campaign": campaign, "stats": figures, "current": "overview"}
    if figures is not None:
        daily = list(DailyStat.objects.filter(campaign=campaign).order_by("day"))
        connectors = list(
            Member.objects.filter(campaign=campaign)
            .select_related("user")
            .order_by("-activated_invitee_count", "id")[:TOP_CONNECTORS]
        )
        charts = stats.chart_data(figures, daily)
        charts["connectors"] = connectors_chart(connectors)
        context |= {
            "headline": live_headline(campaign, figures),
            "charts": charts,
            "definitions": stats.DEFINITIONS,
            "connectors": connectors,
            "grant_form": GrantForm(),
            "generation_rows": branches.generation_rows(figures.generation_figures),
            "branch_rows": branch_rows(campaign, connectors),
            "branch_kinds": BRANCH_KINDS,
        }
    return render(request, "dashboard/campaign.html", context)


BRANCH_KINDS = [("seed", "Seed members' branches"), ("connector", "Top connectors' branches")]


def branch_rows(campaign, connectors) -> list[dict]:
    rows = branches.listed_branches(campaign, connectors)
    for row in rows:
        seconds = row["avg_cycle_seconds"]
        row["cycle"] = stats.format_duration(timedelta(seconds=seconds)) if seconds else ""
    return rows


def live_headline(campaign, figures) -> list[dict]:
    """The headline figures, with the two that move by the second read live: members (the
    fold's counter on the campaign row) and the waitlist (a count cached for 5 s)."""
    rows = stats.headline(figures)
    for row in rows:
        if row["key"] == "members":
            # Both are lower bounds of the truth: the last refresh's count, and the
            # fold's counter (which moves within seconds of a signup).
            row["value"] = f"{max(campaign.members_counted, figures.members):,}"
    waiting = waitlist_services.waiting_count(campaign)
    return [*rows, {"key": "waitlist", "label": "Waiting", "value": f"{waiting:,}"}]


@reads_from_replica
@managed
def live_json(request, campaign):
    """What an open dashboard polls: O(1) per request whatever the campaign's size (the
    guard's reads, the campaign and stats rows, one cached count)."""
    figures = stats.current(campaign)
    headline = live_headline(campaign, figures) if figures is not None else []
    response = JsonResponse(
        {
            "kpis": {row["key"]: row["value"] for row in headline},
            "refreshed_at": figures.refreshed_at.isoformat() if figures else None,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def connectors_chart(connectors: list[Member]) -> dict:
    """The top connectors chart: activated invitees (the ranking) beside downline sizes.

    Names go to the page through json_script and are drawn on a canvas, so a
    display name is never parsed as HTML.
    """
    return {
        "labels": [f"#{m.join_number} {m.name}" if m.join_number else m.name for m in connectors],
        "activated": [m.activated_invitee_count for m in connectors],
        "downline": [m.downline_size for m in connectors],
    }


@require_POST
@managed
def refresh(request, campaign):
    if stats.refresh_now_or_queue(campaign, rebuild=True) is not None:
        messages.success(request, "Figures refreshed.")
    else:
        messages.success(request, "Refresh queued: the figures update within a minute or two.")
    return redirect("dashboard_campaign", campaign.slug)


@require_POST
@managed
def grant(request, campaign):
    form = GrantForm(request.POST)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(reverse("dashboard_campaign", args=[campaign.slug]) + "#connectors")
    try:
        count = services.grant_invites(
            campaign=campaign,
            member_ids=form.member_ids,
            invites=form.cleaned_data["invites"],
            granted_by=request.user,
            submission=str(form.cleaned_data["submission"] or ""),
        )
    except services.AlreadyGranted:
        messages.info(request, "Those invites were granted already (the form was sent twice).")
        return redirect(reverse("dashboard_campaign", args=[campaign.slug]) + "#connectors")
    messages.success(
        request,
        f"Granted {form.cleaned_data['invites']} extra invites to {count} "
        f"member{'s' if count != 1 else ''}.",
    )
    return redirect(reverse("dashboard_campaign", args=[campaign.slug]) + "#connectors")


@managed
def seed(request, campaign):
    return render(request, "dashboard/seed.html", _seed_context(campaign))


def _seed_context(campaign, *, codes_form=None, import_form=None) -> dict:
    return {
        "campaign": campaign,
        "current": "seed",
        "codes_form": codes_form or SeedCodesForm(),
        "import_form": import_form or SeedImportForm(),
        "jobs": list(campaign.import_jobs.defer("content", "report").order_by("-created_at")[:10]),
        "grants": list(
            InviteGrant.objects.filter(campaign=campaign)
            .select_related("member__user", "granted_by")
            .order_by("-granted_at")[:10]
        ),
    }


@require_POST
@managed
def seed_codes(request, campaign):
    form = SeedCodesForm(request.POST)
    if not form.is_valid():
        return render(request, "dashboard/seed.html", _seed_context(campaign, codes_form=form))
    data = form.cleaned_data
    invites = services.create_seed_codes(
        campaign=campaign,
        count=data["count"],
        uses=data["uses"],
        expires_days=data["expires_days"],
        public=data["public"],
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-codes-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(["code", "link", "uses", "expires_at"])
    for invite in invites:
        writer.writerow(
            [
                invite.display_code,
                invite.absolute_link(),
                invite.max_uses,
                invite.expires_at.isoformat() if invite.expires_at else "",
            ]
        )
    return response


@require_POST
@managed
def import_upload(request, campaign):
    form = SeedImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.start(
                campaign=campaign,
                user=request.user,
                filename=upload.name,
                data=upload.read(),
                note=form.cleaned_data["note"],
            )
        except imports.ImportRefused as refused:
            form.add_error("file", f"{refused.message} Nothing was imported.")
        else:
            return redirect("dashboard_import", campaign.slug, job.pk)
    return render(
        request, "dashboard/seed.html", _seed_context(campaign, import_form=form), status=400
    )


@managed
def import_detail(request, campaign, job_id: int):
    job = get_object_or_404(ImportJob.objects.defer("content"), campaign=campaign, pk=job_id)
    context = {
        "campaign": campaign,
        "current": "seed",
        "job": job,
        "progress": imports.progress(job),
        "report": job.report[:REPORT_ROWS_SHOWN],
        "report_cut": len(job.report) > REPORT_ROWS_SHOWN,
    }
    if job.status == ImportJob.Status.DONE:
        stage = request.GET.get("stage", "")
        stage = stage if stage in followup.STAGES else ""
        shown = list(islice(followup.people(job, stage=stage), PEOPLE_SHOWN + 1))
        context |= {
            "summary": followup.summary(job),
            "stage": stage,
            "people": shown[:PEOPLE_SHOWN],
            "people_cut": len(shown) > PEOPLE_SHOWN,
        }
    return render(request, "dashboard/import.html", context)


@managed
def import_status(request, campaign, job_id: int):
    job = get_object_or_404(
        ImportJob.objects.defer("content", "report"), campaign=campaign, pk=job_id
    )
    return JsonResponse(imports.progress(job))


@managed
def import_report_csv(request, campaign, job_id: int):
    job = get_object_or_404(ImportJob.objects.defer("content"), campaign=campaign, pk=job_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
    writer = csv.writer(response)
    writer.writerow(["line", "name", "email", "reason"])
    for row in job.report:
        writer.writerow(
            [row["line"], _csv_safe(row["name"]), _csv_safe(row["email"]), row["reason"]]
        )
    return response


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ (or a tab or CR) is a formula in spreadsheets: keep it text.
    return exports.safe_cell(value)
