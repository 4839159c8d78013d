from django.db import migrations

from oms.permissions import grant_operations

PERMS = {
    "customers.customer": ["view", "change"],
    "customers.identity": ["view"],
    "customers.matchruleset": ["view", "add", "change"],
    "customers.reviewitem": ["view", "change"],
    "customers.customermerge": ["view", "change"],
}


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, PERMS)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_merged_into_customermerge_and_more"), ("oms", "0002_operations_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
