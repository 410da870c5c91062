from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import leaks, moderation, tree
from .ids import parse_id
from .models import (
    Campaign,
    CreditDecision,
    DoNotInvite,
    Invite,
    InviteEvent,
    Member,
    ModerationAction,
    OutboundEmail,
    Redemption,
    Reward,
    RiskSignal,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_default", "is_open", "default_quota", "members_counted")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


def _member_link(member) -> str:
    url = reverse("admin:referrals_member_change", args=[member.pk])
    return format_html('<a href="{}">{}</a>', url, member)


def _moderation(name: str, service, description: str):
    """An admin action that runs one moderation service per selected member, with a reason.

    The first POST (from the change list) asks for the reason on an
    intermediate page; the second applies it. The log and the member's
    e-mail are the service's, as from the tree explorer.
    """

    def act(modeladmin, request, queryset):
        reason = request.POST.get("reason", "").strip()
        error = ""
        if "apply" in request.POST and reason:
            extra = {}
            if name == "reparent":
                found = Member.objects.filter(pk=parse_id(request.POST.get("new_inviter", "")) or 0)
                extra["new_inviter"] = found.first()
            if extra.get("new_inviter", True) is None:
                error = "No member has that id."
            else:
                try:
                    members = list(queryset.select_related("campaign", "user", "inviter__user"))
                    for member in members:
                        service(member=member, actor=request.user, reason=reason, **extra)
                except tree.CannotMove as refused:
                    error = str(refused)
                else:
                    modeladmin.message_user(
                        request, f"{description}: {len(members)} member(s).", messages.SUCCESS
                    )
                    return None
        return TemplateResponse(
            request,
            "admin/referrals/member/moderate.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "action": name,
                "members": queryset[:100],
                "count": queryset.count(),
                "ids": queryset.values_list("pk", flat=True),
                "opts": modeladmin.model._meta,
                "missing_reason": "apply" in request.POST and not reason,
                "error": error,
                "asks_inviter": name == "reparent",
            },
        )

    act.__name__ = name
    return admin.action(description=description)(act)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    actions = [
        _moderation("revoke_inviting", moderation.revoke_inviting, "Revoke the right to invite"),
        _moderation("restore_inviting", moderation.restore_inviting, "Restore the right to invite"),
        _moderation(
            "freeze_subtree", moderation.freeze_subtree, "Freeze the subtrees' open invites"
        ),
        _moderation(
            "unfreeze_subtree", moderation.unfreeze_subtree, "Unfreeze the subtrees' invites"
        ),
        _moderation("flag_subtree", moderation.flag_subtree, "Flag the subtrees for review"),
        _moderation("reparent", moderation.reparent, "Move under another inviter"),
        _moderation("ban", moderation.ban, "Ban (sessions end, unused codes die)"),
    ]

    list_display = (
        "__str__",
        "campaign",
        "inviter",
        "depth",
        "join_number",
        "invites_left",
        "invitee_count",
        "downline_size",
        "activated_at",
    )
    # No filter on depth: its DISTINCT would scan a million-member table.
    list_filter = ("campaign",)
    search_fields = ("user__username", "user__email", "user__display_name", "=id")
    list_select_related = ("user", "campaign", "inviter__user")
    ordering = ("-id",)
    raw_id_fields = ("user",)
    # The tree's shape changes only through "Move under another inviter" (tree.move_subtree),
    # which keeps ancestry, depths and every counter right.
    readonly_fields = (
        "inviter",
        "depth",
        "place_in_tree",
        "ancestry",
        "join_number",
        "invitee_count",
        "downline_size",
        "tree_counted",
    )

    @admin.display(description="Place in the tree")
    def place_in_tree(self, member: Member) -> str:
        if not member.pk:
            return "-"
        path = [*tree.ancestors(member), member]
        invitees = tree.direct_invitees(member, limit=25)
        chain = format_html_join(" → ", "{}", ((_member_link(m),) for m in path))
        below = format_html_join(", ", "{}", ((_member_link(m),) for m in invitees)) or "none"
        more = member.invitee_count - len(invitees)
        return format_html(
            "<p><strong>From the root:</strong> {}</p><p><strong>Invited:</strong> {}{}</p>",
            chain,
            below,
            f" and {more:,} more" if more > 0 else "",
        )

    # Big campaigns: no COUNT(*) over the whole table for the paginator.
    show_full_result_count = False


class InviteEventInline(admin.TabularInline):
    model = InviteEvent
    extra = 0
    readonly_fields = ("kind", "at")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = (
        "display_code",
        "campaign",
        "owner",
        "uses",
        "max_uses",
        "expires_at",
        "revoked_at",
        "is_public",
        "frozen_at",
    )
    list_filter = ("campaign", "is_public", ("frozen_at", admin.EmptyFieldListFilter))
    search_fields = ("code", "recipient_email", "owner__user__username")
    readonly_fields = ("frozen_at", "unfrozen_at")
    actions = ["unfreeze_codes"]

    @admin.action(description="Unfreeze the selected codes (they take signups again)")
    def unfreeze_codes(self, request, queryset):
        now = timezone.now()
        done = sum(leaks.unfreeze(invite=invite, now=now) for invite in queryset)
        self.message_user(request, f"{done} code(s) unfrozen.")

    list_select_related = ("campaign", "owner__user")
    raw_id_fields = ("owner",)
    inlines = [InviteEventInline]
    show_full_result_count = False


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ("invite", "member", "redeemed_at", "signup_network", "risk_score", "credit")
    list_filter = ("credit",)
    readonly_fields = ("risk_score", "credit")
    search_fields = ("invite__code", "member__user__username")
    list_select_related = ("invite", "member__user")
    raw_id_fields = ("invite", "member")


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ("member", "activated_invitees", "invites_granted", "granted_at")
    raw_id_fields = ("member",)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("kind", "to_email", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to_email", "key")
    raw_id_fields = ("sender", "invite", "subject_member")
    readonly_fields = ("key", "attempts", "last_error", "locked_until", "sent_at")
    show_full_result_count = False


@admin.register(DoNotInvite)
class DoNotInviteAdmin(admin.ModelAdmin):
    list_display = ("email", "created_at")
    search_fields = ("email",)


class AppendOnlyAdmin(admin.ModelAdmin):
    """A log's admin: listed and read, never added to, edited or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModerationAction)
class ModerationActionAdmin(AppendOnlyAdmin):
    """The moderation log: read only, because it is append-only."""

    list_display = ("at", "campaign", "actor_name", "action", "target", "reason")
    list_filter = ("campaign", "action")
    search_fields = ("actor_name", "target__user__username", "reason")
    list_select_related = ("campaign", "target__user")
    show_full_result_count = False


class RiskSignalInline(admin.TabularInline):
    model = RiskSignal
    extra = 0
    can_delete = False
    readonly_fields = ("rule", "weight", "evidence")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditDecision)
class CreditDecisionAdmin(AppendOnlyAdmin):
    """Marketers' decisions on held credit: who, when, why. Read only."""

    list_display = ("at", "decision", "decided_by_name", "redemption", "reason")
    list_filter = ("decision",)
    search_fields = ("decided_by_name", "redemption__member__user__username", "reason")
    list_select_related = ("redemption__member__user", "redemption__invite")


RedemptionAdmin.inlines = [RiskSignalInline]  # each redemption's signals, with their evidence
