"""Fill Member.mailbox for members who joined before the signal existed (batches of 5,000)."""

from django.db import migrations

from referrals.addresses import mailbox_of

BATCH = 5000


def backfill(apps, schema_editor):
    Member = apps.get_model("referrals", "Member")
    last = 0
    while True:
        rows = list(
            Member.objects.filter(id__gt=last, user__isnull=False, mailbox="")
            .order_by("id")
            .values_list("id", "user__email")[:BATCH]
        )
        if not rows:
            return
        changed = [Member(id=pk, mailbox=mailbox_of(email)[:254]) for pk, email in rows if email]
        Member.objects.bulk_update(changed, ["mailbox"], batch_size=1000)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("referrals", "0017_risk_scored_credit")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
