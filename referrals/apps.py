from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # `make run` without a broker: the periodic jobs run in the dev server.
        from config import beat

        beat.start_if_serving_without_broker()
