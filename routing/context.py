"""Build the engine's inputs from the database: orders, nodes, live signals and the profile.

This is the only place that knows both the rows and the engine's dataclasses. Stale signals
are made conservative here, before the engine sees them: a reading past its expiry still counts
but never as better than ``STALE_FLOOR`` (a carrier or courier feed that went quiet is assumed
busy, not idle), and an expired weather alert keeps its level for ``WEATHER_GRACE`` (alerts are
lifted by a new reading, not by silence).
"""

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from oms.geo import city_key, province_point, region_point
from oms.models import (
    InventoryBatch,
    Order,
    OrderLine,
    Region,
    Shipment,
    TemperatureClass,
    Warehouse,
    WarehouseKind,
    WarehouseStatus,
)
from oms.selectors import local_midnight
from routing.carriers import engine_services, province_of
from routing.engine import problem as p
from routing.engine.factors import haversine_km
from routing.holds import held_nodes_for
from routing.models import CarrierCapacity, CourierLoad, Lane, RoutingProfile, WeatherAlert

STALE_FLOOR = 0.85
# A warehouse with no lane to a region yet still serves it, at an estimate from distance, so a
# new warehouse works before its carrier contracts are entered (explanations say "estimated").
ESTIMATE_BASE_COST, ESTIMATE_COST_PER_KM = 8.0, 0.004
ESTIMATE_BASE_HOURS, ESTIMATE_KM_PER_HOUR = 12.0, 60.0
ESTIMATE_ON_TIME = 0.93
WEATHER_GRACE = timedelta(hours=6)
_KIND: dict[str, p.NodeKind] = {
    WarehouseKind.STORE: p.NodeKind.LOCAL,
    WarehouseKind.THIRD_PARTY: p.NodeKind.LOCAL,
    WarehouseKind.OWN_DC: p.NodeKind.REGIONAL,
    WarehouseKind.REGIONAL: p.NodeKind.REGIONAL,
    WarehouseKind.DROP_SHIP: p.NodeKind.SUPPLIER,
}


def active_profile(
    *, merchant_id: int | None, now: datetime | None = None
) -> RoutingProfile | None:
    """The profile in force: merchant-specific before global, then by priority; else the default."""
    now = now or timezone.now()
    candidates = (
        RoutingProfile.objects.filter(enabled=True)
        .filter(Q(merchant_id=merchant_id) | Q(merchant__isnull=True))
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=now))
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=now))
        .prefetch_related("rules")
    )
    ranked = sorted(
        candidates,
        key=lambda prof: (
            prof.merchant_id is not None,
            prof.active_from is not None or prof.active_until is not None,
            prof.priority,
            not prof.is_default,
            prof.pk,
        ),
        reverse=True,
    )
    return ranked[0] if ranked else None


def engine_profile(profile: RoutingProfile | None) -> p.Profile:
    if profile is None:
        return p.Profile()
    rules = tuple(
        p.Rule(
            name=rule.name,
            condition=p.RuleCondition(rule.condition),
            effect=p.RuleEffect(rule.effect),
            threshold=rule.threshold,
            region=(province_of(rule.province) if rule.province else rule.region) or None,
            cold_chain_only=rule.cold_chain_only,
            factor=rule.factor or None,
            amount=rule.amount,
            service_level=rule.service_level or None,
        )
        for rule in profile.rules.all()
        if rule.enabled
    )
    high_value = None
    if profile.high_value_enabled:
        high_value = p.HighValuePolicy(
            value_threshold=float(profile.high_value_threshold)
            if profile.high_value_threshold is not None
            else None,
            include_vip=profile.high_value_include_vip,
            min_certainty=profile.high_value_min_certainty / 100,
        )
    return p.Profile(
        name=profile.name,
        weights=profile.engine_weights(),
        prices=profile.engine_prices(),
        rules=rules,
        high_value=high_value,
    )


def _latest(rows: Iterable, key) -> dict:
    latest: dict = {}
    for row in rows:  # rows come newest first
        latest.setdefault(key(row), row)
    return latest


def live_signals(
    *,
    merchant_id: int | None = None,
    now: datetime | None = None,
    since: timedelta = timedelta(days=2),
) -> p.Signals:
    """The newest reading per region / carrier / warehouse, stale ones made conservative."""
    now = now or timezone.now()
    horizon = now - since
    scope = Q(merchant__isnull=True) | Q(merchant_id=merchant_id)

    def conservative(value: float, expires_at: datetime) -> float:
        return value if expires_at > now else max(value, STALE_FLOOR)

    carriers: dict[tuple[str, str, str], float] = {}
    for row in CarrierCapacity.objects.filter(scope, observed_at__gte=horizon).order_by(
        "-observed_at"
    ):
        carriers.setdefault(
            (row.region, row.carrier, row.service_level),
            conservative(row.saturation, row.expires_at),
        )
    saturation: dict[str, float] = defaultdict(float)
    by_level: dict[str, float] = defaultdict(float)
    for (region, _carrier, level), value in carriers.items():
        if level:
            # A carrier type running full (cold chain in a heat wave) is that type's reading.
            by_level[level] = max(by_level[level], value)
        else:
            saturation[region] = max(saturation[region], value)
    # An alert names a region, or a province in it: keyed by the province then.
    weather = {
        (province_of(row.province) if row.province else row.region): row.level
        for row in _latest(
            WeatherAlert.objects.filter(scope, observed_at__gte=horizon).order_by("-observed_at"),
            lambda r: (r.region, r.province),
        ).values()
        if row.expires_at + WEATHER_GRACE > now
    }
    courier_loads = (
        CourierLoad.objects.filter(
            scope, observed_at__gte=horizon, warehouse__merchant_id=merchant_id
        )
        if merchant_id is not None
        else CourierLoad.objects.none()  # every warehouse has a merchant
    )
    couriers = {
        row.warehouse.code: conservative(row.load, row.expires_at)
        for row in _latest(
            courier_loads.select_related("warehouse").order_by("-observed_at"),
            lambda r: r.warehouse_id,
        ).values()
    }
    return p.Signals(
        carrier_saturation=dict(saturation),
        weather=weather,
        courier_load=couriers,
        carrier_saturation_by_level=dict(by_level),
    )


def engine_order(order: Order, *, now: datetime | None = None) -> p.Order:
    now = now or timezone.now()
    merged: dict[str, list] = {}
    for line in order.lines.all():
        product = line.product
        if product.sku in merged:
            merged[product.sku][1] += line.quantity
        else:
            merged[product.sku] = [product, line.quantity, float(line.unit_price)]
    lat, lon = province_point(order.province) or (31.23, 121.47)
    promised = (order.promised_at - now).total_seconds() / 3600 if order.promised_at else 48.0
    return p.Order(
        order_id=str(order.pk),
        region=order.region,
        latitude=lat,
        longitude=lon,
        lines=tuple(
            p.OrderLine(
                sku=sku,
                quantity=qty,
                temperature=p.Temperature(product.temperature_class),
                unit_value=price,
                unit_weight_kg=float(product.weight_kg),
                unit_volume_litres=float(product.volume_litres),
            )
            for sku, (product, qty, price) in merged.items()
        ),
        promised_hours=max(promised, 0.0),
        vip=bool(order.customer and order.customer.vip),
        province=province_of(order.province) if order.province else "",
        city=city_key(order.city),
    )


def engine_nodes(
    *,
    merchant_id: int,
    skus: set[str],
    destination_region: str | None = None,
    now: datetime | None = None,
    destination_provinces: list[str] | None = None,
) -> tuple[p.Node, ...]:
    """Every warehouse of the merchant (paused ones too, so explanations can name them).

    Carrier services picking up at a warehouse come with lanes to ``destination_provinces``
    (None: every province); a warehouse without services keeps its per-region lanes.
    """
    now = now or timezone.now()
    start_of_day = local_midnight(merchant_id, now)
    today = start_of_day.date()
    warehouses = list(Warehouse.objects.filter(merchant_id=merchant_id).order_by("code"))
    services = engine_services(
        warehouses, destinations=destination_provinces, now=now, start_of_day=start_of_day
    )
    stock: dict[int, list[p.StockBatch]] = defaultdict(list)
    batches = (
        InventoryBatch.objects.filter(warehouse__merchant_id=merchant_id, product__sku__in=skus)
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))
        .annotate(available_qty=F("on_hand") - F("reserved"))
        .filter(available_qty__gt=0)
        .values_list("warehouse_id", "product__sku", "available_qty", "expiry_date")
    )
    for warehouse_id, sku, available, expiry in batches:
        stock[warehouse_id].append(
            p.StockBatch(
                sku=sku,
                quantity=available,
                expires_in_days=(expiry - today).days if expiry else None,
            )
        )
    lanes = _lanes(merchant_id)
    shipped_today = dict(
        Shipment.objects.filter(warehouse__merchant_id=merchant_id, created_at__gte=start_of_day)
        .exclude(status="cancelled")
        .values("warehouse_id")
        .annotate(n=Count("id"))
        .values_list("warehouse_id", "n")
    )
    nodes = []
    for warehouse in warehouses:
        own_lanes = lanes[warehouse.pk]
        estimates = _estimated_lanes(float(warehouse.latitude), float(warehouse.longitude))
        costs = {region: cost for region, cost, _hours in estimates}
        hours = {region: h for region, _cost, h in estimates}
        costs.update({region: cost for region, cost, _h, _o in own_lanes})
        hours.update({region: h for region, _c, h, _o in own_lanes})
        on_time = _on_time(own_lanes, destination_region)
        nodes.append(
            p.Node(
                code=warehouse.code,
                name=warehouse.name,
                region=warehouse.region,
                latitude=float(warehouse.latitude),
                longitude=float(warehouse.longitude),
                kind=_KIND[warehouse.kind],
                cold_chain=warehouse.cold_chain,
                status=p.NodeStatus.ACTIVE
                if warehouse.status == WarehouseStatus.ACTIVE
                else p.NodeStatus.PAUSED,
                status_reason=warehouse.status_reason,
                status_since=warehouse.status_changed_at,
                remaining_capacity_orders=max(
                    warehouse.daily_capacity - shipped_today.get(warehouse.pk, 0), 0
                ),
                stock=tuple(stock[warehouse.pk]),
                shipping_cost_by_region=costs,
                transit_hours_by_region=hours,
                handling_cost_per_shipment=float(warehouse.handling_cost_per_shipment),
                handling_cost_per_unit=float(warehouse.handling_cost_per_unit),
                on_time_rate=on_time,
                province=province_of(warehouse.province) if warehouse.province else "",
                city=city_key(warehouse.city),
                services=services.get(warehouse.pk, ()),
            )
        )
    return tuple(nodes)


LaneRow = tuple[str, float, float, float]  # region, cost, transit hours, on-time rate


def _lanes(merchant_id: int) -> dict[int, list[LaneRow]]:
    """The merchant's per-region lanes by warehouse id."""
    lanes: dict[int, list[LaneRow]] = defaultdict(list)
    for warehouse_id, region, cost, hours, on_time in Lane.objects.filter(
        warehouse__merchant_id=merchant_id
    ).values_list("warehouse_id", "region", "shipping_cost", "transit_hours", "on_time_rate"):
        lanes[warehouse_id].append((region, float(cost), hours, on_time))
    return lanes


def _on_time(own_lanes: list[LaneRow], region: str | None) -> float:
    """A node's on-time rate towards ``region``: its lane's, else the mean of its lanes, else
    the estimate for a warehouse without lanes."""
    for lane_region, _cost, _hours, on_time in own_lanes:
        if lane_region == region:
            return on_time
    if own_lanes:
        return sum(o for *_rest, o in own_lanes) / len(own_lanes)
    return ESTIMATE_ON_TIME


def on_time_by_region(*, merchant_id: int, regions: Iterable[str]) -> dict[str, dict[str, float]]:
    """Warehouse code -> region -> the on-time rate ``engine_nodes`` gives the node when routing
    to that region (one query: for replays that need it per region)."""
    lanes = _lanes(merchant_id)
    wanted = list(regions)
    return {
        code: {region: _on_time(lanes[pk], region) for region in wanted}
        for pk, code in Warehouse.objects.filter(merchant_id=merchant_id).values_list("pk", "code")
    }


@lru_cache(maxsize=4096)
def _estimated_lanes(latitude: float, longitude: float) -> tuple[tuple[str, float, float], ...]:
    """(region, cost, hours) to every region, estimated from the distance to its centre."""
    estimates = []
    for region in Region.values:
        point = region_point(region)
        if point is None:
            continue
        km = haversine_km(latitude, longitude, *point)
        estimates.append(
            (
                region,
                round(ESTIMATE_BASE_COST + ESTIMATE_COST_PER_KM * km, 2),
                round(ESTIMATE_BASE_HOURS + km / ESTIMATE_KM_PER_HOUR, 1),
            )
        )
    return tuple(estimates)


def cold_parcels_since(
    merchant_id: int, start: datetime, end: datetime | None = None
) -> dict[str, float]:
    """Per warehouse code, the merchant's parcels since ``start`` (before ``end``) from a
    cold-chain warehouse for an order with a chilled or frozen line, cancelled ones not counted."""
    parcels = Shipment.objects.filter(
        warehouse__merchant_id=merchant_id, warehouse__cold_chain=True, created_at__gte=start
    ).exclude(status="cancelled")
    if end is not None:
        parcels = parcels.filter(created_at__lt=end)
    rows = (
        parcels.filter(
            order__lines__product__temperature_class__in=[
                TemperatureClass.CHILLED,
                TemperatureClass.FROZEN,
            ]
        )
        .values("warehouse__code")
        .annotate(n=Count("id", distinct=True))
        .values_list("warehouse__code", "n")
    )
    return {code: float(n) for code, n in rows}


def slots_limited(nodes: Iterable[p.Node]) -> bool:
    """Whether a cold-chain service with a daily cap picks up at a cold-chain warehouse: only
    then do the day's cold parcels so far price its slots (``factors.cold_slots_needed_later``)."""
    return any(
        node.cold_chain
        and (service.chilled or service.frozen)
        and service.daily_capacity_orders is not None
        for node in nodes
        for service in node.services
    )


def demand_outlook(
    *, merchant_id: int, skus: set[str] | None, now: datetime, count_cold: bool = False
) -> p.DemandOutlook:
    """Units of ``skus`` (None: every SKU) the merchant's orders asked for today so far (its
    local day), for the scarcity bid price (``routing.engine.scarcity``)."""
    midnight = local_midnight(merchant_id, now)
    lines = OrderLine.objects.filter(
        order__merchant_id=merchant_id, order__created_at__gte=midnight
    )
    rows = (
        (lines if skus is None else lines.filter(sku__in=skus))
        .values("sku")
        .annotate(units=Sum("quantity"))
        .values_list("sku", "units")
    )
    elapsed = (now - midnight).total_seconds() / 3600
    return p.DemandOutlook(
        units_so_far={sku: float(units) for sku, units in rows},
        hours_elapsed=elapsed,
        hours_left=max(0.0, 24.0 - elapsed),
        cold_parcels_so_far=cold_parcels_since(merchant_id, midnight) if count_cold else {},
    )


def routing_context(
    *,
    merchant_id: int,
    skus: set[str],
    destination_region: str | None = None,
    profile: RoutingProfile | None = None,
    now: datetime | None = None,
    destination_province: str | None = None,
    destination_provinces: list[str] | None = None,
    own_holds: Collection[str] | None = None,
    temperatures: dict[str, p.Temperature] | None = None,
) -> p.RoutingContext:
    """What routing needs at ``now``. Carrier lanes are built to ``destination_province`` only
    (single-order routing and promises) or to ``destination_provinces`` (a batch); with
    neither, to every province. With ``own_holds`` (the order references being routed) the
    merchant's other live promise holds are taken out of stock and parcels (``routing.holds``;
    ``temperatures``: the SKUs' classes, for their shelf life)."""
    now = now or timezone.now()
    if destination_province:
        destination_provinces = [destination_province]
    nodes = engine_nodes(
        merchant_id=merchant_id,
        skus=skus,
        destination_region=destination_region,
        now=now,
        destination_provinces=destination_provinces or None,
    )
    if own_holds is not None:
        nodes = held_nodes_for(
            nodes, merchant_id=merchant_id, now=now, own=own_holds, temperatures=temperatures
        )
    return p.RoutingContext(
        nodes=nodes,
        signals=live_signals(merchant_id=merchant_id, now=now),
        profile=engine_profile(profile),
        now=now,
        outlook=demand_outlook(
            merchant_id=merchant_id, skus=skus, now=now, count_cold=slots_limited(nodes)
        ),
    )
