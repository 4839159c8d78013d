"""Stored phone masks take the one display form of ``customers.matching.mask_phone``.

Numbers of China lose the "+86 " (matching core) or "+86" (channels' fallback) prefix:
"+86 138****5678" and "+86138****5678" become "138****5678"; the hidden digits were never
stored, so only the prefix changes. Masks of other countries keep their code. One UPDATE per
form and table, no rows loaded.
"""

from django.db import migrations
from django.db.models.functions import Substr


def masks_in_one_form(apps, schema_editor):
    for name in ("Customer", "Identity"):
        rows = apps.get_model("customers", name).objects
        rows.filter(phone_masked__startswith="+86 ").update(phone_masked=Substr("phone_masked", 5))
        rows.filter(phone_masked__startswith="+86").update(phone_masked=Substr("phone_masked", 4))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_merchant_lookups_through_composite_indexes"),
    ]

    operations = [
        migrations.RunPython(masks_in_one_form, migrations.RunPython.noop, elidable=True),
    ]
