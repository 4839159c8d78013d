"""Load demo data that looks like a real business; safe to run again (it only fills gaps).

Three merchants, their sales channels, 30 warehouses over East/North/South/Central/West China
(cold-chain DCs, stores, third-party cloud warehouses, one supplier drop-ship), 300 SKUs with
dated batches held in amounts that last a few months at the demo's pace of sales, and 4,000
historic orders spread over the last 60 days (every day of the last month has its orders, to
every part of the country) with a realistic status mix and timeline. Routing's demo (lanes, profiles, signals and live orders routed by the optimizer) is
``seed_routing_demo``; each app seeds its own demo and ``make run`` calls them in order.
"""

import itertools
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from oms.demo import refuse_demo_data_in_production
from oms.geo import region_for_province
from oms.models import (
    ApiKey,
    ChannelKind,
    InventoryBatch,
    Merchant,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    SalesChannel,
    Shipment,
    ShipmentStatus,
    TemperatureClass,
    Warehouse,
    WarehouseKind,
)
from oms.permissions import OPERATIONS_GROUP

MERCHANTS = [
    ("homeliving", "家居生活 HomeLiving", "furniture"),
    ("freshfarm", "鲜农直供 FreshFarm", "fresh"),
    ("voltmotors", "伏特汽车 Volt Motors", "ev"),
]
# code suffix, name, city, province, lat, lon, kind, cold chain
SITES = [
    ("SH-DC", "上海中心仓 Shanghai DC", "上海", "上海", 31.23, 121.47, WarehouseKind.OWN_DC, True),
    ("SZ-RC", "苏州区域仓 Suzhou RC", "苏州", "江苏", 31.30, 120.58, WarehouseKind.REGIONAL, True),
    (
        "HZ-RC",
        "杭州区域仓 Hangzhou RC",
        "杭州",
        "浙江",
        30.27,
        120.15,
        WarehouseKind.REGIONAL,
        True,
    ),
    (
        "NJ-3P",
        "南京云仓 Nanjing 3PL",
        "南京",
        "江苏",
        32.06,
        118.80,
        WarehouseKind.THIRD_PARTY,
        False,
    ),
    ("HF-ST", "合肥门店 Hefei store", "合肥", "安徽", 31.82, 117.23, WarehouseKind.STORE, False),
    (
        "XM-3P",
        "厦门云仓 Xiamen 3PL",
        "厦门",
        "福建",
        24.48,
        118.09,
        WarehouseKind.THIRD_PARTY,
        True,
    ),
    ("JN-RC", "济南区域仓 Jinan RC", "济南", "山东", 36.65, 117.12, WarehouseKind.REGIONAL, False),
    ("QD-ST", "青岛门店 Qingdao store", "青岛", "山东", 36.07, 120.38, WarehouseKind.STORE, False),
    ("BJ-DC", "北京中心仓 Beijing DC", "北京", "北京", 39.90, 116.40, WarehouseKind.OWN_DC, True),
    ("TJ-RC", "天津区域仓 Tianjin RC", "天津", "天津", 39.13, 117.20, WarehouseKind.REGIONAL, True),
    (
        "SJZ-3P",
        "石家庄云仓 Shijiazhuang 3PL",
        "石家庄",
        "河北",
        38.04,
        114.51,
        WarehouseKind.THIRD_PARTY,
        False,
    ),
    ("TY-ST", "太原门店 Taiyuan store", "太原", "山西", 37.87, 112.55, WarehouseKind.STORE, False),
    (
        "SY-RC",
        "沈阳区域仓 Shenyang RC",
        "沈阳",
        "辽宁",
        41.80,
        123.43,
        WarehouseKind.REGIONAL,
        True,
    ),
    (
        "HRB-3P",
        "哈尔滨云仓 Harbin 3PL",
        "哈尔滨",
        "黑龙江",
        45.80,
        126.53,
        WarehouseKind.THIRD_PARTY,
        False,
    ),
    ("GZ-DC", "广州中心仓 Guangzhou DC", "广州", "广东", 23.13, 113.26, WarehouseKind.OWN_DC, True),
    (
        "SZN-RC",
        "深圳区域仓 Shenzhen RC",
        "深圳",
        "广东",
        22.54,
        114.06,
        WarehouseKind.REGIONAL,
        True,
    ),
    (
        "DG-3P",
        "东莞云仓 Dongguan 3PL",
        "东莞",
        "广东",
        23.02,
        113.75,
        WarehouseKind.THIRD_PARTY,
        False,
    ),
    ("NN-ST", "南宁门店 Nanning store", "南宁", "广西", 22.82, 108.32, WarehouseKind.STORE, False),
    (
        "HK-3P",
        "海口云仓 Haikou 3PL",
        "海口",
        "海南",
        20.04,
        110.20,
        WarehouseKind.THIRD_PARTY,
        True,
    ),
    (
        "FS-DS",
        "佛山供应商直发 Foshan drop-ship",
        "佛山",
        "广东",
        23.02,
        113.12,
        WarehouseKind.DROP_SHIP,
        False,
    ),
    ("WH-DC", "武汉中心仓 Wuhan DC", "武汉", "湖北", 30.59, 114.31, WarehouseKind.OWN_DC, True),
    (
        "CS-RC",
        "长沙区域仓 Changsha RC",
        "长沙",
        "湖南",
        28.23,
        112.94,
        WarehouseKind.REGIONAL,
        False,
    ),
    (
        "ZZ-RC",
        "郑州区域仓 Zhengzhou RC",
        "郑州",
        "河南",
        34.75,
        113.63,
        WarehouseKind.REGIONAL,
        True,
    ),
    ("NC-ST", "南昌门店 Nanchang store", "南昌", "江西", 28.68, 115.86, WarehouseKind.STORE, False),
    ("CD-DC", "成都中心仓 Chengdu DC", "成都", "四川", 30.57, 104.07, WarehouseKind.OWN_DC, True),
    (
        "CQ-RC",
        "重庆区域仓 Chongqing RC",
        "重庆",
        "重庆",
        29.56,
        106.55,
        WarehouseKind.REGIONAL,
        True,
    ),
    ("XA-RC", "西安区域仓 Xi'an RC", "西安", "陕西", 34.34, 108.94, WarehouseKind.REGIONAL, False),
    (
        "KM-3P",
        "昆明云仓 Kunming 3PL",
        "昆明",
        "云南",
        25.04,
        102.71,
        WarehouseKind.THIRD_PARTY,
        False,
    ),
    ("LZ-ST", "兰州门店 Lanzhou store", "兰州", "甘肃", 36.06, 103.83, WarehouseKind.STORE, False),
    (
        "GY-3P",
        "贵阳云仓 Guiyang 3PL",
        "贵阳",
        "贵州",
        26.65,
        106.63,
        WarehouseKind.THIRD_PARTY,
        False,
    ),
]
CATALOGUE = {
    "furniture": [
        ("沙发 Sofa", 5999, 45.0, TemperatureClass.AMBIENT),
        ("床垫 Mattress", 2999, 25.0, TemperatureClass.AMBIENT),
        ("餐桌 Dining table", 1899, 30.0, TemperatureClass.AMBIENT),
        ("台灯 Desk lamp", 199, 1.2, TemperatureClass.AMBIENT),
        ("收纳箱 Storage box", 89, 1.5, TemperatureClass.AMBIENT),
    ],
    "fresh": [
        ("鲜牛奶 Fresh milk 1L", 19, 1.05, TemperatureClass.CHILLED),
        ("酸奶 Yoghurt 6-pack", 29, 0.9, TemperatureClass.CHILLED),
        ("速冻水饺 Frozen dumplings", 39, 1.0, TemperatureClass.FROZEN),
        ("冰淇淋 Ice cream", 49, 0.6, TemperatureClass.FROZEN),
        ("大米 Rice 5kg", 59, 5.0, TemperatureClass.AMBIENT),
        ("坚果礼盒 Nut gift box", 129, 1.2, TemperatureClass.AMBIENT),
    ],
    "ev": [
        ("动力电池包 Battery pack", 48000, 380.0, TemperatureClass.AMBIENT),
        ("家用充电桩 Wall charger", 2999, 12.0, TemperatureClass.AMBIENT),
        ("脚垫 Floor mats", 499, 3.0, TemperatureClass.AMBIENT),
        ("车衣 Car cover", 899, 4.0, TemperatureClass.AMBIENT),
    ],
}
CHANNEL_KINDS = [
    ChannelKind.DOUYIN,
    ChannelKind.WECHAT_MINI,
    ChannelKind.TMALL,
    ChannelKind.STORE_POS,
    ChannelKind.B2B,
    ChannelKind.GROUP_BUY,
]
CUSTOMERS = [
    ("张伟", "上海", "上海", "浦东新区", "世纪大道100号3号楼1201室"),
    ("王芳", "浙江", "杭州", "西湖区", "文三路90号5幢302室"),
    ("李娜", "北京", "北京", "朝阳区", "建国路88号SOHO现代城2号楼1505"),
    ("刘洋", "广东", "深圳", "南山区", "科技园南区高新南一道8号"),
    ("陈静", "四川", "成都", "武侯区", "人民南路四段12号6栋2单元801"),
    ("杨磊", "湖北", "武汉", "洪山区", "珞喻路1037号"),
    ("赵敏", "江苏", "南京", "鼓楼区", "中山路18号德基广场"),
    ("黄强", "广东", "广州", "天河区", "天河路385号太古汇"),
    ("周杰", "山东", "青岛", "市南区", "香港中路10号"),
    ("吴婷", "陕西", "西安", "雁塔区", "小寨东路126号"),
    ("徐明", "辽宁", "沈阳", "和平区", "南京北街206号"),
    ("孙丽", "福建", "厦门", "思明区", "鹭江道8号"),
]
# Historic orders also go to these, so the dashboard's map of destinations covers the country.
MORE_DESTINATIONS = [
    ("马超", "河南", "郑州", "金水区", "花园路39号"),
    ("胡静", "湖南", "长沙", "岳麓区", "麓山南路932号"),
    ("郭涛", "重庆", "重庆", "渝中区", "解放碑民族路166号"),
    ("何欣", "天津", "天津", "和平区", "南京路189号"),
    ("高峰", "安徽", "合肥", "蜀山区", "长江西路669号"),
    ("林芳", "江西", "南昌", "东湖区", "八一大道357号"),
    ("罗敏", "云南", "昆明", "五华区", "东风西路11号"),
    ("梁伟", "广西", "南宁", "青秀区", "民族大道136号"),
    ("宋佳", "黑龙江", "哈尔滨", "南岗区", "西大直街92号"),
    ("郑浩", "河北", "石家庄", "长安区", "中山东路188号"),
    ("谢婷", "山西", "太原", "小店区", "长风街115号"),
    ("韩冰", "贵州", "贵阳", "云岩区", "中华北路242号"),
    ("唐亮", "甘肃", "兰州", "城关区", "东岗西路638号"),
    ("冯雪", "吉林", "长春", "朝阳区", "人民大街7989号"),
    ("曹阳", "海南", "海口", "美兰区", "国兴大道5号"),
    ("彭丽", "内蒙古", "呼和浩特", "新城区", "新华大街63号"),
]
TOTAL_HISTORIC = 4000
# A batch holds fewer units the dearer the product (about ¥100 worth of the 5-400 drawn), so
# the demo's stock lasts months at its pace of sales rather than decades.
STOCK_VALUE_SCALE = Decimal(100)
DEMO_PASSWORD = "oms-demo-2026"
CARRIERS = ["Express A", "Economy B", "Regional C", "Freight D"]
# Days a batch keeps, by the product's temperature class; ambient goods do not expire.
SHELF_DAYS: dict[str, int] = {TemperatureClass.CHILLED: 21, TemperatureClass.FROZEN: 180}
HANDLING = {  # per shipment, per unit (CNY)
    WarehouseKind.OWN_DC: (Decimal("3.00"), Decimal("0.40")),
    WarehouseKind.REGIONAL: (Decimal("3.50"), Decimal("0.50")),
    WarehouseKind.STORE: (Decimal("6.00"), Decimal("1.00")),
    WarehouseKind.THIRD_PARTY: (Decimal("4.00"), Decimal("0.60")),
    WarehouseKind.DROP_SHIP: (Decimal("2.00"), Decimal("0.30")),
}


def demo_api_key(merchant_code: str) -> str:
    """The demo merchants' API keys are fixed so the README's curl example works. Demo only."""
    return f"oms_demo_{merchant_code}_key"


class Command(BaseCommand):
    help = (
        "Load the core demo: merchants, users, channels, warehouses, catalogue, stock and "
        "historic orders (idempotent). make run then seeds each app's own demo."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20261125)

    def handle(self, *args, seed: int, **options):
        refuse_demo_data_in_production()
        rng = random.Random(seed)
        self._users()
        for code, name, business in MERCHANTS:
            merchant, created = Merchant.objects.get_or_create(code=code, defaults={"name": name})
            if not ApiKey.objects.filter(merchant=merchant, name="demo").exists():
                raw = demo_api_key(code)
                ApiKey.objects.create(
                    merchant=merchant, name="demo", prefix=raw[:12], key_hash=ApiKey.hash(raw)
                )
            if not created and merchant.orders.exists():
                continue
            with transaction.atomic():
                channels = self._channels(merchant)
                warehouses = self._warehouses(merchant, business)
                products = self._products(merchant, business, rng)
                self._stock(warehouses, products, rng)
                self._historic_orders(
                    merchant,
                    channels,
                    warehouses,
                    products,
                    rng,
                    count=TOTAL_HISTORIC // len(MERCHANTS) + (1 if code == MERCHANTS[0][0] else 0),
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Merchant.objects.count()} merchants, {Warehouse.objects.count()} warehouses, "
                f"{Product.objects.count()} SKUs, {Order.objects.count()} orders."
            )
        )

    def _users(self) -> None:
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        if not User.objects.filter(username="ops").exists():
            ops = User.objects.create_user("ops", "ops@example.com", DEMO_PASSWORD, is_staff=True)
            ops.groups.add(Group.objects.get(name=OPERATIONS_GROUP))

    def _channels(self, merchant: Merchant) -> list[SalesChannel]:
        channels = []
        for kind in CHANNEL_KINDS:
            channel, _ = SalesChannel.objects.get_or_create(
                merchant=merchant,
                code=kind.value.replace("_", "-"),
                defaults={"name": str(kind.label), "kind": kind},
            )
            channels.append(channel)
        return channels

    def _warehouses(self, merchant: Merchant, business: str) -> list[Warehouse]:
        warehouses = []
        for index, (code, name, city, province, lat, lon, kind, cold) in enumerate(SITES):
            capacity = {
                WarehouseKind.OWN_DC: 5000,
                WarehouseKind.REGIONAL: 2500,
                WarehouseKind.STORE: 200,
                WarehouseKind.THIRD_PARTY: 3000,
                WarehouseKind.DROP_SHIP: 800,
            }[kind]
            warehouse, _ = Warehouse.objects.get_or_create(
                merchant=merchant,
                code=code,
                defaults=dict(
                    name=name,
                    kind=kind,
                    region=region_for_province(province),
                    province=province,
                    city=city,
                    latitude=Decimal(str(lat)),
                    longitude=Decimal(str(lon)),
                    cold_chain=cold,
                    daily_capacity=capacity + 37 * index,
                    handling_cost_per_shipment=HANDLING[kind][0],
                    handling_cost_per_unit=HANDLING[kind][1],
                ),
            )
            warehouses.append(warehouse)
        return warehouses

    def _products(self, merchant: Merchant, business: str, rng: random.Random) -> list[Product]:
        base = CATALOGUE[business]
        rows = []
        for number in range(100):
            name, price, weight, temperature = base[number % len(base)]
            variant = number // len(base) + 1
            rows.append(
                Product(
                    merchant=merchant,
                    sku=f"{merchant.code[:3].upper()}-{number + 1:04d}",
                    name=f"{name} #{variant}",
                    category=business,
                    temperature_class=temperature,
                    unit_value=(
                        Decimal(price) * Decimal(str(round(rng.uniform(0.85, 1.25), 2)))
                    ).quantize(Decimal("0.01")),
                    weight_kg=Decimal(str(weight)),
                    currency=merchant.currency,
                )
            )
        Product.objects.bulk_create(rows, ignore_conflicts=True)
        return list(Product.objects.filter(merchant=merchant).order_by("sku"))

    def _stock(
        self, warehouses: list[Warehouse], products: list[Product], rng: random.Random
    ) -> None:
        today = timezone.localdate()
        rows = []
        for product in products:
            holders = rng.sample(warehouses, k=rng.randint(4, 9))
            for warehouse in holders:
                if product.needs_cold_chain and not warehouse.cold_chain:
                    continue
                shelf_days = SHELF_DAYS.get(product.temperature_class)
                for batch_index in range(rng.randint(1, 3)):
                    expiry = (
                        today + timedelta(days=rng.randint(3, shelf_days)) if shelf_days else None
                    )
                    rows.append(
                        InventoryBatch(
                            warehouse=warehouse,
                            product=product,
                            batch_number=f"B{today:%y%m}{batch_index + 1:02d}",
                            expiry_date=expiry,
                            on_hand=max(
                                1,
                                int(
                                    rng.randint(5, 400)
                                    * min(Decimal(1), STOCK_VALUE_SCALE / product.unit_value)
                                ),
                            ),
                        )
                    )
        InventoryBatch.objects.bulk_create(rows, ignore_conflicts=True)

    def _historic_orders(self, merchant, channels, warehouses, products, rng, count: int) -> None:
        """Bulk-write finished orders (delivered, shipped, cancelled) of the last 60 days."""
        now = timezone.now()
        statuses = (
            [OrderStatus.DELIVERED] * 78
            + [OrderStatus.SHIPPED] * 9
            + [OrderStatus.CANCELLED] * 8
            + [OrderStatus.NEEDS_ATTENTION] * 5
        )
        orders, line_specs, timings = [], [], []
        destinations = CUSTOMERS + MORE_DESTINATIONS
        for number in range(count):
            name, province, city, district, street = rng.choice(destinations)
            # Orders cluster in the evening and on the promotion days, as real demand does.
            day = rng.choices(
                range(60), weights=[3 if d in (14, 15, 44) else 1 for d in range(60)]
            )[0]
            placed = (now - timedelta(days=60 - day)).replace(
                hour=rng.choice([9, 11, 12, 14, 19, 20, 21, 22]), minute=rng.randint(0, 59)
            )
            if placed > now - timedelta(hours=20):
                placed -= timedelta(days=1)  # every historic order has had time to ship
            chosen = rng.sample(products, k=rng.choice([1, 1, 1, 2, 2, 3]))
            lines = [(p, rng.choice([1, 1, 1, 2, 3])) for p in chosen]
            subtotal = sum((p.unit_value * q for p, q in lines), Decimal("0"))
            status = rng.choice(statuses)
            shipped = placed + timedelta(hours=rng.uniform(2, 20))
            delivered = shipped + timedelta(hours=rng.triangular(10, 56, 18))
            if status == OrderStatus.DELIVERED and delivered > now:
                status = OrderStatus.SHIPPED  # still on its way: nothing is delivered in future
            timings.append((shipped, delivered))
            orders.append(
                Order(
                    merchant=merchant,
                    channel=rng.choice(channels),
                    external_id=f"H{placed:%y%m%d}{number:05d}",
                    status=status,
                    receiver_name=name,
                    receiver_phone=f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                    province=province,
                    city=city,
                    district=district,
                    address_line=street,
                    region=region_for_province(province),
                    currency=merchant.currency,
                    subtotal=subtotal,
                    total=subtotal,
                    placed_at=placed,
                    promised_at=placed + timedelta(hours=rng.choice([24, 48, 72])),
                    status_reason="No warehouse had stock when it arrived."
                    if status == OrderStatus.NEEDS_ATTENTION
                    else "",
                )
            )
            line_specs.append(lines)
        Order.objects.bulk_create(orders, ignore_conflicts=True)
        saved = {
            o.external_id: o
            for o in Order.objects.filter(merchant=merchant, external_id__startswith="H")
        }
        order_lines, shipments, events = [], [], []
        with_lines = set(
            OrderLine.objects.filter(order__merchant=merchant).values_list("order_id", flat=True)
        )
        for order, lines, (shipped, delivered) in zip(orders, line_specs, timings, strict=True):
            order = saved[order.external_id]
            if order.pk in with_lines:
                continue
            order_lines += [
                OrderLine(
                    order=order,
                    product=p,
                    sku=p.sku,
                    name=p.name,
                    quantity=q,
                    unit_price=p.unit_value,
                    line_total=p.unit_value * q,
                )
                for p, q in lines
            ]
            events.append(
                OrderEvent(
                    order=order,
                    kind="created",
                    actor="channel",
                    to_status=OrderStatus.CREATED,
                    message="Order received.",
                )
            )
            if order.status in (OrderStatus.DELIVERED, OrderStatus.SHIPPED):
                warehouse = rng.choice(
                    [w for w in warehouses if w.region == order.region] or warehouses
                )
                shipments.append(
                    Shipment(
                        order=order,
                        warehouse=warehouse,
                        carrier=rng.choice(CARRIERS),
                        tracking_number=f"T{order.pk:09d}",
                        shipped_at=shipped,
                        status=ShipmentStatus.DELIVERED
                        if order.status == OrderStatus.DELIVERED
                        else ShipmentStatus.SHIPPED,
                        delivered_at=delivered if order.status == OrderStatus.DELIVERED else None,
                    )
                )
                path = [
                    OrderStatus.CREATED,
                    OrderStatus.ROUTED,
                    OrderStatus.RELEASED,
                    OrderStatus.SHIPPED,
                ]
                if order.status == OrderStatus.DELIVERED:
                    path.append(OrderStatus.DELIVERED)
                events += [
                    OrderEvent(
                        order=order, kind="status", actor="system", from_status=a, to_status=b
                    )
                    for a, b in itertools.pairwise(path)
                ]
            else:
                events.append(
                    OrderEvent(
                        order=order,
                        kind="status",
                        actor="system",
                        from_status=OrderStatus.CREATED,
                        to_status=order.status,
                        message=order.status_reason,
                    )
                )
        OrderLine.objects.bulk_create(order_lines)
        Shipment.objects.bulk_create(shipments)
        events = OrderEvent.objects.bulk_create(events)
        # Back-date the timeline to when the orders were placed, so the history reads true.
        for event in events:
            event.at = event.order.placed_at
        OrderEvent.objects.bulk_update(events, ["at"])
