"""Demo of omni-channel fusion (idempotent): channel prices, a gift campaign, and one person
ordering the same sofa on Douyin and, three minutes later, in the WeChat mini-program: the
second gift is refused and the two orders ship as one merged fulfilment (one routing decision,
one shipment), whose admin page is printed."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.utils import timezone

from channels import signing
from channels.models import ChannelPrice, ChannelPriceList, Promotion
from channels.services import channel_order_ingest, channel_price_list_set
from oms.demo import refuse_demo_data_in_production
from oms.links import public_base_url
from oms.models import Merchant, Order, Product, SalesChannel, ShipmentStatus

DEMO = Path(__file__).resolve().parents[2] / "demo"
PRICES = {
    "douyin": "6299.00",
    "wechat-mini": "5999.00",
    "store-pos": "5799.00",
}  # one sofa, three prices
CHINA = ZoneInfo("Asia/Shanghai")
MINUTES_APART = 3
# The demo buyer's flat: the live orders of seed_demo deliver to another flat of the building, so
# only the two demo orders ship together.
DEMO_FLAT = "世纪大道100号3号楼1801室"


class Command(BaseCommand):
    help = (
        "Channel prices, a once-per-person gift campaign and two signed channel orders of one "
        "person, merged into one shipment."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            help="address of the links printed (default: OMS_PUBLIC_BASE_URL, else "
            "http://127.0.0.1:8000)",
        )

    def handle(self, *args, **options):
        refuse_demo_data_in_production()
        merchant = Merchant.objects.filter(code="homeliving").first()
        if merchant is None:
            self.stderr.write("run seed_demo first")
            return
        sofa = Product.objects.get(merchant=merchant, sku="HOM-0001")
        cushion = Product.objects.get(merchant=merchant, sku="HOM-0005")
        for code, price in PRICES.items():
            channel = SalesChannel.objects.get(merchant=merchant, code=code)
            price_list, _ = ChannelPriceList.objects.get_or_create(
                merchant=merchant, name=f"{channel.name} prices"
            )
            ChannelPrice.objects.get_or_create(
                price_list=price_list, product=sofa, defaults={"price": Decimal(price)}
            )
            channel_price_list_set(channel=channel, price_list=price_list)
        now = timezone.now()
        Promotion.objects.get_or_create(
            merchant=merchant,
            campaign_code="d11-pillow",
            defaults=dict(
                name="Free cushion with a sofa, once per person",
                kind="gift",
                gift_product=cushion,
                threshold_amount=Decimal("1000"),
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=30),
            ),
        )
        first_at = now - timedelta(minutes=MINUTES_APART)
        demo_orders = []
        for code, sample, external_path in (
            ("douyin", "douyin.json", ("data", "shop_order_id")),
            ("wechat-mini", "wechat_mini.json", ("out_trade_no",)),
        ):
            channel = SalesChannel.objects.get(merchant=merchant, code=code)
            payload = json.loads((DEMO / sample).read_text(encoding="utf-8"))
            # Placed now (Douyin three minutes earlier), so the gift campaign applies.
            if code == "douyin":
                payload["data"]["create_time"] = int(first_at.timestamp())
                payload["data"]["pay_time"] = int(first_at.timestamp()) + 12
                payload["data"]["post_addr"]["detail"] = DEMO_FLAT
            else:
                payload["time_end"] = now.astimezone(CHINA).strftime("%Y%m%d%H%M%S")
                payload["address"]["detailInfo"] = DEMO_FLAT
            node = payload
            for part in external_path[:-1]:
                node = node[part]
            external_id = f"DEMO-{code}-1"
            node[external_path[-1]] = external_id
            existing = Order.objects.filter(
                merchant=merchant, channel=channel, external_id=external_id
            ).first()
            if existing is not None:
                demo_orders.append(existing)
                continue
            body = json.dumps(payload, ensure_ascii=False).encode()
            stamp = str(int(time.time()))
            result = channel_order_ingest(
                code=code,
                body=body,
                headers={
                    "X-Merchant": merchant.code,
                    signing.TIMESTAMP_HEADER: stamp,
                    signing.SIGNATURE_HEADER: signing.sign(channel.signing_secret, stamp, body),
                },
            )
            self.stdout.write(
                f"{code}: order #{result.order.pk} ingested ({', '.join(result.notes) or 'no notes'})"
            )
            if code == "douyin":
                # As if it had arrived three minutes before the mini-program order.
                Order.objects.filter(pk=result.order.pk).update(created_at=first_at)
            demo_orders.append(result.order)
        self._print_merged(demo_orders, (options["base_url"] or public_base_url()).rstrip("/"))

    def _print_merged(self, demo_orders: list[Order], base_url: str) -> None:
        ids = [order.pk for order in demo_orders]
        merged = (
            Order.objects.filter(pk__in=ids, consolidation__isnull=False)
            .select_related("consolidation")
            .first()
        )
        if merged is None:
            self.stdout.write(
                f"  Orders {', '.join(f'#{pk}' for pk in ids)} were not merged "
                "(routing has not run yet, or merging is off for this merchant)."
            )
            return
        consolidation = merged.consolidation
        assert consolidation is not None  # filtered on consolidation__isnull=False
        shipments = consolidation.shipments.exclude(status=ShipmentStatus.CANCELLED)
        origins = " + ".join(s.warehouse.code for s in shipments.select_related("warehouse"))
        orders = " + ".join(
            f"#{o.pk} ({o.channel.code})"
            for o in consolidation.consolidated_orders.select_related("channel").order_by("pk")
        )
        self.stdout.write(
            f"  Merged shipment (orders {orders}, {len(origins.split(' + '))} shipment{'s' if ' + ' in origins else ''} from {origins}): "
            f"{base_url}/admin/oms/consolidation/{consolidation.pk}/change/"
        )
