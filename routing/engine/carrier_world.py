"""Carrier services on a generated day: provinces, parcel weights and five made-up carriers.

``with_carriers(scenario, seed)`` turns a generated day (``scenario.generate``) into one where
every warehouse picks up with carrier services priced like Chinese express rate cards, orders
and warehouses carry their province and city, SKUs weigh something, and an orange storm sits
over two provinces for the afternoon. ``default_carrier_only(scenario)`` is the same day with
each warehouse's usual service only (its daily cap kept; ``lift_cap=True`` lifts it):
warehouse-only routing, the comparator for carrier choice.

Rate cards (stated inputs, shaped like published price lists, not fitted to anything): the
destination's zone is the distance from the warehouse to the destination province's main city -
zone 1 within the province, 2 up to 600 km, 3 up to 1,200 km, 4 up to 2,000 km, 5 beyond; each
carrier has a first-kg price, a price per further kg, planned hours and an on-time rate per
zone; remote provinces pay a surcharge. Same-day couriers deliver only in their own city.
Zone figures per carrier are jittered per warehouse (+-8 %) so lanes are not all alike.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

from routing.engine.factors import haversine_km
from routing.engine.problem import (
    CarrierLane,
    CarrierService,
    Node,
    Order,
    ServiceLevel,
    Temperature,
)
from routing.engine.scenario import CITIES, Disruption, Scenario, Sku
from routing.engine.zones import zone

CITY_PROVINCE: dict[str, str] = {
    "Shanghai": "Shanghai",
    "Hangzhou": "Zhejiang",
    "Suzhou": "Jiangsu",
    "Nanjing": "Jiangsu",
    "Hefei": "Anhui",
    "Ningbo": "Zhejiang",
    "Jinan": "Shandong",
    "Qingdao": "Shandong",
    "Wuxi": "Jiangsu",
    "Beijing": "Beijing",
    "Tianjin": "Tianjin",
    "Shijiazhuang": "Hebei",
    "Taiyuan": "Shanxi",
    "Baoding": "Hebei",
    "Tangshan": "Hebei",
    "Hohhot": "Inner Mongolia",
    "Guangzhou": "Guangdong",
    "Shenzhen": "Guangdong",
    "Dongguan": "Guangdong",
    "Foshan": "Guangdong",
    "Xiamen": "Fujian",
    "Fuzhou": "Fujian",
    "Nanning": "Guangxi",
    "Haikou": "Hainan",
    "Chengdu": "Sichuan",
    "Chongqing": "Chongqing",
    "Xi'an": "Shaanxi",
    "Kunming": "Yunnan",
    "Guiyang": "Guizhou",
    "Lanzhou": "Gansu",
}
REMOTE_PROVINCES = frozenset({"Inner Mongolia", "Hainan", "Gansu", "Xinjiang", "Tibet", "Qinghai"})

# Per carrier: level, capability, volumetric divisor, daily parcels per warehouse, remote
# surcharge, and per zone 1..5: (first kg CNY, each further kg CNY, planned hours, on-time).
CARRIERS: dict[str, dict[str, Any]] = {
    "PINE": {
        "carrier": "Pinecrest",
        "name": "Pinecrest Economy",
        "level": ServiceLevel.ECONOMY,
        "divisor": 8000.0,
        "capacity": 900,
        "surcharge": 6.0,
        "zones": [
            (8.0, 1.0, 26, 0.965),
            (9.0, 2.0, 38, 0.96),
            (10.0, 3.0, 50, 0.955),
            (12.0, 4.0, 62, 0.95),
            (15.0, 6.0, 76, 0.94),
        ],
    },
    "REDB": {
        "carrier": "Redbridge",
        "name": "Redbridge Economy",
        "level": ServiceLevel.ECONOMY,
        "divisor": 8000.0,
        "capacity": 700,
        "surcharge": 8.0,
        "zones": [
            (8.5, 1.5, 24, 0.97),
            (9.5, 2.0, 34, 0.965),
            (11.0, 2.5, 46, 0.96),
            (13.0, 3.5, 58, 0.955),
            (16.0, 5.0, 72, 0.945),
        ],
    },
    "KITE": {
        "carrier": "Swiftkite",
        "name": "Swiftkite Air Express",
        "level": ServiceLevel.EXPRESS,
        "divisor": 6000.0,
        "capacity": 500,
        "surcharge": 10.0,
        "zones": [
            (13.0, 2.0, 10, 0.985),
            (15.0, 5.0, 16, 0.98),
            (18.0, 8.0, 22, 0.975),
            (20.0, 10.0, 28, 0.97),
            (23.0, 15.0, 34, 0.96),
        ],
    },
    "POLAR": {
        "carrier": "Polar Lantern",
        "name": "Polar Lantern Cold Chain",
        "level": ServiceLevel.COLD_CHAIN,
        "divisor": 6000.0,
        "capacity": 400,
        "surcharge": 12.0,
        "chilled": True,
        "frozen": True,
        # Dense cold-chain trunk lines make it a fast, fairly priced carrier for near zones,
        # so it carries ambient parcels too on an ordinary day.
        "zones": [
            (10.0, 2.0, 14, 0.98),
            (12.0, 4.0, 20, 0.975),
            (16.0, 7.0, 30, 0.97),
            (20.0, 10.0, 42, 0.96),
            (23.0, 14.0, 56, 0.95),
        ],
    },
    "BEE": {
        "carrier": "Citybee",
        "name": "Citybee Same-Day",
        "level": ServiceLevel.SAME_DAY,
        "divisor": 5000.0,
        "capacity": 250,
        "surcharge": 0.0,
        "same_city": True,
        "zones": [(12.0, 2.0, 4, 0.99)],
    },
}
DEFAULT_SERVICE = "PINE"
COLD_DEFAULT_SERVICE = "POLAR"


def province_points() -> dict[str, tuple[float, float]]:
    """Each province's main city (the first listed in ``CITIES``)."""
    points: dict[str, tuple[float, float]] = {}
    for cities in CITIES.values():
        for city, lat, lon in cities:
            points.setdefault(CITY_PROVINCE[city], (lat, lon))
    return points


def _nearest_city(region: str, lat: float, lon: float) -> str:
    return min(CITIES[region], key=lambda c: haversine_km(lat, lon, c[1], c[2]))[0]


def _services_for(
    node: Node, city: str, province: str, rng: random.Random
) -> tuple[CarrierService, ...]:
    points = province_points()
    services = []
    for code, spec in CARRIERS.items():
        jitter = rng.uniform(0.92, 1.08)
        lanes: dict[str, CarrierLane] = {}
        if spec.get("same_city"):
            first, extra, hours, on_time = spec["zones"][0]
            lanes[province] = CarrierLane(
                round(first * jitter, 2), extra, hours, on_time_rate=on_time
            )
            same_city = city
        else:
            same_city = ""
            for dest, (lat, lon) in points.items():
                km = haversine_km(node.latitude, node.longitude, lat, lon)
                first, extra, hours, on_time = spec["zones"][zone(km, dest == province) - 1]
                lanes[dest] = CarrierLane(
                    first_price=round(first * jitter, 2),
                    additional_per_kg=round(extra * jitter, 2),
                    transit_hours=round(hours * rng.uniform(0.95, 1.05), 1),
                    on_time_rate=round(min(0.999, on_time + rng.uniform(-0.005, 0.005)), 4),
                    surcharge=spec["surcharge"] if dest in REMOTE_PROVINCES else 0.0,
                )
        default = code == (COLD_DEFAULT_SERVICE if node.cold_chain else DEFAULT_SERVICE)
        services.append(
            CarrierService(
                code=code,
                carrier=spec["carrier"],
                name=spec["name"],
                level=spec["level"],
                chilled=spec.get("chilled", False),
                frozen=spec.get("frozen", False),
                volumetric_divisor=spec["divisor"],
                daily_capacity_orders=spec["capacity"],
                remaining_capacity_orders=spec["capacity"],
                default=default,
                same_city=same_city,
                lanes=lanes,
            )
        )
    return tuple(services)


def _weigh(sku: Sku, rng: random.Random) -> Sku:
    """A unit weight of 0.2-4 kg (log-uniform); one SKU in six is bulky (volumetric)."""
    weight = round(math.exp(rng.uniform(math.log(0.2), math.log(4.0))), 2)
    density = rng.uniform(0.08, 0.2) if rng.random() < 1 / 6 else rng.uniform(0.4, 1.2)
    if sku.temperature is not Temperature.AMBIENT:
        density = max(density, 0.5)  # chilled goods come in insulated boxes, not bulky ones
    return replace(sku, weight_kg=weight, volume_litres=round(weight / density, 2))


def with_carriers(
    scenario: Scenario, seed: int | None = None, *, storm_provinces: int = 2
) -> Scenario:
    """``scenario`` with carrier services, provinces, parcel weights and a provincial storm.

    The storm: an orange alert over the ``storm_provinces`` provinces with the most orders,
    13:00-19:00 (on top of the day's other disruptions).
    """
    rng = random.Random(f"carriers:{seed if seed is not None else scenario.seed}")
    skus = tuple(_weigh(sku, rng) for sku in scenario.skus)
    by_sku = {sku.sku: sku for sku in skus}
    nodes = []
    for node in scenario.nodes:
        city = _nearest_city(node.region, node.latitude, node.longitude)
        province = CITY_PROVINCE[city]
        nodes.append(
            replace(
                node,
                province=province,
                city=city,
                services=_services_for(node, city, province, rng),
            )
        )
    orders = []
    counts: dict[str, int] = {}
    for order in scenario.orders:
        city = _nearest_city(order.region, order.latitude, order.longitude)
        province = CITY_PROVINCE[city]
        counts[province] = counts.get(province, 0) + 1
        lines = tuple(
            replace(
                line,
                unit_weight_kg=by_sku[line.sku].weight_kg,
                unit_volume_litres=by_sku[line.sku].volume_litres,
            )
            for line in order.lines
        )
        orders.append(replace(order, province=province, city=city, lines=lines))
    stormy = sorted(counts, key=lambda p: -counts[p])[:storm_provinces]
    storms = tuple(
        Disruption("weather", 13.0, 19.0, region=province, level=3, reason="orange storm alert")
        for province in stormy
    )
    return replace(
        scenario,
        name=f"{scenario.name}+carriers",
        nodes=tuple(nodes),
        skus=skus,
        orders=tuple(orders),
        disruptions=scenario.disruptions + storms,
        notes=(*scenario.notes, f"carriers: {len(CARRIERS)}; storm over {', '.join(stormy)}"),
    )


def storm_provinces(scenario: Scenario) -> tuple[str, ...]:
    """Provinces under a weather alert of orange or worse at some hour of the day."""
    known = {node.province for node in scenario.nodes} | {o.province for o in scenario.orders}
    return tuple(
        sorted(
            {
                d.region
                for d in scenario.disruptions
                if d.kind == "weather" and d.level >= 3 and d.region in known and d.region
            }
        )
    )


def default_carrier_only(scenario: Scenario, *, lift_cap: bool = False) -> Scenario:
    """The same day with each warehouse's default service only (warehouse-only routing).

    By default the default service keeps its own daily cap: the same world, carriers and caps as
    carrier routing has, only the choice of service is gone. With ``lift_cap`` it takes all of
    the warehouse's parcels whatever its cap (a warehouse that ships with one carrier contracts
    that carrier for its whole volume): a comparator with more parcel slots than the world has,
    so the comparison is about prices and times alone.
    """
    nodes = tuple(
        replace(
            node,
            services=(
                replace(
                    node.default_service,
                    daily_capacity_orders=None,
                    remaining_capacity_orders=None,
                )
                if lift_cap
                else node.default_service,
            ),
        )
        if node.default_service
        else node
        for node in scenario.nodes
    )
    suffix = "default-carrier, cap lifted" if lift_cap else "default-carrier"
    return replace(scenario, name=f"{scenario.name}/{suffix}", nodes=nodes)


def order_lookup(scenario: Scenario) -> dict[str, Order]:
    return {order.order_id: order for order in scenario.orders}
