"""Identity and IdentityKey lose their merchant-only indexes: composite indexes lead with it.

With a merchant-only index, a merchant whose statistics are stale (new, or grown since the
last ANALYZE) got plans that read all its keys through it instead of the key index. Only the
indexes are dropped: altering the fields would also drop and re-validate the foreign keys.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = (
    ("customers_identity", "customers_identity_merchant_id_5cbf49f9"),
    ("customers_identitykey", "customers_identitykey_merchant_id_ea01a62c"),
)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_customermerge_gift_grants"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("merchant_id")',
                )
                for table, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name="merchant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="oms.merchant",
                    ),
                )
                for model in ("identity", "identitykey")
            ],
        ),
    ]
