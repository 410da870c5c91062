from django.db import migrations


def create_default_campaign(apps, schema_editor):
    Campaign = apps.get_model("referrals", "Campaign")
    if not Campaign.objects.filter(is_default=True).exists():
        Campaign.objects.create(
            slug="default",
            name="Passalong beta",
            pitch="A small, invite-only community. Every member gets a few invites to pass along.",
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]
    operations = [migrations.RunPython(create_default_campaign, migrations.RunPython.noop)]
