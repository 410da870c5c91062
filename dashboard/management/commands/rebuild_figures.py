"""Check the dashboard's kept figures against the tables, or rebuild them (the repair).

    python manage.py rebuild_figures [--campaign SLUG] [--check]

--check compares the kept figures (the fold's) with the same figures
computed afresh by aggregate scans and exits 1 if any differ, saying which;
without it every contribution is recomputed from the tables (the figures
fold then carries on from there).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from dashboard import stats
from referrals import figures, tree
from referrals.models import Campaign, CampaignStats


class Command(BaseCommand):
    help = "Rebuild the dashboard's figures from the tables, or --check them."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", metavar="SLUG", help="one campaign (default: all)")
        parser.add_argument("--check", action="store_true", help="compare, change nothing")

    def handle(self, *args, campaign=None, check=False, **options):
        campaigns = Campaign.objects.order_by("pk")
        if campaign:
            campaigns = campaigns.filter(slug=campaign)
            if not campaigns.exists():
                raise CommandError(f"No campaign {campaign!r}.")
        tree.fold_tree()  # new members and what changed, as a worker would
        drifted = []
        for each in campaigns:
            if check:
                differences = drift(each)
                for name, (kept, fresh) in differences.items():
                    self.stdout.write(f"{each.slug}: {name} kept {kept!r}, tables {fresh!r}")
                if differences:
                    drifted.append(each.slug)
                else:
                    self.stdout.write(f"{each.slug}: the kept figures match the tables")
                continue
            started = time.monotonic()
            figures.rebuild(each)
            self.stdout.write(f"{each.slug}: rebuilt in {time.monotonic() - started:.1f} s")
        if drifted:
            raise CommandError(f"Figures differ from the tables: {', '.join(drifted)}")


def drift(campaign: Campaign) -> dict[str, tuple]:
    """The figures whose kept value differs from the tables' (a rebuild needed first: none)."""
    if not CampaignStats.objects.filter(campaign=campaign, folded=True).exists():
        return {"figures": ("not built yet", "run without --check")}
    kept, fresh = stats.kept(campaign), stats.from_tables(campaign)
    differences = {}
    for name, value in kept.items():
        other = fresh[name]
        # The kept cycles are whole milliseconds, the tables' average is exact.
        close = name == "avg_cycle_seconds" and None not in (value, other)
        if close and abs(value - other) <= figures.CYCLE_TOLERANCE_SECONDS:
            continue
        if value != other:
            differences[name] = (value, other)
    return differences
