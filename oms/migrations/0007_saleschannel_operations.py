"""Operations staff keep viewing and editing sales channels, now a core model."""

from django.db import migrations

from oms.permissions import grant_operations


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, {"oms.saleschannel": ["view", "change"]})


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0006_saleschannel_moved_from_channels"),
        ("channels", "0011_saleschannel_moved_to_oms"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
