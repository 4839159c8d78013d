"""Scenario files for what-if simulation, and a seeded generator of peak-day scenarios.

A scenario is a network (warehouses with stock, costs, capacity), a SKU catalogue, the orders
of a period with their arrival time, and disruptions (a node paused at t, weather alerts,
carrier capacity caps). ``scenario_to_dict`` / ``scenario_from_dict`` give the JSON form
documented in ``docs/scenarios.md``; ``generate`` builds a realistic peak day over East, North,
South and West China.

Generator model (all figures are inputs here, not outputs): per region one regional
distribution centre (automated, low handling cost, broad range, cold chain), one supplier
drop-ship node (ambient only, cheap handling, slow) and local front warehouses in the big cities
(fast, but manual and small, so dearer to handle; narrower range; some with cold chain). Parcel
prices and transit times come from great-circle distance to the destination region's cities;
promises are 12 h for express orders (20 %), 24 h for next-day and chilled/frozen orders,
48 h otherwise. Demand follows a
double-peak day curve (midnight sale start, evening) with Zipf-popular SKUs. One cold-chain
local warehouse fails mid-day and is paused for the rest of the day.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from routing.engine.factors import haversine_km
from routing.engine.problem import (
    CarrierLane,
    CarrierService,
    Node,
    NodeKind,
    Order,
    OrderLine,
    ServiceLevel,
    StockBatch,
    Temperature,
)

FORMAT = "oms-routing-scenario/1"
EXPRESS_HOURS = 12.0

CITIES: dict[str, list[tuple[str, float, float]]] = {
    "East": [
        ("Shanghai", 31.23, 121.47),
        ("Hangzhou", 30.27, 120.15),
        ("Suzhou", 31.30, 120.58),
        ("Nanjing", 32.06, 118.80),
        ("Hefei", 31.82, 117.23),
        ("Ningbo", 29.87, 121.54),
        ("Jinan", 36.65, 117.12),
        ("Qingdao", 36.07, 120.38),
        ("Wuxi", 31.49, 120.31),
    ],
    "North": [
        ("Beijing", 39.90, 116.40),
        ("Tianjin", 39.13, 117.20),
        ("Shijiazhuang", 38.04, 114.51),
        ("Taiyuan", 37.87, 112.55),
        ("Baoding", 38.87, 115.46),
        ("Tangshan", 39.63, 118.18),
        ("Hohhot", 40.84, 111.75),
    ],
    "South": [
        ("Guangzhou", 23.13, 113.26),
        ("Shenzhen", 22.54, 114.06),
        ("Dongguan", 23.02, 113.75),
        ("Foshan", 23.02, 113.12),
        ("Xiamen", 24.48, 118.09),
        ("Fuzhou", 26.07, 119.30),
        ("Nanning", 22.82, 108.32),
        ("Haikou", 20.04, 110.34),
    ],
    "West": [
        ("Chengdu", 30.57, 104.07),
        ("Chongqing", 29.56, 106.55),
        ("Xi'an", 34.34, 108.94),
        ("Kunming", 25.04, 102.71),
        ("Guiyang", 26.65, 106.63),
        ("Lanzhou", 36.06, 103.83),
    ],
}
DEMAND_SHARE = {"East": 0.36, "South": 0.28, "North": 0.21, "West": 0.15}

# Per node kind: parcel base price and CNY/km, handling per parcel and per unit, transit base
# hours and km/h of the line haul, historic on-time rate.
KIND_ECONOMICS = {
    # Front warehouses: intra-city couriers are cheap, but picking in small, manual, city-centre
    # sites costs about 2.5x a regional DC per parcel (rent, labour, no automation).
    NodeKind.LOCAL: {
        "base": 4.8,
        "per_km": 0.006,
        "parcel": 6.0,
        "unit": 1.2,
        "hours": 4.0,
        "kmh": 70,
        "on_time": 0.997,
    },
    NodeKind.REGIONAL: {
        "base": 6.0,
        "per_km": 0.006,
        "parcel": 2.2,
        "unit": 0.4,
        "hours": 8.0,
        "kmh": 70,
        "on_time": 0.996,
    },
    NodeKind.SUPPLIER: {
        "base": 6.5,
        "per_km": 0.006,
        "parcel": 5.0,
        "unit": 0.3,
        "hours": 26.0,
        "kmh": 60,
        "on_time": 0.96,
    },
}


@dataclass(frozen=True)
class Sku:
    sku: str
    temperature: Temperature
    unit_value: float
    weight_kg: float = 0.0
    volume_litres: float = 0.0


@dataclass(frozen=True)
class Disruption:
    """A node paused, a weather alert or a carrier capacity cap over [start_hour, end_hour)."""

    kind: str  # "node_paused" | "weather" | "carrier_cap"
    start_hour: float
    end_hour: float | None = None
    node: str | None = None
    region: str | None = None
    level: int = 0  # weather alert level 0..4
    saturation: float = 0.0  # carrier saturation 0..1
    reason: str = ""

    def active_at(self, hour: float) -> bool:
        return self.start_hour <= hour and (self.end_hour is None or hour < self.end_hour)


@dataclass(frozen=True)
class Scenario:
    """Everything a replay needs. ``nodes`` carry the stock and capacity at the start."""

    name: str
    nodes: tuple[Node, ...]
    skus: tuple[Sku, ...]
    orders: tuple[Order, ...]
    disruptions: tuple[Disruption, ...] = ()
    start: datetime = datetime(2026, 12, 12)
    horizon_hours: float = 24.0
    fault_delay_hours: float = 19.6
    seed: int = 0
    notes: tuple[str, ...] = field(default=())


def _lane_to_dict(lane: CarrierLane) -> dict[str, Any]:
    return {
        "first_weight_kg": lane.first_weight_kg,
        "first_price": lane.first_price,
        "additional_per_kg": lane.additional_per_kg,
        "transit_hours": lane.transit_hours,
        "on_time_rate": lane.on_time_rate,
        "surcharge": lane.surcharge,
    }


def _service_to_dict(service: CarrierService) -> dict[str, Any]:
    return {
        "code": service.code,
        "carrier": service.carrier,
        "name": service.name,
        "level": service.level.value,
        "chilled": service.chilled,
        "frozen": service.frozen,
        "volumetric_divisor": service.volumetric_divisor,
        "daily_capacity_orders": service.daily_capacity_orders,
        "default": service.default,
        "same_city": service.same_city,
        "lanes": {dest: _lane_to_dict(lane) for dest, lane in service.lanes.items()},
    }


def _service_from_dict(data: dict[str, Any]) -> CarrierService:
    capacity = data.get("daily_capacity_orders")
    return CarrierService(
        code=data["code"],
        carrier=data.get("carrier", data["code"]),
        name=data.get("name", ""),
        level=ServiceLevel(data.get("level", "economy")),
        chilled=bool(data.get("chilled", False)),
        frozen=bool(data.get("frozen", False)),
        volumetric_divisor=float(data.get("volumetric_divisor", 8000)),
        daily_capacity_orders=capacity,
        remaining_capacity_orders=capacity,
        default=bool(data.get("default", False)),
        same_city=data.get("same_city", ""),
        lanes={
            dest: CarrierLane(
                first_price=float(lane["first_price"]),
                additional_per_kg=float(lane.get("additional_per_kg", 0)),
                transit_hours=float(lane["transit_hours"]),
                first_weight_kg=float(lane.get("first_weight_kg", 1)),
                on_time_rate=float(lane.get("on_time_rate", 0.97)),
                surcharge=float(lane.get("surcharge", 0)),
            )
            for dest, lane in data.get("lanes", {}).items()
        },
    )


def _node_to_dict(node: Node) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if node.province or node.city:
        extra["province"], extra["city"] = node.province, node.city
    if node.services:
        extra["services"] = [_service_to_dict(service) for service in node.services]
    return extra | {
        "code": node.code,
        "name": node.name,
        "region": node.region,
        "latitude": node.latitude,
        "longitude": node.longitude,
        "kind": node.kind.value,
        "cold_chain": node.cold_chain,
        "daily_capacity_units": node.daily_capacity_units,
        "daily_capacity_orders": node.remaining_capacity_orders,
        "handling_cost_per_shipment": node.handling_cost_per_shipment,
        "handling_cost_per_unit": node.handling_cost_per_unit,
        "on_time_rate": node.on_time_rate,
        "shipping_cost_by_region": dict(node.shipping_cost_by_region),
        "transit_hours_by_region": dict(node.transit_hours_by_region),
        "stock": [
            {"sku": b.sku, "quantity": b.quantity, "expires_in_days": b.expires_in_days}
            for b in node.stock
        ],
    }


def _node_from_dict(data: dict[str, Any]) -> Node:
    return Node(
        code=data["code"],
        name=data.get("name", ""),
        region=data["region"],
        latitude=float(data["latitude"]),
        longitude=float(data["longitude"]),
        kind=NodeKind(data.get("kind", "local")),
        cold_chain=bool(data.get("cold_chain", False)),
        daily_capacity_units=data.get("daily_capacity_units"),
        remaining_capacity_units=data.get("daily_capacity_units"),
        remaining_capacity_orders=data.get("daily_capacity_orders"),
        handling_cost_per_shipment=float(data.get("handling_cost_per_shipment", 0)),
        handling_cost_per_unit=float(data.get("handling_cost_per_unit", 0)),
        on_time_rate=float(data.get("on_time_rate", 0.97)),
        shipping_cost_by_region={
            k: float(v) for k, v in data.get("shipping_cost_by_region", {}).items()
        },
        transit_hours_by_region={
            k: float(v) for k, v in data.get("transit_hours_by_region", {}).items()
        },
        stock=tuple(
            StockBatch(b["sku"], int(b["quantity"]), b.get("expires_in_days"))
            for b in data.get("stock", ())
        ),
        province=data.get("province", ""),
        city=data.get("city", ""),
        services=tuple(_service_from_dict(service) for service in data.get("services", ())),
    )


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The JSON-ready form of ``scenario`` (see docs/scenarios.md)."""
    return {
        "format": FORMAT,
        "name": scenario.name,
        "seed": scenario.seed,
        "start": scenario.start.isoformat(),
        "horizon_hours": scenario.horizon_hours,
        "fault_delay_hours": scenario.fault_delay_hours,
        "notes": list(scenario.notes),
        "skus": [
            {"sku": s.sku, "temperature": s.temperature.value, "unit_value": s.unit_value}
            | (
                {"weight_kg": s.weight_kg, "volume_litres": s.volume_litres}
                if s.weight_kg or s.volume_litres
                else {}
            )
            for s in scenario.skus
        ],
        "warehouses": [_node_to_dict(n) for n in scenario.nodes],
        "orders": [
            {
                "order_id": o.order_id,
                "created_hour": o.created_hour,
                "region": o.region,
                "latitude": o.latitude,
                "longitude": o.longitude,
                "promised_hours": o.promised_hours,
                "vip": o.vip,
                "lines": [{"sku": li.sku, "quantity": li.quantity} for li in o.lines],
            }
            | ({"province": o.province, "city": o.city} if o.province or o.city else {})
            for o in scenario.orders
        ],
        "disruptions": [
            {
                key: value
                for key, value in {
                    "kind": d.kind,
                    "start_hour": d.start_hour,
                    "end_hour": d.end_hour,
                    "node": d.node,
                    "region": d.region,
                    "level": d.level if d.kind == "weather" else None,
                    "saturation": d.saturation if d.kind == "carrier_cap" else None,
                    "reason": d.reason or None,
                }.items()
                if value is not None
            }
            for d in scenario.disruptions
        ],
    }


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Parse the JSON form; raises ValueError on an unknown format or unknown SKU."""
    if data.get("format", FORMAT) != FORMAT:
        raise ValueError(f"unsupported scenario format {data.get('format')!r}")
    skus = tuple(
        Sku(
            s["sku"],
            Temperature(s.get("temperature", "ambient")),
            float(s.get("unit_value", 0)),
            float(s.get("weight_kg", 0)),
            float(s.get("volume_litres", 0)),
        )
        for s in data["skus"]
    )
    by_sku = {s.sku: s for s in skus}
    orders = []
    for o in data["orders"]:
        lines = []
        for li in o["lines"]:
            if li["sku"] not in by_sku:
                raise ValueError(f"order {o['order_id']}: unknown SKU {li['sku']!r}")
            sku = by_sku[li["sku"]]
            lines.append(
                OrderLine(
                    sku.sku,
                    int(li["quantity"]),
                    sku.temperature,
                    sku.unit_value,
                    sku.weight_kg,
                    sku.volume_litres,
                )
            )
        orders.append(
            Order(
                order_id=str(o["order_id"]),
                region=o["region"],
                latitude=float(o["latitude"]),
                longitude=float(o["longitude"]),
                lines=tuple(lines),
                promised_hours=float(o.get("promised_hours", 48)),
                vip=bool(o.get("vip", False)),
                created_hour=float(o.get("created_hour", 0)),
                province=o.get("province", ""),
                city=o.get("city", ""),
            )
        )
    return Scenario(
        name=data.get("name", "scenario"),
        nodes=tuple(_node_from_dict(n) for n in data["warehouses"]),
        skus=skus,
        orders=tuple(sorted(orders, key=lambda order: order.created_hour)),
        disruptions=tuple(
            Disruption(
                kind=d["kind"],
                start_hour=float(d["start_hour"]),
                end_hour=None if d.get("end_hour") is None else float(d["end_hour"]),
                node=d.get("node"),
                region=d.get("region"),
                level=int(d.get("level", 0)),
                saturation=float(d.get("saturation", 0)),
                reason=d.get("reason", ""),
            )
            for d in data.get("disruptions", ())
        ),
        start=datetime.fromisoformat(data.get("start", "2026-12-12T00:00:00")),
        horizon_hours=float(data.get("horizon_hours", 24)),
        fault_delay_hours=float(data.get("fault_delay_hours", 19.6)),
        seed=int(data.get("seed", 0)),
        notes=tuple(data.get("notes", ())),
    )


def _mean_distance_to_region(lat: float, lon: float, region: str) -> float:
    cities = CITIES[region]
    weights = [1.0 / (i + 1) for i in range(len(cities))]  # bigger cities first, more demand
    return sum(
        w * haversine_km(lat, lon, c[1], c[2]) for w, c in zip(weights, cities, strict=True)
    ) / sum(weights)


def _arrival_hour(rng: random.Random) -> float:
    """Double-peak day: the midnight sale start and the evening (mixture of three bumps)."""
    pick = rng.random()
    if pick < 0.30:
        hour = abs(rng.gauss(0.0, 1.5))
    elif pick < 0.70:
        hour = rng.gauss(20.5, 2.0)
    else:
        hour = rng.uniform(0, 24)
    return min(max(hour, 0.0), 23.999)


def _plan_nodes(warehouses: int) -> list[tuple[str, NodeKind, tuple[str, float, float]]]:
    if warehouses < 12:
        raise ValueError("need at least 12 warehouses (3 per region)")
    plan = []
    for region, cities in CITIES.items():
        plan.append((region, NodeKind.REGIONAL, cities[min(2, len(cities) - 1)]))
        plan.append((region, NodeKind.SUPPLIER, cities[-1]))
    locals_left = warehouses - len(plan)
    share = sorted(DEMAND_SHARE.items(), key=lambda item: -item[1])
    counts = {region: 0 for region in CITIES}
    for _ in range(locals_left):
        # Hand out local warehouses in proportion to demand (largest remainder).
        region = max(share, key=lambda item: item[1] * locals_left - counts[item[0]])[0]
        counts[region] += 1
    for region, count in counts.items():
        cities = CITIES[region]
        for j in range(count):
            plan.append((region, NodeKind.LOCAL, cities[j % len(cities)]))
    return plan


def generate(
    seed: int = 7,
    warehouses: int = 30,
    orders: int = 10_000,
    fault: str | None = "auto",
    *,
    skus: int = 160,
    fault_hour: float = 11.0,
    weather: bool = True,
) -> Scenario:
    """A seeded peak-day scenario (see the module docstring for the model behind the figures).

    ``fault``: the code of the warehouse whose cold chain fails at ``fault_hour`` (it is paused
    for the rest of the day), "auto" for the busiest cold-chain local warehouse in East China,
    or None for no fault. ``weather`` adds an orange alert in North China in the afternoon and a
    carrier capacity cap in South China in the evening peak.

    One random stream feeds the catalogue, then the orders, then the nodes, in that order, so
    a seed always gives the same day.
    """
    rng = random.Random(seed)
    catalogue = _generate_catalogue(rng, skus)
    popularity = [1.0 / (i + 1) ** 0.9 for i in range(skus)]
    # Orders first, so stock and capacity can be sized to the expected demand per region.
    order_list, demand_units = _generate_orders(rng, orders, catalogue, popularity)
    nodes = _generate_nodes(rng, _plan_nodes(warehouses), catalogue, popularity, demand_units)
    disruptions = _disruptions(nodes, fault, fault_hour, weather=weather)
    storms = [
        d
        for d in disruptions
        if (d.kind == "weather" and d.level >= 3)
        or (d.kind == "carrier_cap" and d.saturation >= 0.9)
    ]
    order_list = [
        _checkout_promise(
            order,
            nodes,
            express_suspended=any(
                d.region == order.region and d.active_at(order.created_hour) for d in storms
            ),
        )
        for order in order_list
    ]
    return Scenario(
        name=f"peak-day-s{seed}-w{warehouses}-o{orders}",
        nodes=tuple(nodes),
        skus=tuple(catalogue),
        orders=tuple(order_list),
        disruptions=tuple(disruptions),
        seed=seed,
    )


def _generate_catalogue(rng: random.Random, skus: int) -> list[Sku]:
    """``skus`` SKUs: 70 % ambient, 20 % chilled, 10 % frozen; log-normal unit values."""
    catalogue = []
    for i in range(skus):
        draw = rng.random()
        temperature = (
            Temperature.AMBIENT
            if draw < 0.7
            else Temperature.CHILLED
            if draw < 0.9
            else Temperature.FROZEN
        )
        catalogue.append(Sku(f"SKU{i:04d}", temperature, round(math.exp(rng.gauss(3.6, 0.7)), 2)))
    return catalogue


def _generate_orders(
    rng: random.Random, orders: int, catalogue: list[Sku], popularity: list[float]
) -> tuple[list[Order], dict[str, dict[str, float]]]:
    """The day's orders by arrival hour, and the units demanded per region and SKU."""
    skus = len(catalogue)
    regions = list(DEMAND_SHARE)
    order_list: list[Order] = []
    demand_units: dict[str, dict[str, float]] = {r: {} for r in regions}
    for i in range(orders):
        region = rng.choices(regions, weights=[DEMAND_SHARE[r] for r in regions])[0]
        cities = CITIES[region]
        city = rng.choices(cities, weights=[1.0 / (j + 1) for j in range(len(cities))])[0]
        n_lines = rng.choices([1, 2, 3, 4, 5], weights=[38, 30, 18, 9, 5])[0]
        chosen: set[int] = set()
        while len(chosen) < n_lines:
            chosen.add(rng.choices(range(skus), weights=popularity)[0])
        lines = []
        for index in sorted(chosen):
            sku = catalogue[index]
            qty = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]
            lines.append(OrderLine(sku.sku, qty, sku.temperature, sku.unit_value))
            demand_units[region][sku.sku] = demand_units[region].get(sku.sku, 0) + qty
        cold = any(li.temperature.needs_cold_chain for li in lines)
        tier = rng.random()
        # Express (12 h) is only offered at checkout when a front warehouse can make it; that is
        # decided below, once the network exists. 24 h: chilled/frozen and next-day orders.
        promised = EXPRESS_HOURS if tier < 0.2 else 24.0 if (cold or tier < 0.5) else 48.0
        order_list.append(
            Order(
                order_id=f"O{i:06d}",
                region=region,
                latitude=round(city[1] + rng.uniform(-0.2, 0.2), 4),
                longitude=round(city[2] + rng.uniform(-0.2, 0.2), 4),
                lines=tuple(lines),
                promised_hours=promised,
                vip=rng.random() < 0.03,
                created_hour=round(_arrival_hour(rng), 4),
            )
        )
    order_list.sort(key=lambda order: order.created_hour)
    return order_list, demand_units


def _generate_nodes(
    rng: random.Random,
    plan: list[tuple[str, NodeKind, tuple[str, float, float]]],
    catalogue: list[Sku],
    popularity: list[float],
    demand_units: dict[str, dict[str, float]],
) -> list[Node]:
    """One node per ``plan`` entry: costs and transit times from distance, capacity and stock
    sized to the region's expected demand."""
    regions = list(DEMAND_SHARE)
    region_units = {r: sum(d.values()) for r, d in demand_units.items()}
    locals_per_region = {
        r: sum(1 for p in plan if p[0] == r and p[1] is NodeKind.LOCAL) for r in regions
    }
    nodes: list[Node] = []
    city_use: dict[str, int] = {}
    for index, (region, kind, (city, lat, lon)) in enumerate(plan):
        econ = KIND_ECONOMICS[kind]
        city_use[city] = city_use.get(city, 0) + 1
        suffix = {NodeKind.REGIONAL: "RDC", NodeKind.SUPPLIER: "Supplier", NodeKind.LOCAL: "FC"}[
            kind
        ]
        name = f"{city} {suffix}" + (f" {city_use[city]}" if city_use[city] > 1 else "")
        cold_chain = kind is NodeKind.REGIONAL or (kind is NodeKind.LOCAL and rng.random() < 0.7)
        shipping, transit = {}, {}
        for dest in regions:
            km = _mean_distance_to_region(lat, lon, dest)
            shipping[dest] = round(econ["base"] + econ["per_km"] * km + rng.uniform(-0.3, 0.3), 2)
            transit[dest] = round(econ["hours"] + km / econ["kmh"] + rng.uniform(0, 1.5), 1)
        capacity, stock = _node_capacity_and_stock(
            rng,
            kind,
            cold_chain=cold_chain,
            region_units=region_units[region],
            locals_in_region=locals_per_region[region],
            demand=demand_units[region],
            catalogue=catalogue,
            popularity=popularity,
        )
        nodes.append(
            Node(
                code=f"WH{index + 1:02d}",
                name=name,
                region=region,
                latitude=lat,
                longitude=lon,
                kind=kind,
                cold_chain=cold_chain,
                daily_capacity_units=capacity,
                remaining_capacity_units=capacity,
                remaining_capacity_orders=None,
                stock=tuple(stock),
                shipping_cost_by_region=shipping,
                transit_hours_by_region=transit,
                handling_cost_per_shipment=round(econ["parcel"] * rng.uniform(0.92, 1.08), 2),
                handling_cost_per_unit=round(econ["unit"] * rng.uniform(0.92, 1.08), 2),
                on_time_rate=round(min(0.999, econ["on_time"] + rng.uniform(-0.004, 0.003)), 4),
            )
        )
    return nodes


def _node_capacity_and_stock(
    rng: random.Random,
    kind: NodeKind,
    *,
    cold_chain: bool,
    region_units: float,
    locals_in_region: int,
    demand: dict[str, float],
    catalogue: list[Sku],
    popularity: list[float],
) -> tuple[int, list[StockBatch]]:
    """A node's daily capacity and stock: regional and local warehouses carry the most popular
    SKUs (cover in days of their share of demand), suppliers a random ambient range."""
    skus = len(catalogue)
    if kind is NodeKind.REGIONAL:
        share, cover = 0.95, (1.6, 2.4)
        capacity = int(region_units * rng.uniform(0.85, 1.0))
    elif kind is NodeKind.LOCAL:
        share, cover = 0.55, (0.5, 1.0)
        capacity = int(region_units * rng.uniform(0.8, 1.0) / max(1, locals_in_region))
    else:
        share, cover = 0.35, (5.0, 5.0)
        capacity = int(region_units * 0.6)
    ranked = sorted(range(skus), key=lambda s: -popularity[s])
    carried = (
        ranked[: int(share * skus)]
        if kind is not NodeKind.SUPPLIER
        else rng.sample(range(skus), int(share * skus))
    )
    stock: list[StockBatch] = []
    for s in carried:
        sku = catalogue[s]
        if sku.temperature.needs_cold_chain and not cold_chain:
            continue
        if kind is NodeKind.SUPPLIER and sku.temperature.needs_cold_chain:
            continue
        expected = max(demand.get(sku.sku, 0.0), 1.0)
        if kind is NodeKind.LOCAL:
            expected /= max(1, locals_in_region)
        quantity = max(1, int(expected * rng.uniform(*cover)))
        stock.extend(_split_batches(sku, quantity, rng))
    return capacity, stock


def _disruptions(
    nodes: list[Node], fault: str | None, fault_hour: float, *, weather: bool
) -> list[Disruption]:
    """The day's cold-chain fault (``fault``, see :func:`generate`) and weather events."""
    disruptions: list[Disruption] = []
    if fault == "auto":
        east_cold = [
            n for n in nodes if n.region == "East" and n.kind is NodeKind.LOCAL and n.cold_chain
        ]
        fault = east_cold[0].code if east_cold else None
    if fault is not None:
        if fault not in {n.code for n in nodes}:
            raise ValueError(f"unknown fault warehouse {fault!r}")
        disruptions.append(
            Disruption("node_paused", start_hour=fault_hour, node=fault, reason="cold-chain fault")
        )
    if weather:
        disruptions.append(
            Disruption("weather", 13.0, 19.0, region="North", level=3, reason="orange storm alert")
        )
        disruptions.append(
            Disruption(
                "carrier_cap",
                19.0,
                23.0,
                region="South",
                saturation=0.95,
                reason="carrier peak cap",
            )
        )
    return disruptions


def _checkout_promise(order: Order, nodes: list[Node], *, express_suspended: bool) -> Order:
    """The promise checkout would show, from where the lines are in stock (an ATP promise).

    Express (12 h) stays only if a front warehouse in the region holds every line and reaches the
    region within 10 h, and neither an orange-or-worse storm alert nor a carrier cap (>= 90 %) is
    active there (platforms suspend express then). Otherwise the promise is the requested tier, raised to the first of 24 /
    48 / 72 h that the slowest line can make with 2 h to spare (a line held only by a distant
    drop-ship supplier gets 48 or 72 h).
    """
    if order.promised_hours == EXPRESS_HOURS and not express_suspended:
        for node in nodes:
            if (
                node.kind is NodeKind.LOCAL
                and node.region == order.region
                and node.transit_hours_by_region[order.region] <= 10.0
                and (node.cold_chain or not order.needs_cold_chain)
                and all(_held(node, line.sku) >= line.quantity for line in order.lines)
            ):
                return order
    slowest = 0.0
    for line in order.lines:
        reach = [
            node.transit_hours_by_region[order.region]
            for node in nodes
            if _held(node, line.sku) >= line.quantity
            and (node.cold_chain or not line.temperature.needs_cold_chain)
        ]
        slowest = max(slowest, min(reach, default=72.0))
    promise = max(order.promised_hours, 24.0)
    for tier in (24.0, 48.0, 72.0):
        if tier >= promise and slowest <= tier - 2:
            return replace(order, promised_hours=tier)
    return replace(order, promised_hours=72.0)


def _held(node: Node, sku: str) -> int:
    return sum(batch.quantity for batch in node.stock if batch.sku == sku)


def _split_batches(sku: Sku, quantity: int, rng: random.Random) -> list[StockBatch]:
    """One to three batches with expiries typical for the temperature class."""
    temperature = sku.temperature
    days = {
        Temperature.CHILLED: (2.5, 9.0),
        Temperature.FROZEN: (20.0, 200.0),
        Temperature.AMBIENT: (40.0, 400.0),
    }[temperature]
    parts = rng.randint(1, 3) if quantity >= 3 else 1
    cuts = sorted(rng.sample(range(1, quantity), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, quantity]
    batches = []
    for a, b in itertools.pairwise(bounds):
        expiry = (
            None
            if temperature is Temperature.AMBIENT and rng.random() < 0.4
            else round(rng.uniform(*days), 1)
        )
        batches.append(StockBatch(sku.sku, b - a, expiry))
    return batches
