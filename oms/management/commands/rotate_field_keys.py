"""Re-encrypt every stored secret with the first key of ``OMS_FIELD_KEYS`` (see ``oms.crypto``).

Rotation: put the new key first in ``OMS_FIELD_KEYS`` and keep the old one after it, deploy,
run this command, then drop the old key. Rows written in clear before encryption are
encrypted too. Safe to run twice.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from oms.crypto import EncryptedCharField


class Command(BaseCommand):
    help = "Re-encrypt the stored secrets with the first key of OMS_FIELD_KEYS."

    def handle(self, *args, **options) -> None:
        for model in apps.get_models():
            fields = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)
            ]
            if not fields:
                continue
            with transaction.atomic():
                rows = list(model._default_manager.select_for_update().only("pk", *fields))
                model._default_manager.bulk_update(rows, fields, batch_size=500)
            self.stdout.write(
                f"{model._meta.label}: {len(rows)} row(s) re-encrypted ({', '.join(fields)})"
            )
