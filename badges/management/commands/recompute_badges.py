from django.core.management.base import BaseCommand, CommandError

from badges.services import refresh_many
from referrals.models import Campaign, Member


class Command(BaseCommand):
    help = "Recompute every member's badge awards for a campaign (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug (default: the default campaign)")
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, campaign=None, batch, **options):
        try:
            target = Campaign.objects.get(slug=campaign) if campaign else Campaign.default()
        except Campaign.DoesNotExist:
            raise CommandError(f"no campaign with slug {campaign!r}") from None
        ids = Member.objects.filter(campaign=target).order_by("id").values_list("id", flat=True)
        changed = last = 0
        while chunk := list(ids.filter(id__gt=last)[:batch]):
            changed += refresh_many(chunk)
            last = chunk[-1]
        self.stdout.write(f"{target.name}: {changed} award(s) given or raised.")
