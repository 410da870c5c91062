"""The REST API's views: look up through referrals.access, call a service, serialize.

Marketers read the campaigns they run (404 for any other, no hint it
exists); members read and create only their own invites. Every list is
keyset-paged on an indexed column, so a page costs the same at any size.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views import defaults
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from dashboard import branches, stats
from referrals import access, emails, errors, services, tree
from referrals.models import Campaign, Invite, Member
from referrals.replica import reads_from_replica

from . import serializers as s
from .pagination import DepthPagination, NewestFirstPagination
from .permissions import IsMarketer

# The marketers' list reads (safe requests only) may be served by the read replica.
REPLICA_READS = method_decorator(reads_from_replica, name="dispatch")


class Refused(APIException):
    """A request we understood and will not carry out (no invites left, say): 409."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "refused"


def _member_of(campaign: Campaign, member_id: int) -> Member:
    if member_id > s.MAX_ID:
        raise NotFound("No such member in this campaign.")
    try:
        return Member.objects.select_related("user", "branch_figures").get(
            campaign=campaign, pk=member_id
        )
    except Member.DoesNotExist:
        raise NotFound("No such member in this campaign.") from None


class ManagedCampaignMixin:
    """Views under /campaigns/<slug>/: the campaign, if the caller runs it."""

    permission_classes = [IsMarketer]

    def get_campaign(self) -> Campaign:
        if not hasattr(self, "_campaign"):
            self._campaign = access.get_managed_campaign(self.request.user, self.kwargs["slug"])
        return self._campaign


# --- Campaigns ------------------------------------------------------------------


@REPLICA_READS
@extend_schema(tags=["campaigns"], summary="Campaigns you run")
class CampaignList(generics.ListAPIView):
    permission_classes = [IsMarketer]
    serializer_class = s.CampaignSerializer

    def get_queryset(self):
        return access.managed_campaigns(self.request.user).order_by("id")


@extend_schema(tags=["campaigns"], summary="One campaign you run")
class CampaignDetail(ManagedCampaignMixin, generics.RetrieveAPIView):
    serializer_class = s.CampaignSerializer

    def get_object(self):
        return self.get_campaign()


@REPLICA_READS
@extend_schema(
    tags=["campaigns"],
    summary="The campaign's figures, as the dashboard shows them",
    description="Members (the tree fold's live count) and the five largest downlines "
    "(an index) are live; every other figure is the dashboard's own, rebuilt by a worker "
    "about every minute (`refreshed_at`). A big campaign asked for the first time has no "
    "figures yet: they are null until the first refresh, which this request queues.",
    responses=s.CampaignStatsSerializer,
)
class CampaignStats(ManagedCampaignMixin, generics.GenericAPIView):
    serializer_class = s.CampaignStatsSerializer
    pagination_class = None

    def get(self, request, slug: str):
        campaign = self.get_campaign()
        # The same stored figures as /dashboard/<slug>/ (one source of truth).
        figures = stats.current(campaign)
        return Response(
            s.CampaignStatsSerializer(
                {
                    "campaign": campaign.slug,
                    "members": campaign.members_counted,
                    "figures": figures,
                    "top_by_downline": tree.top_members(campaign, limit=5),
                    "generations": (
                        branches.generation_rows(figures.generation_figures) if figures else []
                    ),
                    "branches": branches.listed_branches(campaign) if figures else [],
                }
            ).data
        )


# --- Members --------------------------------------------------------------------


@REPLICA_READS
@extend_schema(
    tags=["members"],
    summary="Members of a campaign, in joining order",
    parameters=[s.MemberFilterSerializer],
)
class MemberList(ManagedCampaignMixin, generics.ListAPIView):
    serializer_class = s.MemberSerializer

    def get_queryset(self):
        query = s.MemberFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        # Branch figures by primary key for the page's members (prefetched, not joined:
        # a join makes PostgreSQL merge along the whole branch-figures table).
        members = (
            Member.objects.of_campaign(self.get_campaign())
            .select_related("user")
            .prefetch_related("branch_figures")
        )
        if "inviter" in query.validated_data:
            # The (inviter, id) index: a range scan in paging order.
            members = members.filter(inviter_id=query.validated_data["inviter"])
        if "depth" in query.validated_data:
            members = members.filter(depth=query.validated_data["depth"])
        return members


@extend_schema(tags=["members"], summary="One member")
class MemberDetail(ManagedCampaignMixin, generics.RetrieveAPIView):
    serializer_class = s.MemberSerializer

    def get_object(self):
        return _member_of(self.get_campaign(), self.kwargs["member_id"])


@REPLICA_READS
@extend_schema(tags=["members"], summary="A member's ancestors, from the root down")
class MemberAncestors(ManagedCampaignMixin, generics.ListAPIView):
    serializer_class = s.MemberSerializer
    pagination_class = DepthPagination

    def get_queryset(self):
        member = _member_of(self.get_campaign(), self.kwargs["member_id"])
        # Primary-key lookups of the ids in the member's materialized path.
        return Member.objects.filter(
            pk__in=member.ancestor_ids(), campaign_id=member.campaign_id
        ).select_related("user", "branch_figures")


@REPLICA_READS
@extend_schema(tags=["members"], summary="A member's direct invitees, in joining order")
class MemberInvitees(ManagedCampaignMixin, generics.ListAPIView):
    serializer_class = s.MemberSerializer

    def get_queryset(self):
        member = _member_of(self.get_campaign(), self.kwargs["member_id"])
        return Member.objects.filter(inviter=member).select_related("user", "branch_figures")


@extend_schema(
    tags=["members"],
    summary="Report that a member became active (host product)",
    description="Idempotent: the first report answers 201 'activated', later ones 200 "
    "'already activated'. A member whose e-mail is not verified yet is never activated: "
    "the report is recorded (202 'pending verification') and they activate the moment "
    "they verify. Rewards and badges follow the campaign's rules.",
    request=s.ActivationReportSerializer,
    responses={
        201: s.ActivationResultSerializer,
        200: s.ActivationResultSerializer,
        202: s.ActivationResultSerializer,
        400: OpenApiResponse(description="Neither or both of member_id and username"),
        404: OpenApiResponse(description="No such campaign or member"),
    },
)
class ActivationReport(ManagedCampaignMixin, generics.GenericAPIView):
    serializer_class = s.ActivationReportSerializer
    throttle_scope = "activations"

    def post(self, request, slug: str):
        campaign = self.get_campaign()
        report = s.ActivationReportSerializer(data=request.data)
        report.is_valid(raise_exception=True)
        if "member_id" in report.validated_data:
            member = _member_of(campaign, report.validated_data["member_id"])
        else:
            member = get_object_or_404(
                Member.objects.select_related("user", "branch_figures"),
                campaign=campaign,
                user__username=report.validated_data["username"],
            )
        member.campaign = campaign
        outcome = services.report_activation(member=member)
        codes = {
            services.ActivationReport.ACTIVATED: status.HTTP_201_CREATED,
            services.ActivationReport.ALREADY: status.HTTP_200_OK,
            # Recorded: they activate (and count) once their e-mail is verified.
            services.ActivationReport.PENDING: status.HTTP_202_ACCEPTED,
        }
        return Response(
            {"status": outcome, "member": s.MemberSerializer(member).data},
            status=codes[outcome],
        )


# --- Invites: a member's own ------------------------------------------------------


@extend_schema(tags=["invites"])
class InviteList(generics.ListCreateAPIView):
    """Your own invites, newest first; create one from your quota."""

    pagination_class = NewestFirstPagination

    def get_serializer_class(self):
        return s.InviteCreateSerializer if self.request.method == "POST" else s.InviteSerializer

    def get_throttles(self):
        # Creating spends scarce invites: its own, tighter rate.
        self.throttle_scope = "invites" if self.request.method == "POST" else None
        return super().get_throttles()

    def get_queryset(self):
        invites = Invite.objects.filter(owner__user=self.request.user).select_related("campaign")
        campaign = self.request.query_params.get("campaign")
        if campaign:
            if not s.is_slug(campaign):
                raise ValidationError({"campaign": ["Not a campaign slug."]})
            invites = invites.filter(campaign__slug=campaign)
        return invites

    @extend_schema(
        summary="Your invites, newest first",
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.STR, description="Only this campaign's")
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create an invite from your quota",
        request=s.InviteCreateSerializer,
        responses={
            201: s.InviteSerializer,
            400: OpenApiResponse(description="Bad input, or which campaign is unclear"),
            403: OpenApiResponse(description="Not a member of any campaign"),
            409: OpenApiResponse(s.ErrorSerializer, description="No invites left, or refused"),
        },
    )
    def post(self, request, *args, **kwargs):
        form = s.InviteCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        member = self._membership(form.validated_data.get("campaign"))
        note = form.validated_data.get("note", "")
        try:
            if form.validated_data.get("recipient_email"):
                invite = emails.invite_by_email(
                    member=member, address=form.validated_data["recipient_email"], note=note
                )
            else:
                invite = services.create_invite(member=member, note=note)
        except errors.NoInvitesLeft as refused:
            raise Refused(refused.message, code="no_invites_left") from None
        except emails.EmailRefused as refused:
            raise Refused(refused.message, code="email_refused") from None
        invite.campaign = member.campaign
        return Response(s.InviteSerializer(invite).data, status=status.HTTP_201_CREATED)

    def _membership(self, slug: str | None) -> Member:
        memberships = Member.objects.filter(user=self.request.user).select_related("campaign")
        if slug:
            memberships = memberships.filter(campaign__slug=slug)
        found = list(memberships[:2])
        if not found:
            if slug:
                raise NotFound("You are not a member of that campaign.")
            raise PermissionDenied("You are not a member of any campaign yet.")
        if len(found) > 1:
            raise ValidationError({"campaign": ["You are in several campaigns: say which one."]})
        return found[0]


@extend_schema(tags=["invites"], summary="One of your invites")
class InviteDetail(generics.RetrieveAPIView):
    serializer_class = s.InviteSerializer

    def get_object(self):
        invite_id = self.kwargs["invite_id"]
        if invite_id > s.MAX_ID:
            raise NotFound()
        return get_object_or_404(
            Invite.objects.select_related("campaign"), pk=invite_id, owner__user=self.request.user
        )


def bad_request(request, exception=None):
    """The site's 400 handler: JSON under /api/ (a body over the upload limit), else the page."""
    if request.path.startswith("/api/"):
        detail = "Request body too large." if isinstance(exception, RequestDataTooBig) else None
        return JsonResponse({"detail": detail or "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any /api/v1/ path that names no endpoint: a JSON 404 like every other API error."""
    return JsonResponse({"detail": "No such API endpoint."}, status=404)
