"""Blocking-key index with the identity id: the newest n identities per key, index-only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_operations_permissions"),
    ]

    operations = [
        # The new index first: (merchant, key) is its prefix, so lookups never lack an index.
        migrations.AddIndex(
            model_name="identitykey",
            index=models.Index(
                fields=["merchant", "key", "identity"], name="identity_key_recent_idx"
            ),
        ),
        migrations.RemoveIndex(
            model_name="identitykey",
            name="identity_key_lookup_idx",
        ),
    ]
