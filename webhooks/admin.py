from django.contrib import admin

from .forms import EndpointForm
from .models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "campaign", "events", "is_active", "created_at"]
    list_filter = ["is_active", "campaign"]
    search_fields = ["url", "description"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "campaign", "created_at"]
    list_filter = ["type"]
    search_fields = ["event_id", "key"]
    readonly_fields = ["event_id", "key", "campaign", "type", "data", "created_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "response_code",
        "attempts",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__event_id", "endpoint__url"]
    readonly_fields = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_code",
        "last_error",
        "locked_until",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    show_full_result_count = False  # no COUNT(*) over a big table per page

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type
