"""Delete rejected channel deliveries now (what the hourly task does)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from channels.services import inbox_purge_rejected


class Command(BaseCommand):
    help = "Delete unsigned or oversized channel deliveries older than the given number of days."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="age in days (default: OMS_INBOX_REJECTED_KEEP_DAYS)",
        )

    def handle(self, *args, days=None, **options):
        keep = settings.OMS_INBOX_REJECTED_KEEP_DAYS if days is None else days
        deleted = inbox_purge_rejected(older_than=timedelta(days=keep))
        self.stdout.write(f"{deleted} rejected deliveries older than {keep} days deleted.")
