from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The operator's view: /metrics, request and task logs. No models; the apps never call us."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.conf import settings

        from referrals import events

        from . import logging, metrics, task_signals

        if settings.LOG_FORMAT == "json":
            logging.skip_caller_lookup()

        events.subscribe(events.MEMBER_JOINED, metrics.count_signup)
        events.subscribe(events.INVITE_REFUSED, metrics.count_refusal)
        events.subscribe(events.BADGE_SERVED, metrics.count_badge_served)
        task_signals.connect()
