"""Initial load: resolve a CSV history of observations into golden customers."""

from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from customers.importing import identities_import
from customers.importing_csv import RowError, read_observations_csv
from oms.models import Merchant


class Command(BaseCommand):
    help = (
        "Resolve observations (CSV: record_id, channel, channel_account_id, device_id, phone, receiver_name, "
        "address, created_at; UTF-8) into customers. Bad rows are reported with their line and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--merchant", required=True, help="merchant code")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file, merchant, no_progress, **options):
        target = Merchant.objects.filter(code=merchant).first()
        if target is None:
            raise CommandError(f"no merchant {merchant!r}")
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        errors: list[RowError] = []

        def good_rows(handle):
            for item in read_observations_csv(handle):
                if isinstance(item, RowError):
                    errors.append(item)
                    self.stderr.write(f"line {item.line_number}: {item.message} (skipped)")
                elif item.created_at is not None and timezone.is_naive(item.created_at):
                    yield replace(
                        item, created_at=timezone.make_aware(item.created_at)
                    )  # local time
                else:
                    yield item

        with (
            path.open(encoding="utf-8-sig", newline="") as handle,
            tqdm(unit="rows", disable=no_progress, file=self.stderr) as bar,
        ):
            report = identities_import(
                merchant=target, observations=good_rows(handle), progress=bar.update
            )
        self.stdout.write(
            f"{report.read} rows resolved: {report.linked} linked, {report.new} new, {report.review} kept apart for "
            f"review; {report.customers_created} customers created, {report.merges} merges, "
            f"{report.skipped_existing} already imported; {len(errors)} bad rows skipped"
        )
