"""The figures count cycle times in whole milliseconds, not microseconds.

A campaign's (or a big branch's) total of cycle times in microseconds
overflows a bigint past about 3.5 million joins with month-long cycles;
in milliseconds it holds 3.5 billion. The totals are converted here, so the
dashboard's averages stay right, and every campaign's figures are marked
for a rebuild (`folded = False`): the next refresh (beat's, within a
minute; a worker's job for a big campaign) recomputes every member's
contribution in milliseconds and every total exactly. Rewriting each
member row here instead would hold every member's row lock for many minutes
on a big campaign (18 minutes were not enough at 11M members on a loaded
2-core machine), stalling the tree fold; the rebuild does it in its own
transaction.
"""

from django.db import migrations

TO_MILLISECONDS = [
    "UPDATE referrals_campaignstats SET cycle_total_ms = cycle_total_ms / 1000, folded = false",
    "UPDATE referrals_branchfigures SET cycle_total_ms = cycle_total_ms / 1000",
]


class Migration(migrations.Migration):
    dependencies = [("referrals", "0024_incremental_figures")]

    operations = [
        migrations.RenameField("member", "fig_cycle_us", "fig_cycle_ms"),
        migrations.RenameField("campaignstats", "cycle_total_us", "cycle_total_ms"),
        migrations.RenameField("branchfigures", "cycle_total_us", "cycle_total_ms"),
        migrations.RunSQL(TO_MILLISECONDS, migrations.RunSQL.noop, elidable=False),
    ]
