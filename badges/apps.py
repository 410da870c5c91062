from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Badges build on referrals and react to what it publishes; it never calls us.
        from referrals import events

        from . import tasks

        events.subscribe(events.MEMBER_ACTIVATED, tasks.when_member_activated)
        events.subscribe(events.CREDIT_RELEASED, tasks.when_member_activated)
        events.subscribe(events.MEMBERS_COUNTED, tasks.when_members_counted)
        events.subscribe(events.MEMBER_MOVED, tasks.when_member_moved)
