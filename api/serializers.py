"""What the API shows of campaigns, members and invites, and what it accepts."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard.branches import branch_of
from referrals.ids import MAX_ID
from referrals.models import Campaign, Invite, Member

# Larger numbers cannot be ids (bigint) or depths (int) in any of our databases.
MAX_DEPTH = 2**31 - 1
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


def is_slug(text: str) -> bool:
    """A campaign slug as the URLs spell it; anything else (a NUL byte, say) names no campaign."""
    return bool(SLUG.fullmatch(text))


class CampaignSlugField(serializers.SlugRelatedField):
    """A campaign by slug; a value no slug can be is "does not exist", never a query.

    PostgreSQL refuses a NUL byte in a query: without this check one is a 500.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str) or not is_slug(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:50])
        return super().to_internal_value(data)


class CampaignSerializer(serializers.ModelSerializer):
    members = serializers.IntegerField(
        source="members_counted", read_only=True, help_text="Members counted into the tree so far."
    )

    class Meta:
        model = Campaign
        fields = [
            "slug",
            "name",
            "pitch",
            "is_open",
            "code_required",
            "default_quota",
            "uses_per_code",
            "code_expiry_days",
            "activation_rule",
            "reward_every",
            "reward_invites",
            "members",
            "created_at",
        ]
        read_only_fields = fields


class MemberBranchSerializer(serializers.Serializer):
    """The member's branch (it and everyone below), as the dashboard's Branches table."""

    members = serializers.IntegerField()
    invites_sent = serializers.IntegerField()
    invites_redeemed = serializers.IntegerField()
    redemption_rate = serializers.FloatField(allow_null=True, help_text="null: none sent.")
    activated = serializers.IntegerField()
    activation_rate = serializers.FloatField(allow_null=True)
    k_factor = serializers.FloatField(allow_null=True, help_text="Redeemed invites per member.")
    avg_cycle_seconds = serializers.FloatField(allow_null=True)


class MemberSerializer(serializers.ModelSerializer):
    inviter_id = serializers.IntegerField(read_only=True, allow_null=True)
    display_name = serializers.CharField(source="name", read_only=True)
    username = serializers.SerializerMethodField()
    branch = serializers.SerializerMethodField()
    joined = serializers.DateTimeField(source="joined_at", read_only=True)
    activated = serializers.DateTimeField(
        source="activated_at", read_only=True, allow_null=True, help_text="Null: not active yet."
    )

    class Meta:
        model = Member
        fields = [
            "id",
            "inviter_id",
            "depth",
            "join_number",
            "joined",
            "activated",
            "invitee_count",
            "activated_invitee_count",
            "downline_size",
            "display_name",
            "username",
            "branch",
        ]
        read_only_fields = fields

    def get_username(self, member: Member) -> str | None:
        return member.user.username if member.user_id else None

    @extend_schema_field(MemberBranchSerializer)
    def get_branch(self, member: Member) -> dict:
        # Kept by the figures fold: the same numbers as the dashboard, read with the member.
        return branch_of(member)


class MemberFilterSerializer(serializers.Serializer):
    """The query string of the members list."""

    inviter = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this member's invitees."
    )
    depth = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_DEPTH, help_text="Only this generation."
    )


class TopConnectorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField(source="name")
    downline_size = serializers.IntegerField()
    invitee_count = serializers.IntegerField()
    activated_invitee_count = serializers.IntegerField()


def _stored(name: str) -> dict:
    """Field options for a CampaignStats figure: read from it, null until it is built."""
    return {"source": f"figures.{name}", "allow_null": True, "read_only": True}


class GenerationFiguresSerializer(serializers.Serializer):
    generation = serializers.IntegerField(help_text="Depth in the tree; 0: seed members.")
    members = serializers.IntegerField()
    invites_sent = serializers.IntegerField(help_text="Member invites this generation created.")
    invites_redeemed = serializers.IntegerField()
    redemption_rate = serializers.FloatField(allow_null=True, help_text="null: none sent.")
    activated = serializers.IntegerField()
    activation_rate = serializers.FloatField(allow_null=True)


class BranchFiguresSerializer(MemberBranchSerializer):
    """A listed branch: the member's branch figures, with why it is listed and whose it is."""

    kind = serializers.ChoiceField(
        choices=["seed", "connector"],
        help_text="seed: a seed member with one of the biggest downlines; connector: one of "
        "the members with most activated invitees.",
    )
    member_id = serializers.IntegerField(help_text="The branch's root (it and everyone below).")
    display_name = serializers.CharField(source="member.name")


class CampaignStatsSerializer(serializers.Serializer):
    """Live counters plus the dashboard's stored figures (CampaignStats), null until built."""

    campaign = serializers.SlugField()
    members = serializers.IntegerField(help_text="Members counted into the tree so far (live).")
    seed_members = serializers.IntegerField(**_stored("seed_members"))
    deepest_generation = serializers.IntegerField(
        **_stored("deepest_generation"), help_text="Largest depth (0: seeds only)."
    )
    activated_members = serializers.IntegerField(**_stored("activated_members"))
    invites_sent = serializers.IntegerField(**_stored("invites_sent"))
    invites_redeemed = serializers.IntegerField(**_stored("invites_redeemed"))
    redemption_rate = serializers.FloatField(**_stored("redemption_rate"))
    activation_rate = serializers.FloatField(**_stored("activation_rate"))
    k_factor = serializers.FloatField(
        **_stored("k_factor"), help_text="Viral coefficient, as on the dashboard."
    )
    avg_cycle_seconds = serializers.FloatField(
        **_stored("avg_cycle_seconds"), help_text="From an invite's creation to its redemption."
    )
    refreshed_at = serializers.DateTimeField(
        **_stored("refreshed_at"), help_text="When these figures were built."
    )
    top_by_downline = TopConnectorSerializer(many=True, help_text="Live, from an index.")
    generations = GenerationFiguresSerializer(
        many=True, read_only=True, help_text="Conversion by generation (stored figures)."
    )
    branches = BranchFiguresSerializer(
        many=True, read_only=True, help_text="Each listed branch's funnel (stored figures)."
    )


class ActivationReportSerializer(serializers.Serializer):
    """Name the member by id or by the username the host product knows."""

    member_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    username = serializers.CharField(required=False, max_length=150)

    def validate(self, attrs):
        if ("member_id" in attrs) == ("username" in attrs):
            raise serializers.ValidationError("Give exactly one of member_id and username.")
        return attrs


class ActivationResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["activated", "already activated", "pending verification"],
        help_text="pending verification: recorded; the member activates (and counts for "
        "their inviter) once their e-mail address is verified.",
    )
    member = MemberSerializer()


class InviteSerializer(serializers.ModelSerializer):
    campaign = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    code = serializers.CharField(source="display_code", read_only=True)
    link = serializers.CharField(source="absolute_link", read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invite
        fields = [
            "id",
            "campaign",
            "code",
            "link",
            "status",
            "max_uses",
            "uses",
            "recipient_email",
            "note",
            "created_at",
            "expires_at",
            "revoked_at",
        ]
        read_only_fields = fields


class InviteCreateSerializer(serializers.Serializer):
    campaign = serializers.SlugField(
        required=False, help_text="Needed only when you are a member of several campaigns."
    )
    recipient_email = serializers.EmailField(
        required=False, help_text="Given: the invite is e-mailed (daily limit applies)."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
