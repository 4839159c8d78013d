"""A channel's price list moves to its own row, so the sales channel can move into ``oms``.

The channel row belongs to the core now (every order points at it), and the core must not point
at a ``channels`` table; the link from a channel to its price list becomes ``ChannelPricing``.
Every existing link is copied before the column is dropped (and back on reverse).
"""

import django.db.models.deletion
from django.db import migrations, models


def copy_links_forward(apps, schema_editor):
    SalesChannel = apps.get_model("channels", "SalesChannel")
    ChannelPricing = apps.get_model("channels", "ChannelPricing")
    ChannelPricing.objects.bulk_create(
        ChannelPricing(channel_id=channel_id, price_list_id=price_list_id)
        for channel_id, price_list_id in SalesChannel.objects.filter(
            price_list__isnull=False
        ).values_list("pk", "price_list_id")
    )


def copy_links_back(apps, schema_editor):
    SalesChannel = apps.get_model("channels", "SalesChannel")
    ChannelPricing = apps.get_model("channels", "ChannelPricing")
    for channel_id, price_list_id in ChannelPricing.objects.values_list(
        "channel_id", "price_list_id"
    ):
        SalesChannel.objects.filter(pk=channel_id).update(price_list_id=price_list_id)


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0009_secrets_encrypted_at_rest"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChannelPricing",
            fields=[
                (
                    "channel",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pricing",
                        serialize=False,
                        to="channels.saleschannel",
                        verbose_name="sales channel",
                    ),
                ),
                (
                    "price_list",
                    models.ForeignKey(
                        help_text="Prices of this channel; SKUs not on it sell at the product's list price.",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to="channels.channelpricelist",
                        verbose_name="price list",
                    ),
                ),
            ],
            options={
                "verbose_name": "channel price list assignment",
                "verbose_name_plural": "channel price list assignments",
            },
        ),
        migrations.RunPython(copy_links_forward, copy_links_back),
        migrations.RemoveField(model_name="saleschannel", name="price_list"),
    ]
