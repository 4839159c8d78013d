"""Delivery promise latency: ``POST /api/promise/`` for a 5-line cart over 50 warehouses.

Run (PostgreSQL + Redis, the target's setting; the database is dropped and made anew):

    .venv/bin/python bench/promise_api.py --pg postgres://postgres@127.0.0.1:5432 \
        --db wt_promise_bench --redis redis://127.0.0.1:6379/5 [--requests 1000]

``--carriers``: every warehouse also has 5 carrier services (the project's made-up carriers:
two economy, an air express, a cold chain, a same-city courier) priced by zone rate cards, and
products weigh 0.2-4 kg (one in six bulky): the target's "50 warehouses x 5 carrier services".
``--profile FILE`` writes a cProfile of the cold promises.

Data: one merchant, 50 warehouses in 25 provinces (regional centres, stores, a drop-ship
supplier; a third with cold chain), each with a lane to each of the 6 regions carrying one of
5 carrier labels (today a lane has one carrier; carrier services per warehouse come with the
carriers work), 200 SKUs (a tenth chilled) with 2 batches each in 40 warehouses on average
(~16,000 batches, some reserved, some too close to expiry), 400 orders today (the demand
outlook). Carts: 5 distinct SKUs, 1-3 units each, Zipf-popular, to a random province.

Measured in-process with Django's test client (URL resolution, auth, throttle, serializers,
queries, engine, rendering; no network), in one run:

  promise warm    the ATP cache holds the cart's SKUs for the province (carts from the 40 most
                  popular SKUs to 5 provinces, after a warm-up over all of them)
  promise cold    the stock of every SKU of the cart moved just before (its ATP entries are
                  dropped: the stock query every time; the network snapshot stays)
  promise cold (all)  the whole cache is emptied before every request: version tokens too, so
                  the per-process network snapshot is rebuilt as well (a fifth as many)
  promise filling carts over all SKUs and provinces as they come, cache as it fills
  routing        baseline: what routing one order of the same cart costs in the routing
                  service (``routing_context`` + ``route_order``, no HTTP, no writes)
  GET channels    baseline: the cheapest authenticated API read
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCES = [
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "山东",
    "北京",
    "天津",
    "河北",
    "山西",
    "广东",
    "广西",
    "海南",
    "河南",
    "湖北",
    "湖南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "辽宁",
    "吉林",
    "黑龙江",
]
CARRIERS = ["Swift Parcel", "Harbor Post", "Cloud Express", "Polar Cold Chain", "Metro Courier"]


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]


def add_carriers(merchant, warehouses, products, rng: random.Random) -> int:
    """Five carriers with one service each picking up at every warehouse (the project's own
    made-up rate cards, ``routing.engine.carrier_world.CARRIERS``: first kg, further kg, hours,
    on-time per zone 1..5, any origin), and weights and volumes for the products."""
    from oms.models import Product
    from routing.engine.carrier_world import CARRIERS as SPECS
    from routing.models import Carrier, CarrierRate, CarrierService, WarehouseCarrier

    services = []
    for code, spec in SPECS.items():
        carrier = Carrier.objects.create(merchant=merchant, code=code.lower(), name=spec["carrier"])
        service = CarrierService.objects.create(
            carrier=carrier,
            code="std",
            name=spec["name"],
            level=spec["level"].value,
            chilled=spec.get("chilled", False),
            frozen=spec.get("frozen", False),
            volumetric_divisor=int(spec["divisor"]),
            remote_surcharge=Decimal(str(spec["surcharge"])),
            daily_capacity=spec["capacity"],
            same_city_only=spec.get("same_city", False),
        )
        zones = spec["zones"] if not spec.get("same_city") else spec["zones"] * 5
        CarrierRate.objects.bulk_create(
            CarrierRate(
                service=service,
                zone=number,
                first_price=Decimal(str(first)),
                additional_per_kg=Decimal(str(extra)),
                transit_hours=hours,
                on_time_rate=on_time,
            )
            for number, (first, extra, hours, on_time) in enumerate(zones, start=1)
        )
        services.append((code, service))
    WarehouseCarrier.objects.bulk_create(
        WarehouseCarrier(
            warehouse=w,
            service=service,
            is_default=code == ("POLAR" if w.cold_chain else "PINE"),
        )
        for w in warehouses
        for code, service in services
    )
    for product in products:
        weight = math.exp(rng.uniform(math.log(0.2), math.log(4.0)))
        density = rng.uniform(0.08, 0.2) if rng.random() < 1 / 6 else rng.uniform(0.4, 1.2)
        product.weight_kg = Decimal(str(round(weight, 3)))
        product.volume_litres = Decimal(str(round(weight / density, 2)))
    Product.objects.bulk_update(products, ["weight_kg", "volume_litres"])
    return len(services)


def build(seed: int, *, carriers: bool = False):
    from django.utils import timezone

    from oms.geo import province_point, region_for_province
    from oms.models import (
        InventoryBatch,
        Merchant,
        Order,
        OrderLine,
        Product,
        SalesChannel,
        TemperatureClass,
        Warehouse,
        WarehouseKind,
    )
    from routing.models import Lane
    from tests.factories import make_api_key

    rng = random.Random(seed)
    merchant = Merchant.objects.create(code="bench", name="Bench merchant")
    channel = SalesChannel.objects.create(merchant=merchant, code="shop", name="Shop", kind="web")
    kinds = [WarehouseKind.OWN_DC, WarehouseKind.REGIONAL, WarehouseKind.STORE]
    warehouses = []
    for i in range(50):
        province = PROVINCES[i % len(PROVINCES)]
        lat, lon = province_point(province)
        warehouses.append(
            Warehouse(
                merchant=merchant,
                code=f"W{i:02d}",
                name=f"Warehouse {i:02d}",
                kind=WarehouseKind.DROP_SHIP if i == 49 else kinds[i % 3],
                region=region_for_province(province),
                province=province,
                city=province,
                latitude=Decimal(str(round(lat + rng.uniform(-0.3, 0.3), 5))),
                longitude=Decimal(str(round(lon + rng.uniform(-0.3, 0.3), 5))),
                cold_chain=i % 3 == 0,
                daily_capacity=5000,
            )
        )
    Warehouse.objects.bulk_create(warehouses)
    warehouses = list(Warehouse.objects.filter(merchant=merchant).order_by("code"))
    regions = ["east", "north", "south", "central", "west", "northeast"]
    lanes = []
    for w in warehouses:
        for region in regions:
            near = region == w.region
            lanes.append(
                Lane(
                    warehouse=w,
                    region=region,
                    carrier=CARRIERS[(w.pk + len(region)) % 5],
                    shipping_cost=Decimal(
                        str(round(rng.uniform(5, 9) if near else rng.uniform(9, 18), 2))
                    ),
                    transit_hours=round(rng.uniform(6, 24) if near else rng.uniform(24, 72), 1),
                    on_time_rate=round(rng.uniform(0.9, 0.99), 3),
                )
            )
    Lane.objects.bulk_create(lanes)
    products = [
        Product(
            merchant=merchant,
            sku=f"SKU-{i:04d}",
            name=f"Product {i}",
            temperature_class=TemperatureClass.CHILLED if i % 10 == 0 else TemperatureClass.AMBIENT,
            unit_value=Decimal(str(round(rng.uniform(10, 400), 2))),
        )
        for i in range(200)
    ]
    Product.objects.bulk_create(products)
    products = list(Product.objects.filter(merchant=merchant).order_by("sku"))
    today = timezone.localdate()
    batches = []
    for product in products:
        chilled = product.temperature_class != TemperatureClass.AMBIENT
        for w in warehouses:
            if chilled and not w.cold_chain:
                continue
            if rng.random() > 0.8:
                continue
            for n in range(2):
                on_hand = rng.randint(0, 60)
                days = rng.uniform(1, 12) if chilled else rng.uniform(10, 400)
                batches.append(
                    InventoryBatch(
                        warehouse=w,
                        product=product,
                        batch_number=f"{product.sku}-{w.code}-{n}",
                        expiry_date=today + timedelta(days=int(days)),
                        on_hand=on_hand,
                        reserved=rng.randint(0, on_hand // 3) if on_hand else 0,
                    )
                )
    InventoryBatch.objects.bulk_create(batches, batch_size=2000)
    orders = [
        Order(
            merchant=merchant,
            channel=channel,
            external_id=f"TODAY-{i}",
            receiver_name="Bench",
            receiver_phone="13800138000",
            province=rng.choice(PROVINCES),
            city="x",
            address_line="x",
            region="east",
            status="shipped",
            placed_at=timezone.now(),
        )
        for i in range(400)
    ]
    Order.objects.bulk_create(orders)
    lines = []
    for order in Order.objects.filter(merchant=merchant):
        for product in rng.sample(products[:60], 2):
            lines.append(
                OrderLine(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    quantity=1,
                    unit_price=product.unit_value,
                    line_total=product.unit_value,
                )
            )
    OrderLine.objects.bulk_create(lines)
    if carriers:
        add_carriers(merchant, warehouses, products, rng)
    return merchant, make_api_key(merchant), products, len(batches)


def carts(products, count: int, rng: random.Random, *, hot: bool) -> list[dict]:
    pool = products[:40] if hot else products
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(pool))]
    provinces = PROVINCES[:5] if hot else PROVINCES
    out = []
    for _ in range(count):
        chosen: list = []
        while len(chosen) < 5:
            product = rng.choices(pool, weights)[0]
            if product not in chosen:
                chosen.append(product)
        out.append(
            {
                "lines": [{"sku": p.sku, "quantity": rng.randint(1, 3)} for p in chosen],
                "address": {"province": (province := rng.choice(provinces)), "city": province},
            }
        )
    return out


class RotatingClients:
    """Test clients, a new one every ``every`` requests.

    Django's test client registers weakref finalizers on itself for every request it makes
    (signal receivers per request) and keeps them while it lives: thousands of objects for every
    full garbage collection to walk, which a served process does not have. Replacing the client
    now and then (before the clock starts) drops them.
    """

    def __init__(self, make: Callable[[], Any], every: int = 100) -> None:
        self.make, self.every, self.used, self.client = make, every, 0, make()

    def next(self) -> Any:
        if self.used >= self.every:
            self.client, self.used = self.make(), 0
        self.used += 1
        return self.client


@contextlib.contextmanager
def profiled(path: Path | None) -> Iterator[None]:
    """A cProfile of the block written to ``path`` (nothing without one)."""
    if path is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="wt_promise_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--carriers",
        action="store_true",
        help="5 carrier services per warehouse (economy x2, express, cold chain, same-day) "
        "with zone rate cards; products get weights and volumes",
    )
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the start-up heap in the collector's generations (before oms.gcfreeze)",
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of cold promises here")
    parser.add_argument(
        "--profile-warm", type=Path, help="write a cProfile of the warm promises here"
    )
    args = parser.parse_args()
    subprocess.run(
        [
            "psql",
            f"{args.pg}/postgres",
            "-q",
            "-c",
            f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)",
            "-c",
            f"CREATE DATABASE {args.db}",
        ],
        check=True,
    )
    os.environ["DATABASE_URL"] = f"{args.pg}/{args.db}"
    os.environ["REDIS_URL"] = args.redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.machine import describe
    from oms.models import Product
    from routing import context
    from routing.engine import problem as p
    from routing.engine.router import route_order
    from routing.promise import atp

    call_command("migrate", verbosity=0, interactive=False)
    cache.clear()
    merchant, key, products, batch_count = build(args.seed, carriers=args.carriers)
    if not args.no_gc_freeze:
        from oms.gcfreeze import freeze_startup_heap

        freeze_startup_heap()  # what oms.wsgi does when a served process starts
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    clients = RotatingClients(lambda: Client(HTTP_AUTHORIZATION=f"Bearer {key}"))
    rng = random.Random(args.seed)
    print(f"machine: {describe()}; load average {os.getloadavg()[0]:.2f}")
    network = (
        "50 warehouses x 5 carrier services (zone rate cards)"
        if args.carriers
        else "50 warehouses x 6 region lanes (one carrier label each, 5 carriers)"
    )
    print(
        f"data: {network}, 200 SKUs, {batch_count} batches, PostgreSQL {connection.pg_version}, "
        "Redis cache"
    )

    cpu: dict[str, list[float]] = {}
    current = ["warm"]

    def post(body) -> float:
        client = clients.next()
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = client.post("/api/promise/", body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        cpu.setdefault(current[0], []).append((time.thread_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.content[:300]
        return elapsed

    results: dict[str, list[float]] = {}
    hot = carts(products, args.requests, rng, hot=True)
    for body in carts(products, 300, random.Random(1), hot=True):  # warm-up: fill the cache
        post(body)
    cpu.clear()
    with profiled(args.profile_warm):
        results["promise warm"] = [post(body) for body in hot]
    current[0] = "cold"
    cold = carts(products, args.requests // 2, rng, hot=False)
    ids = {p.sku: p.pk for p in products}
    times = []
    profiler = cProfile.Profile() if args.profile else None
    for body in cold:
        # Stock of every SKU of the cart moved: its ATP entries are not read again.
        atp.invalidate_products(
            merchant_id=merchant.pk, product_ids=[ids[line["sku"]] for line in body["lines"]]
        )
        if profiler is not None:
            profiler.enable()
        times.append(post(body))
        if profiler is not None:
            profiler.disable()
    results["promise cold"] = times
    if profiler is not None:
        profiler.dump_stats(args.profile)
    current[0] = "cold-all"
    times = []
    for body in cold[: max(1, args.requests // 5)]:
        cache.clear()  # every token too: the network snapshot is rebuilt
        times.append(post(body))
    results["promise cold (all)"] = times
    cache.clear()
    current[0] = "filling"
    results["promise filling"] = [
        post(body) for body in carts(products, args.requests, rng, hot=False)
    ]

    by_sku = {p.sku: p for p in Product.objects.filter(merchant=merchant)}
    from oms.geo import province_point, region_for_province

    times = []
    for body in hot:
        started = time.perf_counter()
        province = body["address"]["province"]
        region = region_for_province(province)
        lat, lon = province_point(province)
        order = p.Order(
            "bench",
            region,
            lat,
            lon,
            tuple(
                p.OrderLine(
                    line["sku"],
                    line["quantity"],
                    p.Temperature(by_sku[line["sku"]].temperature_class),
                    float(by_sku[line["sku"]].unit_value),
                    float(by_sku[line["sku"]].weight_kg),
                    float(by_sku[line["sku"]].volume_litres),
                )
                for line in body["lines"]
            ),
            province=province,
            city=province,
        )
        profile = context.active_profile(merchant_id=merchant.pk)
        ctx = context.routing_context(
            merchant_id=merchant.pk,
            skus={line.sku for line in order.lines},
            destination_region=region,
            profile=profile,
            destination_province=province,
        )
        route_order(order, ctx)
        times.append((time.perf_counter() - started) * 1000)
    results["routing (baseline)"] = times
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        assert client.get("/api/channels/").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    results["GET channels (baseline)"] = times

    current[0] = "extra"  # not reported
    executed: list[str] = []

    def count(execute, sql, params, many, ctx):
        executed.append(sql)
        return execute(sql, params, many, ctx)

    post(hot[0])  # the network snapshot may have expired during the baselines: refill it
    with connection.execute_wrapper(count):
        post(hot[1])
    options = [
        len(client.post("/api/promise/", b, content_type="application/json").json()["options"])
        for b in hot[:200]
    ]
    print(
        f"queries per warm promise: {len(executed)}; options per answer (200 warm carts): "
        f"mean {statistics.mean(options):.2f}, max {max(options)}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'measure':<26} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in results.items():
        print(
            f"{name:<26} {len(values):>5} {statistics.median(values):>10.2f} "
            f"{percentile(values, 95):>8.2f} {percentile(values, 99):>8.2f}"
        )
    for name, values in cpu.items():
        if name == "extra":
            continue
        print(
            f"{'promise ' + name + ' (CPU)':<26} {len(values):>5} {statistics.median(values):>10.2f} "
            f"{percentile(values, 95):>8.2f} {percentile(values, 99):>8.2f}"
        )
    warm = results["promise warm"]
    base = statistics.median(results["routing (baseline)"])
    print(f"promise warm / routing one order (medians): {statistics.median(warm) / base:.2f}x")
    met = percentile(warm, 99) <= 20.0
    print(
        f"target p99 <= 20 ms (warm): {'met' if met else 'NOT met'}; "
        f"cold p99 {percentile(results['promise cold'], 99):.2f} ms, "
        f"filling p99 {percentile(results['promise filling'], 99):.2f} ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
