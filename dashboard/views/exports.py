"""/dashboard/<slug>/export/…: members, invites, the tree and the moderation log, streamed."""

from django.http import StreamingHttpResponse
from django.utils import timezone

from referrals.replica import reads_from_replica

from .. import exports
from ..guards import managed


def _download(chunks, *, campaign, name: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"{campaign.slug}-{name.replace('.', f'-{stamp}.')}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@reads_from_replica
@managed
def members_csv(request, campaign):
    return _download(
        exports.members_csv(campaign),
        campaign=campaign,
        name="members.csv",
        content_type="text/csv; charset=utf-8",
    )


@reads_from_replica
@managed
def invites_csv(request, campaign):
    return _download(
        exports.invites_csv(campaign),
        campaign=campaign,
        name="invites.csv",
        content_type="text/csv; charset=utf-8",
    )


@reads_from_replica
@managed
def tree_graphml(request, campaign):
    return _download(
        exports.tree_graphml(campaign),
        campaign=campaign,
        name="tree.graphml",
        content_type="application/graphml+xml; charset=utf-8",
    )


@reads_from_replica
@managed
def moderation_csv(request, campaign):
    return _download(
        exports.moderation_csv(campaign),
        campaign=campaign,
        name="moderation.csv",
        content_type="text/csv; charset=utf-8",
    )
