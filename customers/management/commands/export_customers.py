"""Write record_id, customer_id for every identity of a merchant (merges followed)."""

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer, Identity
from oms.models import Merchant


class Command(BaseCommand):
    help = "Export record_id, customer_id (the surviving customer after merges) to a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--merchant", required=True, help="merchant code")

    def handle(self, *args, out, merchant, **options):
        target = Merchant.objects.filter(code=merchant).first()
        if target is None:
            raise CommandError(f"no merchant {merchant!r}")
        merged_into = dict(
            Customer.objects.filter(merchant=target, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )

        def live(customer_id: int) -> int:
            seen = set()
            while customer_id in merged_into and customer_id not in seen:
                seen.add(customer_id)
                customer_id = merged_into[customer_id]
            return customer_id

        count = 0
        with Path(out).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["record_id", "customer_id"])
            for record_id, customer_id in (
                Identity.objects.filter(merchant=target)
                .order_by("pk")
                .values_list("record_id", "customer_id")
                .iterator(chunk_size=5000)
            ):
                writer.writerow([record_id, live(customer_id)])
                count += 1
        self.stderr.write(f"wrote {count} rows to {out}")
