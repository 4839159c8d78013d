"""Operations staff view merchants' webhook subscriptions but no longer change them.

A subscription's URL decides where a merchant's order events go; changing it is the merchant's
act (through its API) or a superuser's, not a routine operations edit.
"""

from django.db import migrations

from oms.permissions import OPERATIONS_GROUP


def revoke_change(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=OPERATIONS_GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="orchestration",
                codename="change_webhooksubscription",
            )
        )


def grant_change(apps, schema_editor):
    from oms.permissions import grant_operations

    grant_operations(apps, schema_editor, {"orchestration.webhooksubscription": ["change"]})


class Migration(migrations.Migration):
    dependencies = [
        ("orchestration", "0003_secrets_encrypted_at_rest"),
        ("oms", "0002_operations_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(revoke_change, grant_change)]
