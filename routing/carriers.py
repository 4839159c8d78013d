"""Carrier contracts as the engine sees them: services per warehouse with their lanes.

``engine_services`` turns ``WarehouseCarrier`` / ``CarrierService`` / ``CarrierRate`` rows
into the engine's ``CarrierService`` tuples, one per warehouse, with a ``CarrierLane`` to each
destination province asked for. A lane is the rate card's most specific line for (origin
province, destination province): origin and province, any origin and province, origin and zone,
any origin and zone (zones from the distance between the provinces' capitals,
``routing.engine.zones``). Provinces are keyed by their short Chinese name
(``oms.geo.province_key``), whatever form staff or a CSV used. What a service has left today
is its daily capacity less the parcels the warehouse opened today under the service's name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from django.db.models import Count
from django.utils import timezone

from oms.geo import city_key, province_key, province_keys, province_point
from oms.models import Order, Shipment, Warehouse
from oms.selectors import local_midnight
from routing.engine import problem as p
from routing.engine.factors import haversine_km
from routing.engine.preference import usual_carrier as engine_usual_carrier
from routing.engine.zones import zone
from routing.models import CarrierRate, CarrierService, WarehouseCarrier

# Where parcels pay the remote-area surcharge (short Chinese names).
REMOTE_PROVINCES = frozenset({"新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏", "海南"})
ALL_PROVINCES: tuple[str, ...] = province_keys()


def province_of(value: str) -> str:
    """The key lanes use for a province: its short Chinese name, else the text as given."""
    return province_key(value) or value.strip()


@lru_cache(maxsize=8192)
def lane_zone(origin: str, destination: str) -> int | None:
    """Zone 1..5 between two provinces (None when either is unknown)."""
    if origin == destination:
        return 1
    a, b = province_point(origin), province_point(destination)
    if a is None or b is None:
        return None
    return zone(haversine_km(*a, *b), False)


RateIndex = dict[tuple[str, str, int | None], CarrierRate]


def _pick(by_key: RateIndex, origin: str, destination: str) -> CarrierRate | None:
    """The most specific rate-card line for the lane (see the module docstring)."""
    lane_zone_value = lane_zone(origin, destination)
    for key in (
        (origin, destination, None),
        ("", destination, None),
        (origin, "", lane_zone_value),
        ("", "", lane_zone_value),
    ):
        found = by_key.get(key)
        if found is not None:
            return found
    return None


def _lanes(
    service: CarrierService, by_key: RateIndex, origin: str, wanted: tuple[str, ...]
) -> dict[str, p.CarrierLane]:
    """The service's lanes from ``origin`` to each province of ``wanted`` it has a rate for."""
    lanes = {}
    for destination in wanted:
        if service.same_city_only and destination != origin:
            continue
        rate = _pick(by_key, origin, destination)
        if rate is None:
            continue
        lanes[destination] = p.CarrierLane(
            first_price=float(rate.first_price),
            additional_per_kg=float(rate.additional_per_kg),
            transit_hours=rate.transit_hours,
            first_weight_kg=float(rate.first_weight_kg),
            on_time_rate=rate.on_time_rate,
            surcharge=float(service.remote_surcharge) if destination in REMOTE_PROVINCES else 0.0,
        )
    return lanes


def used_today(warehouse_ids: Iterable[int], start: datetime) -> dict[tuple[int, str], int]:
    """Parcels opened since ``start`` (the merchant's midnight) per (warehouse, carrier label),
    cancelled ones not counted."""
    rows = (
        Shipment.objects.filter(warehouse_id__in=list(warehouse_ids), created_at__gte=start)
        .exclude(status="cancelled")
        .exclude(carrier="")
        .values("warehouse_id", "carrier")
        .annotate(n=Count("id"))
        .values_list("warehouse_id", "carrier", "n")
    )
    return {(wid, carrier): n for wid, carrier, n in rows}


def engine_services(
    warehouses: list[Warehouse],
    *,
    destinations: Iterable[str] | None = None,
    now: datetime | None = None,
    start_of_day: datetime | None = None,
) -> dict[int, tuple[p.CarrierService, ...]]:
    """Per warehouse id, the carrier services picking up there with lanes to ``destinations``
    (province names in any form; None: every province). What a service has left counts the
    parcels since ``start_of_day`` (default: the merchant's midnight before ``now``)."""
    now = now or timezone.now()
    wanted = (
        ALL_PROVINCES
        if destinations is None
        else tuple(dict.fromkeys(province_of(d) for d in destinations if d))
    )
    links = list(
        WarehouseCarrier.objects.filter(
            warehouse__in=warehouses, service__active=True
        ).select_related("service__carrier")
    )
    if not links:
        return {}
    service_ids = {link.service_id for link in links}
    rates: dict[int, RateIndex] = defaultdict(dict)
    for rate in CarrierRate.objects.filter(service_id__in=service_ids):
        origin = province_of(rate.origin_province) if rate.origin_province else ""
        destination = province_of(rate.destination_province) if rate.destination_province else ""
        rates[rate.service_id][(origin, destination, rate.zone)] = rate
    if start_of_day is None:
        start_of_day = local_midnight(warehouses[0].merchant_id, now)
    used = used_today({link.warehouse_id for link in links}, start_of_day)
    by_id = {w.pk: w for w in warehouses}
    out: dict[int, list[p.CarrierService]] = defaultdict(list)
    # Lanes depend on the service and the origin province only: warehouses of one province
    # that share a service share its lanes (the engine never mutates them).
    lanes_of: dict[tuple[int, str], dict[str, p.CarrierLane]] = {}
    for link in links:
        warehouse, service = by_id[link.warehouse_id], link.service
        origin = province_of(warehouse.province)
        lanes = lanes_of.get((service.pk, origin))
        if lanes is None:
            lanes = lanes_of[(service.pk, origin)] = _lanes(
                service, rates[service.pk], origin, wanted
            )
        capacity = service.daily_capacity
        out[warehouse.pk].append(
            p.CarrierService(
                code=service_code(service),
                carrier=service.carrier.name,
                level=p.ServiceLevel(service.level),
                name=service.name,
                lanes=lanes,
                chilled=service.chilled,
                frozen=service.frozen,
                volumetric_divisor=float(service.volumetric_divisor),
                daily_capacity_orders=capacity,
                remaining_capacity_orders=None
                if capacity is None
                else max(0, capacity - used.get((warehouse.pk, service.name), 0)),
                default=link.is_default,
                same_city=city_key(warehouse.city) if service.same_city_only else "",
            )
        )
    return {wid: tuple(services) for wid, services in out.items()}


def service_code(service: CarrierService) -> str:
    """The engine's code of a service: unique per merchant ("carrier/service")."""
    return f"{service.carrier.code}/{service.code}"


def service_names(merchant_id: int) -> dict[str, str]:
    """Engine service code -> name for the merchant's carrier services."""
    return {
        f"{carrier}/{code}": name
        for carrier, code, name in CarrierService.objects.filter(
            carrier__merchant_id=merchant_id
        ).values_list("carrier__code", "code", "name")
    }


def usual_carrier(order: Order) -> str:
    """The carrier the order's customer chose for most past orders, across channels ('': none).

    Past orders are the golden customer's (``customers`` links every channel account to one),
    the order itself excluded; each counts once, by the carrier of its first parcel. A parcel's
    carrier label is a service name or a carrier name; both map to the carrier. "Usual" is
    ``routing.engine.preference.usual_carrier``: at least 3 such orders, a strict majority.
    """
    if not order.customer_id:
        return ""
    names: dict[str, str] = {}
    for service_name, carrier_name, carrier_code in CarrierService.objects.filter(
        carrier__merchant_id=order.merchant_id
    ).values_list("name", "carrier__name", "carrier__code"):
        names[service_name] = carrier_name
        names[carrier_name] = carrier_name
        names[carrier_code] = carrier_name
    firsts: dict[int, str] = {}
    for order_id, label in (
        Shipment.objects.filter(order__customer_id=order.customer_id)
        .exclude(order_id=order.pk)
        .exclude(carrier="")
        .order_by("order_id", "pk")
        .values_list("order_id", "carrier")
    ):
        if order_id not in firsts and label in names:
            firsts[order_id] = names[label]
    return engine_usual_carrier(firsts.values())
