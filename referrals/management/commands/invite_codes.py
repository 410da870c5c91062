from django.core.management.base import BaseCommand, CommandError

from referrals.models import Campaign
from referrals.services import create_seed_codes

MAX_COUNT = 100_000
MAX_EXPIRES_DAYS = 36_500


class Command(BaseCommand):
    help = "Create seed invite codes for a campaign and print one per line."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug (default: the default campaign)")
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--uses", type=int, default=1, help="uses per code (default 1)")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="expire after DAYS days")
        parser.add_argument(
            "--public",
            action="store_true",
            help="codes meant to travel (a conference code): never frozen as leaked",
        )

    def handle(self, *args, campaign=None, count, uses, expires, public=False, **options):
        if count < 1 or uses < 1 or (expires is not None and expires < 1):
            raise CommandError("--count, --uses and --expires must be positive numbers")
        # Past these, timedelta overflows or one run tries to hold millions of rows.
        if count > MAX_COUNT or (expires is not None and expires > MAX_EXPIRES_DAYS):
            raise CommandError(
                f"--count is at most {MAX_COUNT:,} per run and --expires at most "
                f"{MAX_EXPIRES_DAYS:,} days"
            )
        try:
            target = Campaign.objects.get(slug=campaign) if campaign else Campaign.default()
        except Campaign.DoesNotExist:
            raise CommandError(f"no campaign with slug {campaign!r}") from None
        for invite in create_seed_codes(
            campaign=target, count=count, uses=uses, expires_days=expires, public=public
        ):
            self.stdout.write(invite.display_code)
