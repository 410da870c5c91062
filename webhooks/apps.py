from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        # Webhooks react to what referrals and badges publish; they never call us.
        from referrals import events

        from . import services

        events.subscribe(events.MEMBER_JOINED, services.member_joined)
        events.subscribe(events.MEMBER_ACTIVATED, services.member_activated)
        events.subscribe(events.BADGE_AWARDED, services.badge_awarded)
