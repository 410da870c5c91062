"""Idempotent demo data: a small tree three generations deep, and two logins."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from referrals import services, tree
from referrals.models import Campaign, Member

PASSWORD = "passalong-demo"

# (username, display name, inviter username or None for a seed, activated?)
TREE = [
    ("ada", "Ada Lovelace", None, True),
    ("grace", "Grace Hopper", None, True),
    ("bea", "Bea Brown", "ada", True),
    ("cal", "Cal Chen", "ada", True),
    ("dev", "Dev Patel", "ada", True),
    ("eve", "Eve Evans", "bea", True),
    ("fay", "Fay Fischer", "bea", False),
    ("gus", "Gus Garcia", "eve", False),
    ("hal", "Hal Hughes", "grace", True),
    ("ivy", "Ivy Ito", "grace", False),
]


class Command(BaseCommand):
    help = "Load demo data (safe to run again) and print the demo logins."

    def handle(self, *args, **options):
        User = get_user_model()
        if not User.objects.filter(username="ada").exists():
            with transaction.atomic():
                self._build(User)
        # The demo marketer runs the default campaign on /dashboard/ (add() is idempotent).
        marketer = User.objects.filter(username="marketer").first()
        if marketer is not None:
            Campaign.default().marketers.add(marketer)
        # The fold numbers the new members; consumers (join badges) react to it.
        tree.fold_tree()
        self.stdout.write(
            "Demo data ready. Log in at /accounts/login/ with:\n"
            f"  member:    ada / {PASSWORD}   (early adopter with a tree three generations deep)\n"
            f"  marketer:  marketer / {PASSWORD}   (/dashboard/ and /admin/)\n"
        )

    def _build(self, User):
        campaign = Campaign.default()
        marketer, _ = User.objects.get_or_create(
            username="marketer",
            defaults={
                "email": "marketer@example.com",
                "is_staff": True,
                "is_superuser": True,
                "display_name": "Mara Marketer",
            },
        )
        marketer.set_password(PASSWORD)
        marketer.save()
        EmailAddress.objects.get_or_create(
            user=marketer, email=marketer.email, defaults={"verified": True, "primary": True}
        )
        members = {}
        for username, display_name, inviter, _ in TREE:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@example.com",
                password=PASSWORD,
                display_name=display_name,
            )
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            if inviter is None:
                code = services.create_seed_codes(campaign=campaign, count=1)[0].code
            else:
                code = services.create_invite(member=members[inviter], note="Come join us!").code
            members[username] = services.redeem_invite(code=code, user=user)
        for username, _, _, activated in TREE:
            if activated:
                members[username].refresh_from_db()
                services.activate_member(member=members[username])
        # An open invite so the demo member's page is not empty, and a few
        # invites in hand (an early-adopter bonus) to try sending some.
        services.create_invite(member=members["ada"], note="You'll like it here.")
        Member.objects.filter(pk=members["ada"].pk).update(invites_left=F("invites_left") + 4)
