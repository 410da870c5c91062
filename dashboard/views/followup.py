"""A seed import's follow-up: resend to those who never opened, and everyone's status as CSV."""

from __future__ import annotations

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from referrals.models import ImportJob

from .. import followup
from ..guards import managed


def _job(campaign, job_id: int) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.defer("content", "report"),
        campaign=campaign,
        pk=job_id,
        status=ImportJob.Status.DONE,
    )


@require_POST
@managed
def resend(request, campaign, job_id: int):
    job = _job(campaign, job_id)
    sent = followup.resend_unopened(job)
    if sent:
        messages.success(
            request, f"Invite sent again to {sent:,} {'person' if sent == 1 else 'people'}."
        )
    else:
        messages.info(
            request,
            "Nobody to resend to now: everyone who never opened was e-mailed less than a day "
            "ago or three times already.",
        )
    return redirect("dashboard_import", campaign.slug, job.pk)


@managed
def people_csv(request, campaign, job_id: int):
    job = _job(campaign, job_id)
    response = StreamingHttpResponse(
        followup.people_csv(job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-people.csv"'
    return response
