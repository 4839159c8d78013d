from django.db import migrations

from oms.permissions import grant_operations

PERMS = {
    "orchestration.serviceatom": ["view", "add", "change"],
    "orchestration.servicetemplate": ["view", "add", "change"],
    "orchestration.templatestep": ["view", "add", "change", "delete"],
    "orchestration.servicestep": ["view", "change"],
    "orchestration.ordertracking": ["view", "change"],
    "orchestration.slaalert": ["view", "change"],
    "orchestration.pickuppoint": ["view", "add", "change"],
    "orchestration.interventionrequest": ["view"],
    "orchestration.webhooksubscription": ["view", "change"],
    "orchestration.webhookdelivery": ["view", "change"],
    "orchestration.webhookevent": ["view"],
}


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, PERMS)


class Migration(migrations.Migration):
    dependencies = [("orchestration", "0001_initial"), ("oms", "0002_operations_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
