"""Build group-buying pick waves now (what the periodic task does), per merchant."""

from django.core.management.base import BaseCommand, CommandError

from channels.groupbuy.services import groupbuy_wave_build
from oms.models import ChannelKind, Merchant, SalesChannel, Warehouse


class Command(BaseCommand):
    help = "Merge routed group-buy orders per pickup point into pick waves (one per warehouse)."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="merchant code (default: every merchant)")
        parser.add_argument("--warehouse", help="warehouse code (default: every warehouse)")

    def handle(self, *args, merchant=None, warehouse=None, **options):
        merchants = Merchant.objects.filter(
            pk__in=SalesChannel.objects.filter(kind=ChannelKind.GROUP_BUY, active=True).values(
                "merchant_id"
            )
        ).order_by("code")
        if merchant:
            merchants = merchants.filter(code=merchant)
            if not merchants:
                raise CommandError(f"No merchant {merchant!r} with a group-buy channel.")
        for each in merchants:
            site = None
            if warehouse:
                site = Warehouse.objects.filter(merchant=each, code=warehouse).first()
                if site is None:
                    raise CommandError(f"Merchant {each.code} has no warehouse {warehouse!r}.")
            result = groupbuy_wave_build(merchant=each, warehouse=site, actor="command")
            if not result.waves:
                self.stdout.write(f"{each.code}: no group-buy orders waiting")
            for wave in result.waves:
                self.stdout.write(
                    f"{each.code}: wave #{wave.pk} "
                    f"({wave.warehouse.code if wave.warehouse else 'no warehouse'}): "
                    f"{wave.order_count} orders, {wave.pickup_point_count} pickup points, "
                    f"{wave.sku_count} SKUs, {wave.unit_count} units in {wave.duration_ms:.0f} ms"
                )
            if result.split_skipped:
                self.stdout.write(
                    f"{each.code}: {result.split_skipped} orders split over warehouses "
                    "left to ship as parcels"
                )
