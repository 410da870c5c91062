"""Webhook endpoints under /api/v1/webhooks/: marketers' CRUD and delivery logs."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from referrals import access
from referrals.models import Campaign
from webhooks import services
from webhooks.models import SUBSCRIBABLE, Delivery, Endpoint
from webhooks.targets import UnsafeTarget, check_url

from .pagination import NewestFirstPagination
from .permissions import IsMarketer
from .serializers import MAX_ID, CampaignSlugField


class EndpointSerializer(serializers.ModelSerializer):
    campaign = CampaignSlugField(slug_field="slug", queryset=Campaign.objects.none())
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[(e.value, e.label) for e in SUBSCRIBABLE]),
        allow_empty=False,
    )
    secret = serializers.CharField(
        read_only=True,
        help_text="Verify X-Passalong-Signature: sha256=HMAC-SHA256(secret, raw body), in hex.",
    )

    class Meta:
        model = Endpoint
        fields = ["id", "campaign", "url", "events", "is_active", "description", "secret"]
        read_only_fields = ["id", "secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["campaign"].queryset = access.managed_campaigns(request.user)

    def validate_url(self, url: str) -> str:
        try:
            check_url(url)
        except UnsafeTarget as refused:
            raise serializers.ValidationError(str(refused)) from None
        return url

    def validate_events(self, events: list[str]) -> list[str]:
        return sorted(set(events))


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields


def _managed_endpoints(user):
    return Endpoint.objects.filter(campaign__in=access.managed_campaigns(user)).select_related(
        "campaign"
    )


def _managed_endpoint(user, endpoint_id: int) -> Endpoint:
    if endpoint_id > MAX_ID:
        raise NotFound()
    try:
        return _managed_endpoints(user).get(pk=endpoint_id)
    except Endpoint.DoesNotExist:
        raise NotFound("No such webhook endpoint.") from None


@extend_schema_view(
    get=extend_schema(summary="Webhook endpoints of the campaigns you run"),
    post=extend_schema(summary="Register a webhook endpoint (its secret is in the answer)"),
)
@extend_schema(tags=["webhooks"])
class EndpointList(generics.ListCreateAPIView):
    permission_classes = [IsMarketer]
    serializer_class = EndpointSerializer

    def get_queryset(self):
        return _managed_endpoints(self.request.user)

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)


@extend_schema(tags=["webhooks"])
class EndpointDetail(generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [IsMarketer]
    serializer_class = EndpointSerializer

    def get_object(self):
        return _managed_endpoint(self.request.user, self.kwargs["endpoint_id"])


@extend_schema(tags=["webhooks"], summary="An endpoint's deliveries, newest first")
class DeliveryList(generics.ListAPIView):
    permission_classes = [IsMarketer]
    serializer_class = DeliverySerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        endpoint = _managed_endpoint(self.request.user, self.kwargs["endpoint_id"])
        # The (endpoint, -id) index.
        return Delivery.objects.filter(endpoint=endpoint).select_related("event")


@extend_schema(
    tags=["webhooks"],
    summary="Send a test event ('ping') to this endpoint",
    request=None,
    responses={202: DeliverySerializer, 404: OpenApiResponse(description="No such endpoint")},
)
class EndpointPing(generics.GenericAPIView):
    permission_classes = [IsMarketer]
    serializer_class = DeliverySerializer

    def post(self, request, endpoint_id: int):
        endpoint = _managed_endpoint(request.user, endpoint_id)
        delivery = services.send_test_event(endpoint=endpoint)
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
