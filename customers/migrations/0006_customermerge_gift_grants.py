"""What a merge did to the gift ledger, so an unmerge can restore it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_identity_key_recent_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="customermerge",
            name="dropped_gift_grants",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="customermerge",
            name="moved_gift_grant_ids",
            field=models.JSONField(default=list),
        ),
    ]
