from django.db import migrations

from oms.permissions import grant_operations

# Operations staff see the holds promises place and may release one early (the admin's release
# action needs "change"; nothing else about a hold is edited).
PERMS = {"routing.promisehold": ["view", "change"]}


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, PERMS)


class Migration(migrations.Migration):
    dependencies = [("routing", "0012_promise_holds"), ("oms", "0002_operations_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
