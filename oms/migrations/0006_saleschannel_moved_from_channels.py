"""``SalesChannel`` moves from ``channels`` into the core, keeping its table and every row.

Only Django's model state moves (``SeparateDatabaseAndState``): the table keeps its name
``channels_saleschannel``, so no row is copied and no foreign key is rebuilt. The content type is
renamed in place, so staff permissions and admin history stay attached to it.
"""

import django.db.models.deletion
from django.db import migrations, models

import oms.crypto
import oms.models


def _in_use(apps, content_type) -> bool:
    """Whether staff permissions or admin history point at this content type."""
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    held = Permission.objects.filter(content_type=content_type).filter(
        models.Q(group__isnull=False) | models.Q(user__isnull=False)
    )
    return held.exists() or LogEntry.objects.filter(content_type=content_type).exists()


def _move_content_type(apps, *, source: str, target: str) -> None:
    """Rename ``source.saleschannel`` to ``target.saleschannel``, keeping its id and rows.

    A ``target`` twin that permission bookkeeping created on the way (unused: no grant, no
    admin history) gives way to the original; a used twin is left alone.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    original = ContentType.objects.filter(app_label=source, model="saleschannel").first()
    if original is None:
        return
    twin = ContentType.objects.filter(app_label=target, model="saleschannel").first()
    if twin is not None:
        if _in_use(apps, twin):
            return
        twin.delete()
    original.app_label = target
    original.save(update_fields=["app_label"])


def content_type_to_oms(apps, schema_editor):
    _move_content_type(apps, source="channels", target="oms")


def content_type_to_channels(apps, schema_editor):
    _move_content_type(apps, source="oms", target="channels")


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0005_consolidation_permissions"),
        ("channels", "0010_channel_pricing"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SalesChannel",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("code", models.SlugField(max_length=40, verbose_name="code")),
                        ("name", models.CharField(max_length=120, verbose_name="name")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("douyin", "Douyin shop"),
                                    ("wechat_mini", "WeChat mini-program"),
                                    ("tmall", "Tmall"),
                                    ("store_pos", "Store POS"),
                                    ("b2b", "B2B wholesale"),
                                    ("group_buy", "Community group-buying"),
                                    ("api", "Direct API"),
                                ],
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        ("active", models.BooleanField(default=True, verbose_name="active")),
                        (
                            "signing_secret",
                            oms.crypto.EncryptedCharField(
                                default=oms.models.new_signing_secret,
                                editable=False,
                                max_length=128,
                                verbose_name="signing secret",
                            ),
                        ),
                        (
                            "previous_signing_secret",
                            oms.crypto.EncryptedCharField(
                                blank=True, editable=False, max_length=128
                            ),
                        ),
                        (
                            "previous_secret_valid_until",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "merchant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="channels",
                                to="oms.merchant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "sales channel",
                        "verbose_name_plural": "sales channels",
                        "db_table": "channels_saleschannel",
                        "ordering": ["merchant_id", "code"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("merchant", "code"), name="channel_code_unique_per_merchant"
                            )
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="order",
                    name="channel",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="oms.saleschannel",
                    ),
                ),
            ],
        ),
        migrations.RunPython(content_type_to_oms, content_type_to_channels),
    ]
