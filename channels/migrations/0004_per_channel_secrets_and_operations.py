"""Give every existing channel its own signing secret and let Operations staff work the inbox."""

import secrets

from django.db import migrations

from oms.permissions import grant_operations

PERMS = {
    "channels.channelinboxmessage": ["view", "change"],
    "channels.channelpricelist": ["view", "add", "change"],
    "channels.channelprice": ["view", "add", "change", "delete"],
    "channels.promotion": ["view", "add", "change"],
    "channels.giftgrant": ["view"],
    "channels.giftrefusal": ["view"],
    "channels.orderlinepricing": ["view"],
    "channels.channelorder": ["view"],
}


def forwards(apps, schema_editor):
    # AddField evaluated the callable default once, so existing rows share one secret: split it.
    SalesChannel = apps.get_model("channels", "SalesChannel")
    for channel in SalesChannel.objects.all():
        channel.signing_secret = f"chs_{secrets.token_urlsafe(32)}"
        channel.save(update_fields=["signing_secret"])
    grant_operations(apps, schema_editor, PERMS)


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0003_ingestion_prices_promotions_gifts"),
        ("oms", "0002_operations_group"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
