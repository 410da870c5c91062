from django.contrib import admin

from .models import Donation, Entry, Nomination, WaitlistSettings, Wave


@admin.register(WaitlistSettings)
class WaitlistSettingsAdmin(admin.ModelAdmin):
    list_display = ("campaign", "is_open", "places_per_referral", "max_boost", "daily_email_limit")
    readonly_fields = ("last_sequence",)


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("email", "campaign", "sequence", "rank", "confirmed_referrals", "admitted_at")
    list_filter = ("campaign",)
    search_fields = ("email",)
    raw_id_fields = ("referred_by",)
    readonly_fields = ("token", "ref_code", "sequence", "rank", "confirmed_referrals")
    show_full_result_count = False


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ("campaign", "created_at", "order", "source", "size", "admitted", "finished_at")
    list_filter = ("campaign",)
    readonly_fields = ("admitted",)


@admin.register(Donation)
class DonationAdmin(admin.ModelAdmin):
    list_display = ("member", "campaign", "seats", "seats_left", "created_at")
    raw_id_fields = ("member",)
    readonly_fields = ("seats", "seats_left")


@admin.register(Nomination)
class NominationAdmin(admin.ModelAdmin):
    list_display = ("member", "entry", "show_name", "created_at")
    raw_id_fields = ("member", "entry")
