"""Demo of omni-channel fusion (idempotent): channel prices, a gift campaign, and one person
ordering the same sofa on two channels, whose second gift is refused."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from channels import signing
from channels.models import ChannelPrice, ChannelPriceList, Promotion, SalesChannel
from channels.services import channel_order_ingest
from oms.models import Merchant, Order, Product

DEMO = Path(__file__).resolve().parents[2] / "demo"
PRICES = {
    "douyin": "6299.00",
    "wechat-mini": "5999.00",
    "store-pos": "5799.00",
}  # one sofa, three prices


class Command(BaseCommand):
    help = "Channel prices, a once-per-person gift campaign and two signed channel orders of one person."

    def handle(self, *args, **options):
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
            if channel.price_list_id != price_list.pk:
                channel.price_list = price_list
                channel.save(update_fields=["price_list"])
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
        for code, sample, external_path in (
            ("douyin", "douyin.json", ("data", "shop_order_id")),
            ("wechat-mini", "wechat_mini.json", ("out_trade_no",)),
        ):
            channel = SalesChannel.objects.get(merchant=merchant, code=code)
            payload = json.loads((DEMO / sample).read_text(encoding="utf-8"))
            node = payload
            for part in external_path[:-1]:
                node = node[part]
            external_id = f"DEMO-{code}-1"
            node[external_path[-1]] = external_id
            if Order.objects.filter(
                merchant=merchant, channel=channel, external_id=external_id
            ).exists():
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
