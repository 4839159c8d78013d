"""``manage.py channel_price_report MERCHANT [--at ISO]``: SKUs priced differently per channel."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channels.selectors import price_differences
from oms.models import Merchant


class Command(BaseCommand):
    help = "List SKUs whose effective price differs across the merchant's channels."

    def add_arguments(self, parser):
        parser.add_argument("merchant", help="merchant code")
        parser.add_argument("--at", help="ISO time (default: now)")

    def handle(self, *args, merchant: str, at: str | None = None, **options):
        row = Merchant.objects.filter(code=merchant).first()
        if row is None:
            raise CommandError(f"Unknown merchant {merchant!r}.")
        moment = parse_datetime(at) if at else timezone.now()
        if moment is None:
            raise CommandError("--at must be an ISO 8601 time.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        rows = price_differences(merchant=row, at=moment)
        for item in rows:
            prices = "  ".join(f"{code}={price}" for code, price in item["prices"].items())
            self.stdout.write(f"{item['sku']}\t{item['name']}\tlist={item['list_price']}\t{prices}")
        self.stdout.write(f"{len(rows)} SKU(s) priced differently across channels.")
