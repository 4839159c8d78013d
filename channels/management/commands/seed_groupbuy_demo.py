"""Demo of community group-buying (idempotent): signed orders of four pickup points, all three
order types, ingested through the channel, routed, and merged into a pick wave."""

import json
import random
import time

from django.core.management.base import BaseCommand
from django.db.models import F, Sum
from django.urls import reverse

from channels import signing
from channels.groupbuy.services import groupbuy_wave_build
from channels.models import PickWave
from channels.services import channel_order_ingest
from oms.demo import refuse_demo_data_in_production
from oms.links import public_base_url
from oms.models import (
    ChannelKind,
    InventoryBatch,
    Merchant,
    Order,
    SalesChannel,
    Warehouse,
)

MERCHANT = "freshfarm"
# id, name, district, address, leader id, leader name
POINTS = [
    ("PP-SH-101", "幸福里小区东门驿站", "闵行区", "莘庄镇幸福路88弄", "L-2001", "王阿姨"),
    ("PP-SH-102", "阳光花园便利店", "浦东新区", "张江镇碧波路690号", "L-2002", "李叔"),
    ("PP-SH-103", "枫林苑物业服务中心", "徐汇区", "枫林路300号", "L-2003", "陈姐"),
    ("PP-SH-104", "鲜农直供古北门店", "长宁区", "古北路1500号", "L-2004", "赵店长"),
]
MEMBERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷", "徐明"]
ORDERS_PER_POINT = 9
TYPES = ("leader_proxy", "member_direct", "member_direct", "store_pickup")


class Command(BaseCommand):
    help = "Group-buy orders of four pickup points (proxy, direct, store pickup) and a pick wave."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            help="address of the links printed (default: OMS_PUBLIC_BASE_URL, else "
            "http://127.0.0.1:8000)",
        )

    def handle(self, *args, base_url: str | None, **options):
        refuse_demo_data_in_production()
        merchant = Merchant.objects.filter(code=MERCHANT).first()
        channel = SalesChannel.objects.filter(merchant=merchant, kind=ChannelKind.GROUP_BUY).first()
        if merchant is None or channel is None:
            self.stderr.write("run seed_demo first")
            return
        skus = self._skus(merchant)
        rng = random.Random(20261130)
        created = 0
        for point_index, point in enumerate(POINTS):
            for number in range(ORDERS_PER_POINT):
                order_type = TYPES[number % len(TYPES)]
                if point_index == 3:
                    order_type = "store_pickup" if number % 2 else "member_direct"
                external_id = f"GB-DEMO-{point_index + 1}{number + 1:02d}"
                items = rng.sample(skus, k=rng.choice([1, 2, 2, 3]))
                lines = [(sku, rng.choice([1, 1, 2])) for sku in items]
                if Order.objects.filter(
                    merchant=merchant, channel=channel, external_id=external_id
                ).exists():
                    continue
                self._ingest(channel, external_id, order_type, point, lines, rng)
                created += 1
        built = groupbuy_wave_build(merchant=merchant, actor="demo")
        self.stdout.write(
            f"group-buying: {created} order(s) ingested, "
            f"{sum(w.order_count for w in built.waves)} merged into {len(built.waves)} new wave(s)"
        )
        # The fullest wave makes the better demo (a few orders may be routed elsewhere).
        wave = PickWave.objects.filter(merchant=merchant).order_by("-order_count", "-id").first()
        if wave:
            url = (base_url or public_base_url()).rstrip("/") + reverse(
                "admin:channels_pickwave_print", args=[wave.pk]
            )
            self.stdout.write(
                f"  Group-buying pick list (wave #{wave.pk}, {wave.order_count} orders, "
                f"{wave.pickup_point_count} pickup points): {url}"
            )

    def _skus(self, merchant: Merchant) -> list[str]:
        """Eight SKUs with plenty of stock at the Shanghai DC, so the orders ship from one place."""
        warehouse = Warehouse.objects.filter(merchant=merchant, code="SH-DC").first()
        stocked = (
            InventoryBatch.objects.filter(warehouse=warehouse, product__active=True)
            .values("product__sku")
            .annotate(free=Sum(F("on_hand") - F("reserved")))
            .filter(free__gte=60)
            .order_by("-free", "product__sku")
        )
        skus = [row["product__sku"] for row in stocked[:8]]
        return skus or list(merchant.products.order_by("sku").values_list("sku", flat=True)[:8])

    def _ingest(self, channel, external_id, order_type, point, lines, rng) -> None:
        point_id, point_name, district, address, leader_id, leader_name = point
        member = rng.choice(MEMBERS)
        phone = f"139{rng.randint(10_000_000, 99_999_999)}"
        payload = {
            "group_order_no": external_id,
            "activity_id": "ACT-DEMO-FRESH",
            "order_type": order_type,
            "paid_at_ms": int(time.time() * 1000) - rng.randint(5, 600) * 60_000,
            "leader": {"leader_id": leader_id, "name": leader_name, "phone": "13900139000"},
            "pickup_point": {
                "id": point_id,
                "name": point_name,
                "province": "上海",
                "city": "上海",
                "district": district,
                "address": address,
            },
            "member": {"user_id": f"u_{phone[-6:]}", "name": member, "phone": phone},
            "items": [{"sku_code": sku, "count": count} for sku, count in lines],
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        # Routing is requested when the order commits: at once in eager mode (make run); with a
        # worker the orders join a wave at the next cut-off (build_pick_waves) once routed.
        channel_order_ingest(
            code=channel.code,
            body=body,
            headers={
                "X-Merchant": channel.merchant.code,
                signing.TIMESTAMP_HEADER: stamp,
                signing.SIGNATURE_HEADER: signing.sign(channel.signing_secret, stamp, body),
            },
        )
