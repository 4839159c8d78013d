"""Import a carrier rate card from CSV: all rows or none (``routing.rate_cards``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from oms.models import Merchant
from routing.rate_cards import RateCardInvalid, RateCardPreview, rate_card_apply, rate_card_preview


class Command(BaseCommand):
    help = (
        "Import rate-card lines (carrier, service, origin_province, destination_province or "
        "zone, first_weight_kg, first_price, additional_per_kg, transit_hours, on_time_rate) "
        "for a merchant's carrier services. Nothing is written if any row is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row)")
        parser.add_argument("--merchant", required=True, help="merchant code")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and preview only, write nothing"
        )

    def handle(self, *args, file, merchant, dry_run, **options):
        try:
            owner = Merchant.objects.get(code=merchant)
        except Merchant.DoesNotExist as exc:
            raise CommandError(f"no merchant with code {merchant!r}") from exc
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        if dry_run:
            preview = rate_card_preview(merchant=owner, text=text)
            self._report(preview)
            if not preview.valid:
                raise CommandError(f"{len(preview.errors)} errors; nothing would be imported")
            self.stdout.write("dry run: nothing written")
            return
        try:
            preview = rate_card_apply(merchant=owner, text=text)
        except RateCardInvalid as exc:
            self._report(exc.preview)
            raise CommandError(f"{len(exc.preview.errors)} errors; nothing imported") from exc
        self._report(preview)

    def _report(self, preview: RateCardPreview) -> None:
        for error in preview.errors:
            where = f"line {error.line}" if error.line else "file"
            self.stderr.write(f"{where}: {error.field}: {error.message}")
        counts = preview.counts or {}
        self.stdout.write(
            f"{len(preview.rows)} valid rows: {counts.get('add', 0)} new, "
            f"{counts.get('change', 0)} changed, {counts.get('same', 0)} unchanged; "
            f"{len(preview.errors)} errors"
        )
