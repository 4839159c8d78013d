from django.db import migrations

from oms.permissions import grant_operations

PERMS = {
    "oms.order": ["view", "change"],
    "oms.orderline": ["view"],
    "oms.orderevent": ["view"],
    "oms.shipment": ["view", "change"],
    "oms.reservation": ["view"],
    "oms.inventorybatch": ["view", "add", "change"],
    "oms.product": ["view", "add", "change"],
    "oms.warehouse": ["view", "add", "change"],
    "oms.merchant": ["view"],
}


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, PERMS)


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
