"""Routing's demo: lanes, five carriers with rate cards, storm rules, a promotion profile, live
signals and live orders.

The carriers have made-up names; their rate cards are the zone tables of
``routing.engine.carrier_world`` (shaped like published Chinese price lists: first kg
¥8-23 by zone, ¥1-15 each further kg, a remote-area surcharge), every warehouse picks up with
all five, and a cold-chain warehouse's default is the cold-chain carrier.

Runs after the core demo (``seed_demo``). The live orders go through the real services:
created, routed by the optimizer (stock held), a third of them released to the warehouse, so
their reservations, decisions and timelines are exactly what production would write. Safe to
run again: it only fills gaps.

The core demo's order history (shipped and delivered orders of the last 60 days) gets the
routing decision each order would carry, back-dated to when it was placed: the warehouse it
shipped from at that lane's price and the warehouse's handling, so the dashboard's cost per
order has a month of history too.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from oms.demo import refuse_demo_data_in_production
from oms.geo import region_point
from oms.management.commands.seed_demo import CARRIERS, CUSTOMERS, MERCHANTS
from oms.models import (
    Merchant,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Region,
    SalesChannel,
    Shipment,
    Warehouse,
    WarehouseKind,
)
from oms.services.orders import AddressInput, LineInput, order_create, order_release
from routing.engine.carrier_world import CARRIERS as DEMO_CARRIERS
from routing.engine.carrier_world import COLD_DEFAULT_SERVICE, DEFAULT_SERVICE
from routing.engine.factors import haversine_km
from routing.models import (
    DEFAULT_WEIGHTS,
    Carrier,
    CarrierRate,
    CarrierService,
    Lane,
    RoutingDecision,
    RoutingProfile,
    RoutingRule,
    WarehouseCarrier,
    WeatherAlert,
)
from routing.providers import SimulatedFeed, signals_ingest
from routing.services import order_route

LIVE_ORDERS_PER_MERCHANT = 20
COLD_CARRIER = "Cold-chain E"


class Command(BaseCommand):
    help = "Load routing's demo: lanes, profiles, live signals and live routed orders."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20261125)

    def handle(self, *args, seed: int, **options):
        refuse_demo_data_in_production()
        rng = random.Random(seed)
        self._routing_profiles()
        if not WeatherAlert.objects.exists():  # live signals from the demo feed, as a feed sends
            signals_ingest(readings=list(SimulatedFeed().fetch(now=timezone.now())))
        merchants = Merchant.objects.filter(code__in=[code for code, _, _ in MERCHANTS])
        if not merchants.exists():
            self.stderr.write("run seed_demo first")
            return
        for merchant in merchants.order_by("code"):
            if not Lane.objects.filter(warehouse__merchant=merchant).exists():
                self._lanes(list(Warehouse.objects.filter(merchant=merchant).order_by("pk")))
            if not Carrier.objects.filter(merchant=merchant).exists():
                self._carriers(merchant, list(Warehouse.objects.filter(merchant=merchant)))
            self._historic_decisions(merchant)
            channels = list(SalesChannel.objects.filter(merchant=merchant).order_by("pk"))
            products = list(Product.objects.filter(merchant=merchant).order_by("pk"))
            self._live_orders(merchant, channels, products, rng)
        routed = Order.objects.filter(status=OrderStatus.ROUTED).count()
        self.stdout.write(self.style.SUCCESS(f"Routing demo ready: {routed} orders routed now."))

    def _routing_profiles(self) -> None:
        """The default profile gets a weather rule; a promotion profile waits for Double 12."""
        default = RoutingProfile.objects.filter(is_default=True).first()
        if default and not default.rules.exists():
            RoutingRule.objects.create(
                profile=default,
                name="Storm: down-weight cold chain 50 %",
                condition="weather_at_least",
                threshold=3,
                cold_chain_only=True,
                effect="down_weight",
                amount=0.5,
            )
        if default and not default.rules.filter(service_level="cold_chain").exists():
            RoutingRule.objects.create(
                profile=default,
                name="Storm: down-weight cold-chain carriers 50 %",
                condition="weather_at_least",
                threshold=3,
                service_level="cold_chain",
                effect="down_weight",
                amount=0.5,
            )
        now = timezone.localtime()
        start = now.replace(month=12, day=12, hour=0, minute=0, second=0, microsecond=0)
        if start < now - timedelta(days=1):
            start = start.replace(year=start.year + 1)
        weights = {name: 0 for name in DEFAULT_WEIGHTS}
        weights.update(
            {
                "lateness": 75,
                "shipping_cost": 8,
                "handling_cost": 5,
                "certainty": 6,
                "splits": 3,
                "stock": 1,
                "capacity": 2,
            }
        )
        RoutingProfile.objects.get_or_create(
            name="Double 12: timeliness 75 %",
            defaults=dict(
                description="Promotion day: keep the promise first, cost second.",
                active_from=start,
                active_until=start + timedelta(days=1),
                priority=10,
                **weights,
            ),
        )

    def _lanes(self, warehouses: list[Warehouse]) -> None:
        """Carrier price, transit time and on-time record from each warehouse to each region."""
        rows = []
        for warehouse in warehouses:
            for region in Region.values:
                point = region_point(region)
                assert point is not None  # every region has provincial capitals
                km = haversine_km(float(warehouse.latitude), float(warehouse.longitude), *point)
                same = region == warehouse.region
                cost = 6 + 0.0045 * km + (4 if warehouse.cold_chain else 0)
                hours = (10 if same else 20) + km / 55
                if warehouse.kind == WarehouseKind.DROP_SHIP:
                    cost, hours = cost * 0.8, hours + 24
                elif warehouse.kind == WarehouseKind.STORE:
                    cost, hours = cost * 1.15, max(hours - 4, 4)
                on_time = 0.985 if same else 0.955
                if warehouse.kind == WarehouseKind.THIRD_PARTY:
                    on_time -= 0.02
                rows.append(
                    Lane(
                        warehouse=warehouse,
                        region=region,
                        shipping_cost=Decimal(str(round(cost, 2))),
                        transit_hours=round(hours, 1),
                        on_time_rate=round(on_time, 3),
                        carrier=COLD_CARRIER
                        if warehouse.cold_chain
                        else CARRIERS[(warehouse.pk + len(region)) % 3],
                    )
                )
        Lane.objects.bulk_create(rows, ignore_conflicts=True)

    def _carriers(self, merchant: Merchant, warehouses: list[Warehouse]) -> None:
        """Five carriers, a service each with a zone rate card, picking up at every warehouse."""
        for code, spec in DEMO_CARRIERS.items():
            carrier = Carrier.objects.create(
                merchant=merchant, code=code.lower(), name=spec["carrier"]
            )
            service = CarrierService.objects.create(
                carrier=carrier,
                code=spec["level"].value.replace("_", "-"),
                name=spec["name"],
                level=spec["level"].value,
                chilled=spec.get("chilled", False),
                frozen=spec.get("frozen", False),
                volumetric_divisor=int(spec["divisor"]),
                remote_surcharge=Decimal(str(spec["surcharge"])),
                daily_capacity=spec["capacity"],
                same_city_only=spec.get("same_city", False),
            )
            CarrierRate.objects.bulk_create(
                CarrierRate(
                    service=service,
                    zone=zone,
                    first_price=Decimal(str(first)),
                    additional_per_kg=Decimal(str(extra)),
                    transit_hours=hours,
                    on_time_rate=on_time,
                )
                for zone, (first, extra, hours, on_time) in enumerate(spec["zones"], start=1)
            )
            WarehouseCarrier.objects.bulk_create(
                WarehouseCarrier(
                    warehouse=warehouse,
                    service=service,
                    is_default=code
                    == (COLD_DEFAULT_SERVICE if warehouse.cold_chain else DEFAULT_SERVICE),
                )
                for warehouse in warehouses
            )

    def _historic_decisions(self, merchant: Merchant) -> None:
        """A routed decision for each shipped historic order that has none (back-dated)."""
        shipments = list(
            Shipment.objects.filter(
                order__merchant=merchant,
                order__external_id__startswith="H",
                order__routing_decisions__isnull=True,
            )
            .select_related("warehouse", "order")
            .order_by("pk")
        )
        if not shipments:
            return
        lanes = {
            (lane.warehouse_id, lane.region): lane
            for lane in Lane.objects.filter(warehouse__merchant=merchant)
        }
        lines: dict[int, list[dict]] = {}
        for order_id, sku, quantity in OrderLine.objects.filter(
            order__in=[s.order_id for s in shipments]
        ).values_list("order_id", "sku", "quantity"):
            lines.setdefault(order_id, []).append({"sku": sku, "quantity": quantity})
        profile = RoutingProfile.objects.filter(is_default=True).first()
        decisions = []
        for shipment in shipments:
            order, warehouse = shipment.order, shipment.warehouse
            lane = lanes.get((warehouse.pk, order.region))
            if lane is None:
                continue
            units = sum(line["quantity"] for line in lines.get(order.pk, []))
            cost = (
                lane.shipping_cost
                + warehouse.handling_cost_per_shipment
                + warehouse.handling_cost_per_unit * units
            )
            decisions.append(
                RoutingDecision(
                    order=order,
                    outcome=RoutingDecision.Outcome.ROUTED,
                    profile=profile,
                    profile_name=profile.name if profile else "built-in",
                    profile_version=profile.version if profile else 0,
                    method="history",
                    cost=cost,
                    shipments=[
                        {
                            "warehouse": warehouse.code,
                            "cost": float(cost),
                            "transit_hours": lane.transit_hours,
                            "lines": lines.get(order.pk, []),
                        }
                    ],
                )
            )
        created = RoutingDecision.objects.bulk_create(decisions)
        placed = {s.order_id: s.order.placed_at for s in shipments}
        for decision in created:
            decision.created_at = placed[decision.order_id] + timedelta(minutes=2)
        RoutingDecision.objects.bulk_update(created, ["created_at"], batch_size=500)

    def _live_orders(self, merchant, channels, products, rng) -> None:
        """Recent orders through the real services: created, routed (stock held), some released."""
        for number in range(LIVE_ORDERS_PER_MERCHANT):
            external_id = f"L{number:04d}"
            if Order.objects.filter(merchant=merchant, external_id=external_id).exists():
                continue
            name, province, city, district, street = rng.choice(CUSTOMERS)
            chosen = rng.sample(products, k=rng.choice([1, 1, 2]))
            order = order_create(
                merchant=merchant,
                channel=rng.choice(channels),
                external_id=external_id,
                lines=[LineInput(p, rng.choice([1, 2]), p.unit_value) for p in chosen],
                address=AddressInput(
                    receiver_name=name,
                    receiver_phone=f"139{rng.randint(10000000, 99999999)}",
                    province=province,
                    city=city,
                    district=district,
                    address_line=street,
                ),
                actor="demo",
                promised_at=timezone.now() + timedelta(hours=48),
            )
            # Already routed when Celery is eager; idempotent.
            routed = order_route(order_id=order.pk)
            assert routed is not None  # created just above
            if routed.status == OrderStatus.ROUTED and number % 3 == 0:
                order_release(order=routed, actor="demo")
