from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"
    default_auto_field = "django.db.models.BigAutoField"
