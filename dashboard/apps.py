from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The marketer side: pages, figures, exports, imports and review over referrals' models."""

    name = "dashboard"
    default_auto_field = "django.db.models.BigAutoField"
