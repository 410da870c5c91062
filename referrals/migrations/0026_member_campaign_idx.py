"""A campaign's members in joining order: (campaign, id) replaces the campaign-only index
(the new index first, so lookups by campaign always have one)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0025_cycles_in_milliseconds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["campaign", "id"], name="member_campaign_idx"),
        ),
        migrations.AlterField(
            model_name="member",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="members",
                to="referrals.campaign",
            ),
        ),
    ]
