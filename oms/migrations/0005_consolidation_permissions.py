from django.db import migrations

from oms.permissions import grant_operations

PERMS = {"oms.consolidation": ["view"]}


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, PERMS)


class Migration(migrations.Migration):
    dependencies = [("oms", "0004_consolidation"), ("oms", "0002_operations_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
