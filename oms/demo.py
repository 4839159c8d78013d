"""The guard every demo-data command calls first.

Demo data comes with a known admin password and fixed API keys (so the README's examples work).
Under production settings (``OMS_DEMO_DATA = False``) the commands refuse before writing a row.
"""

from django.conf import settings
from django.core.management.base import CommandError


def refuse_demo_data_in_production() -> None:
    """Raise ``CommandError`` unless the settings allow demo data (never in production)."""
    if not getattr(settings, "OMS_DEMO_DATA", False):
        raise CommandError(
            "Demo data is refused under these settings (OMS_DEMO_DATA is off): it creates a "
            "known admin password and fixed API keys. Use the development settings for a demo."
        )
