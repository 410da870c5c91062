from django.contrib import admin, messages

from . import services
from .models import Award, BadgeSetting


@admin.register(BadgeSetting)
class BadgeSettingAdmin(admin.ModelAdmin):
    list_display = ("campaign", "slug", "name", "thresholds", "color", "enabled")
    list_filter = ("campaign",)


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ("member", "slug", "tier", "awarded_at", "hidden", "revoked_at")
    list_filter = ("slug",)
    search_fields = ("member__user__username",)
    raw_id_fields = ("member",)
    list_select_related = ("member__user",)
    readonly_fields = ("awarded_at", "updated_at")
    actions = ["revoke_selected"]
    show_full_result_count = False

    @admin.action(description="Revoke selected awards (e.g. fraud)")
    def revoke_selected(self, request, queryset):
        for award in queryset:
            services.revoke(award=award, reason=f"Revoked by {request.user.username}")
        messages.success(request, f"Revoked {queryset.count()} award(s).")
