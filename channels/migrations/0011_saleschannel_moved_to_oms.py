"""The channels app's foreign keys now point at ``oms.SalesChannel`` (the same table).

State only: the columns and constraints already reference ``channels_saleschannel``, which is
the moved model's table. A stale ``channels.saleschannel`` content type that another app's
permission migration may have created in between is dropped (its rows moved to ``oms``).
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_stale_content_type(apps, schema_editor):
    """Drop an unused ``channels.saleschannel`` twin (no grant, no admin history)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    if not ContentType.objects.filter(app_label="oms", model="saleschannel").exists():
        return
    for stale in ContentType.objects.filter(app_label="channels", model="saleschannel"):
        held = Permission.objects.filter(content_type=stale).filter(
            models.Q(group__isnull=False) | models.Q(user__isnull=False)
        )
        if not held.exists() and not LogEntry.objects.filter(content_type=stale).exists():
            stale.delete()


def _fk(**kwargs):
    return models.ForeignKey(to="oms.saleschannel", **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0010_channel_pricing"),
        ("oms", "0006_saleschannel_moved_from_channels"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="giftgrant",
                    name="channel",
                    field=_fk(on_delete=django.db.models.deletion.CASCADE, related_name="+"),
                ),
                migrations.AlterField(
                    model_name="promotion",
                    name="channel",
                    field=_fk(
                        blank=True,
                        help_text="Empty: every channel of the merchant.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="promotions",
                    ),
                ),
                migrations.AlterField(
                    model_name="giftrefusal",
                    name="channel",
                    field=_fk(on_delete=django.db.models.deletion.CASCADE, related_name="+"),
                ),
                migrations.AlterField(
                    model_name="channelorder",
                    name="channel",
                    field=_fk(on_delete=django.db.models.deletion.CASCADE, related_name="+"),
                ),
                migrations.AlterField(
                    model_name="channelinboxmessage",
                    name="channel",
                    field=_fk(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inbox",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalpromotion",
                    name="channel",
                    field=_fk(
                        blank=True,
                        db_constraint=False,
                        help_text="Empty: every channel of the merchant.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                    ),
                ),
                migrations.AlterField(
                    model_name="channelpricing",
                    name="channel",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pricing",
                        serialize=False,
                        to="oms.saleschannel",
                        verbose_name="sales channel",
                    ),
                ),
                migrations.DeleteModel(name="SalesChannel"),
            ],
        ),
        migrations.RunPython(drop_stale_content_type, migrations.RunPython.noop),
    ]
