"""A channel order's buyer phone mask takes the one display form of
``customers.matching.mask_phone``: "+86138****5678" becomes "138****5678" (the hidden digits
were never stored, so only the prefix changes). One UPDATE, no rows loaded.
"""

from django.db import migrations
from django.db.models.functions import Substr


def masks_in_one_form(apps, schema_editor):
    rows = apps.get_model("channels", "ChannelOrder").objects
    rows.filter(buyer_phone_masked__startswith="+86").update(
        buyer_phone_masked=Substr("buyer_phone_masked", 4)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0011_saleschannel_moved_to_oms"),
    ]

    operations = [
        migrations.RunPython(masks_in_one_form, migrations.RunPython.noop, elidable=True),
    ]
