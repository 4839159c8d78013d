"""Factor scores and the linear cost model of one order, in CNY.

The objective is money plus every other factor at a price (``problem.factor_prices``): one CNY
of shipping or handling - per parcel or per unit - has one coefficient, and each other factor
is counted in its own unit (an hour late, a point of certainty, a split, ...) times the price
the profile states for it. Factors come in three shapes, which is what lets the solver see them
as a plain linear objective:

* per shipment, paid once per node used: the parcel price and handling per parcel (money), and
  ``lateness``, ``certainty``, ``status``, ``carrier_saturation``, ``weather``,
  ``courier_load``, ``distance`` and ``splits``; an order is late when any of its parcels is,
  so each parcel carries its own risk;
* per unit and node: handling per unit (money) and ``capacity``;
* per line and node, weighted by the share of the order's value the line is: ``stock``.

So a plan x (units of line l from node k) with y_k = 1 for nodes used costs
``sum_lk unit_cost[l][k] * x[l][k] + sum_k fixed_cost[k] * y[k] + offset`` with the offset
``-price[splits]`` (the first shipment is no split).

Units (the score each price multiplies):

- ``lateness``: expected hours past the promise. The expected transit is the planned one plus
  1 / 4 / 8 h under a yellow / orange / red alert on the route; real transit times spread
  around it, modelled as an exponential delay with a mean of a quarter of the transit (at
  least 1 h), so a node that keeps the promise with a thin margin still expects some lateness:
  ``spread * exp(-slack / spread)`` for slack >= 0, ``-slack + spread`` past the promise.
- ``certainty``: points (1 %) of delivery certainty lost, 100 * (1 - certainty), with
  certainty = on_time_rate * (1 - risk / 2) * (1 - weather / 10) *
  (1 - max(0, carrier_saturation - 0.8)), where risk = 1 - slack / margin, clipped, slack =
  promise - expected transit and margin = max(4 h, promise / 4): the node's track record,
  derated by the live risks on this route and by a thin margin on the promise.
- ``splits``: shipments beyond the first.
- ``status``: 1 for a degraded node (paused nodes are excluded, not priced).
- ``carrier_saturation``: saturation of carriers picking up in the node's region (0..1).
- ``weather``: worst alert on the route (origin or destination region) / 4.
- ``courier_load``: share of the node's courier slots used today.
- ``capacity``: (share of the node's daily unit capacity already used) squared, per unit:
  convex, so the last units of a busy node are kept for the orders only it can serve.
- ``stock``: 0.5 * scarcity + 0.5 * freshness per line, weighted by the line's share of the
  order's value. Scarcity is the share of the node's usable units of the SKU this line would
  take (taking the last units is worse). Freshness implements FEFO across the network: a node
  whose first usable batch expires soon scores *better*, so old stock leaves first; batches
  with less than the minimum shelf life for the temperature class are not usable at all. SKUs
  without expiry score 0.5 on freshness.
- ``distance``: thousands of km node -> destination (equirectangular).

DOWN_WEIGHT rules keep (1 - amount) of a matching candidate's desirability: its coefficients
(money and the rest, but not the split price) are divided by (1 - amount), so "-50 %" makes it
count as twice as dear.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from routing.engine.problem import (
    FACTOR_NAMES,
    CarrierLane,
    CarrierService,
    Node,
    NodeStatus,
    Order,
    Rejection,
    RoutingContext,
    Rule,
    RuleCondition,
    RuleEffect,
    ServiceLevel,
    StockBatch,
    Temperature,
    Weights,
    factor_prices,
)
from routing.engine.scarcity import bid_prices, demand_at_least

# Factors priced once per shipment from a node's scores (distance and splits are added per order).
ROUTE_FACTORS = (
    "status",
    "carrier_saturation",
    "weather",
    "courier_load",
    "lateness",
    "certainty",
)

MIN_SHELF_LIFE_DAYS = {
    Temperature.AMBIENT: 30.0,
    Temperature.CHILLED: 2.0,
    Temperature.FROZEN: 14.0,
}
FRESHNESS_HORIZON_DAYS = {
    Temperature.AMBIENT: 365.0,
    Temperature.CHILLED: 10.0,
    Temperature.FROZEN: 180.0,
}
# Real transit times spread around the planned one: an exponential delay whose mean is this
# share of the transit (a 24 h lane: 6 h), at least MIN_TRANSIT_SPREAD_HOURS.
TRANSIT_SPREAD = 0.25
MIN_TRANSIT_SPREAD_HOURS = 1.0
# Down-weighting by 100 % makes a candidate a last resort (1,000 times as dear), not excluded.
MIN_KEEP = 1e-3
# Expected extra hours on a route under a weather alert (none, blue, yellow, orange, red).
WEATHER_DELAY_HOURS = (0.0, 0.0, 1.0, 4.0, 8.0)
# How much of that delay each carrier type suffers: air legs are grounded by storms, same-city
# couriers ride short distances, cold chain needs its reefer trucks to keep moving (stated
# assumptions, not fitted: the simulator's replay applies the same factors).
WEATHER_SENSITIVITY: dict[str, float] = {
    ServiceLevel.ECONOMY: 1.0,
    ServiceLevel.EXPRESS: 1.5,
    ServiceLevel.SAME_DAY: 0.5,
    ServiceLevel.COLD_CHAIN: 1.25,
}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _clip(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else value


def lateness_risk(transit_hours: float, promised_hours: float) -> float:
    """Risk of missing the promise: 0 with a comfortable margin, 1 when it cannot be met."""
    margin = max(4.0, promised_hours / 4)
    return _clip(1 - (promised_hours - transit_hours) / margin)


def expected_hours_late(expected_transit_hours: float, promised_hours: float) -> float:
    """Expected hours past the promise, transit spread exponentially around the expectation."""
    spread = max(MIN_TRANSIT_SPREAD_HOURS, expected_transit_hours * TRANSIT_SPREAD)
    slack = promised_hours - expected_transit_hours
    if slack <= 0:
        return spread - slack
    return spread * math.exp(-slack / spread)


def delivery_certainty(
    on_time_rate: float, lateness: float, weather_level: int, saturation: float
) -> float:
    """Probability-like certainty of delivering on time from this node on this route."""
    return (
        on_time_rate
        * (1 - lateness / 2)
        * (1 - weather_level / 10)
        * (1 - max(0.0, saturation - 0.8))
    )


def usable_stock(node: Node, sku: str, temperature: Temperature) -> tuple[int, float | None]:
    """Units of ``sku`` at ``node`` with enough shelf life, and the first such expiry (FEFO)."""
    min_days = MIN_SHELF_LIFE_DAYS[temperature]
    units, first_expiry = 0, None
    for batch in _batches(node).get(sku, ()):
        if batch.expires_in_days is not None and batch.expires_in_days < min_days:
            continue
        units += batch.quantity
        if batch.expires_in_days is not None and (
            first_expiry is None or batch.expires_in_days < first_expiry
        ):
            first_expiry = batch.expires_in_days
    return units, first_expiry


# Bounded small: every entry keeps a stock tuple and its index alive, and a long-running
# process (the promise builds a context per request) must not hold many of them for the cyclic
# garbage collector to walk on every full collection (at 2,048 nodes a full collection in the
# promise bench took 10-23 ms; 512 nodes still cover a context of that many warehouses).
_BATCH_CACHE: dict[int, tuple[tuple[StockBatch, ...], dict[str, list[StockBatch]]]] = {}


def _batches(node: Node) -> dict[str, list[StockBatch]]:
    # Nodes are frozen, so the per-SKU index can be cached against the stock tuple's identity.
    key = id(node.stock)
    hit = _BATCH_CACHE.get(key)
    if hit is not None and hit[0] is node.stock:
        return hit[1]
    index: dict[str, list[StockBatch]] = {}
    for batch in node.stock:
        index.setdefault(batch.sku, []).append(batch)
    if len(_BATCH_CACHE) > 512:
        _BATCH_CACHE.clear()
    _BATCH_CACHE[key] = (node.stock, index)
    return index


def stock_score(
    quantity: int, usable_units: int, first_expiry: float | None, temp: Temperature
) -> float:
    scarcity = _clip(quantity / usable_units) if usable_units > 0 else 1.0
    if first_expiry is None:
        freshness = 0.5
    else:
        min_days = MIN_SHELF_LIFE_DAYS[temp]
        freshness = _clip((first_expiry - min_days) / FRESHNESS_HORIZON_DAYS[temp])
    return 0.5 * scarcity + 0.5 * freshness


@dataclass(frozen=True)
class ModelLine:
    """An order line after merging lines of the same SKU."""

    sku: str
    quantity: int
    temperature: Temperature
    value_share: float  # share of the order's value (or units, for zero-value orders)
    unit_weight_kg: float = 0.0
    unit_volume_litres: float = 0.0


@dataclass(frozen=True)
class ServiceAlternative:
    """Another carrier service at the same node: the whole order on it, in CNY and hours."""

    service: CarrierService
    cost: float
    transit_hours: float
    down_weighted: bool


@dataclass
class OrderModel:
    """The linear form of one order over its candidate nodes (rows: lines, columns: nodes).

    ``upper[l][k]`` is the most units of line l node k may ship (0: not allowed - no stock, no
    cold chain); ``capacity_units[k]`` bounds the units node k ships in total. ``prices`` are
    the objective's coefficients per unit of each factor (``factor_prices``, "money" included);
    ``pair_scores[k]`` and ``line_stock_scores[l][k]`` keep the factor units for the
    explanation.
    """

    order: Order
    lines: list[ModelLine]
    nodes: list[Node]
    unit_cost: list[list[float]]
    fixed_cost: list[float]
    upper: list[list[int]]
    capacity_units: list[float]
    offset: float
    weights: Weights
    prices: dict[str, float]
    pair_scores: list[dict[str, float]]
    line_stock_scores: list[list[float]]
    certainty: list[float]
    transit_hours: list[float]
    rejections: list[Rejection]
    notes: list[str]
    # Per line, node code -> chance a unit there is needed later today (``needed_later``).
    line_needed: list[dict[str, float]] = field(default_factory=list)
    # Per column, the carrier service chosen for a shipment from that node and its lane (None:
    # the node's own per-region price), and the preference bonus granted (CNY, 0: none).
    services: list[CarrierService | None] = field(default_factory=list)
    lanes: list[CarrierLane | None] = field(default_factory=list)
    preference_bonus: list[float] = field(default_factory=list)
    # Per column with a service, the next-best service at that node for the same lines (None:
    # no other), with what the whole order would cost on it and its transit.
    runner_up_services: list[ServiceAlternative | None] = field(default_factory=list)
    # Per column, the kept desirability of its route after DOWN_WEIGHT rules (1: none).
    scales: list[float] = field(default_factory=list)
    # Per column, how its carrier price entered the objective: (objective units per CNY, fixed
    # CNY, CNY per billable kg); see ``price_correction``.
    linear_prices: list[tuple[float, float, float]] = field(default_factory=list)

    def service(self, k: int) -> CarrierService | None:
        return self.services[k] if self.services else None

    def shipping_price(self, k: int, quantities: Mapping[int, int]) -> float:
        """Carrier price of the parcel from column k holding ``quantities`` (line -> units)."""
        lane = self.lanes[k] if self.lanes else None
        if lane is None:
            return self.nodes[k].shipping_cost_by_region[self.order.region]
        return lane.price(self.billable_kg(k, quantities))

    def billable_kg(self, k: int, quantities: Mapping[int, int]) -> float:
        service = self.service(k)
        if service is None:
            return 0.0
        weight = sum(self.lines[li].unit_weight_kg * q for li, q in quantities.items())
        volume = sum(self.lines[li].unit_volume_litres * q for li, q in quantities.items())
        return service.billable_kg(weight, volume)

    def shipment_money(self, k: int, quantities: Mapping[int, int]) -> float:
        """Money cost (CNY) of the shipment from column k: carrier price plus handling."""
        node = self.nodes[k]
        units = sum(quantities.values())
        return (
            self.shipping_price(k, quantities)
            + node.handling_cost_per_shipment
            + node.handling_cost_per_unit * units
        )

    def price_correction(self, quantities: Mapping[tuple[int, int], int]) -> float:
        """What a plan's objective misses by pricing carrier parcels linearly (objective units).

        The model prices a service's parcel as a fixed part plus a rate per billable kg,
        anchored at the whole order's weight, so a plan that ships the whole order from one
        node is priced exactly; a parcel holding part of the order really costs its rate card's
        price for its own weight (first weight, started kg). This is the sum over the plan's
        parcels of (rate-card price - linear price) times the column's objective units per CNY.
        """
        if not self.lanes or not self.linear_prices:
            return 0.0
        per_column: dict[int, dict[int, int]] = {}
        for (li, k), q in quantities.items():
            if q > 0:
                per_column.setdefault(k, {})[li] = q
        correction = 0.0
        for k, lines in per_column.items():
            lane, service = self.lanes[k], self.service(k)
            if lane is None or service is None:
                continue
            money_scale, fixed, per_kg = self.linear_prices[k]
            weight = sum(self.lines[li].unit_weight_kg * q for li, q in lines.items())
            volume = sum(self.lines[li].unit_volume_litres * q for li, q in lines.items())
            total_weight = sum(line.unit_weight_kg * line.quantity for line in self.lines)
            total_volume = sum(line.unit_volume_litres * line.quantity for line in self.lines)
            volumetric = service.billable_kg(total_weight, total_volume) > total_weight
            kg = volume * 1000.0 / service.volumetric_divisor if volumetric else weight
            linear = fixed + per_kg * kg
            correction += money_scale * (lane.price(self.billable_kg(k, lines)) - linear)
        return correction

    def money_cost(self, k: int, units: int) -> float:
        """Money of a shipment of ``units`` from column k (the whole order's lines when it has
        a carrier service, whose price depends on weight)."""
        if self.lanes and self.lanes[k] is not None:
            return self.shipment_money(k, {li: line.quantity for li, line in enumerate(self.lines)})
        return self.nodes[k].shipment_cost(self.order.region, units)


def _when(moment: datetime | None) -> str:
    return f" since {moment:%H:%M}" if moment is not None else ""


def _route_places(order: Order, node: Node | None) -> tuple[str, ...]:
    """Regions and provinces a route touches (destination only without a node)."""
    places = [order.region]
    if order.province and order.province != order.region:
        places.append(order.province)
    if node is not None:
        places.append(node.region)
        if node.province and node.province != node.region:
            places.append(node.province)
    return tuple(places)


def _rule_matches(
    rule: Rule,
    order: Order,
    node: Node | None,
    ctx: RoutingContext,
    service: CarrierService | None = None,
) -> bool:
    """Whether ``rule``'s condition holds for the route node -> order destination.

    With ``node`` None (weight-scaling rules) the condition is checked at the destination only.
    A rule with a ``service_level`` matches only shipments on a carrier service of that level.
    """
    regions = _route_places(order, node)
    if rule.region is not None and rule.region not in regions:
        return False
    if rule.service_level and (service is None or service.level != rule.service_level):
        return False
    if rule.cold_chain_only and (node is None or not (node.cold_chain and order.needs_cold_chain)):
        return False
    checked = (rule.region,) if rule.region is not None else regions
    signals = ctx.signals
    match rule.condition:
        case RuleCondition.ALWAYS:
            return True
        case RuleCondition.WEATHER_AT_LEAST:
            return max(signals.weather.get(r, 0) for r in checked) >= rule.threshold
        case RuleCondition.CARRIER_SATURATION_AT_LEAST:
            origin = checked if node is None else (node.region,)
            return max(signals.carrier_saturation.get(r, 0.0) for r in origin) >= rule.threshold
        case RuleCondition.NODE_DEGRADED:
            return node is not None and node.status is NodeStatus.DEGRADED
    return False


def order_weights(order: Order, ctx: RoutingContext) -> Weights:
    """The profile's weights after SCALE_WEIGHT rules for this order.

    Not normalised again: doubling a factor's weight doubles its price and leaves the money
    coefficient, the other prices and the unrouted penalty where they are.
    """
    weights = ctx.weights
    for rule in ctx.profile.rules:
        if (
            rule.effect is RuleEffect.SCALE_WEIGHT
            and rule.factor in FACTOR_NAMES
            and _rule_matches(rule, order, None, ctx)
        ):
            weights = weights.scaled(rule.factor, rule.amount)
    return weights


def merged_lines(order: Order) -> list[ModelLine]:
    # sku -> [units, temperature, value, weight, volume]
    by_sku: dict[str, list[Any]] = {}
    for line in order.lines:
        entry = by_sku.setdefault(
            line.sku, [0, line.temperature, 0.0, line.unit_weight_kg, line.unit_volume_litres]
        )
        entry[0] += line.quantity
        entry[2] += line.value
        if line.temperature.needs_cold_chain:
            entry[1] = line.temperature
    total_value = sum(e[2] for e in by_sku.values())
    total_units = sum(e[0] for e in by_sku.values())
    return [
        ModelLine(
            sku=sku,
            quantity=qty,
            temperature=temp,
            value_share=(value / total_value) if total_value > 0 else qty / max(1, total_units),
            unit_weight_kg=weight,
            unit_volume_litres=volume,
        )
        for sku, (qty, temp, value, weight, volume) in by_sku.items()
        if qty > 0
    ]


@dataclass(frozen=True, slots=True)
class _NodeRoute:
    """Order-independent part of a candidate's coefficients for one (destination, promise, cold,
    weights): a node, and the carrier service it would ship with (None: the node's own price).

    ``fixed`` is per shipment: handling per parcel (money), the node's own parcel price when it
    has no services, and the ROUTE_FACTORS at their prices; the weight-dependent carrier price
    of a service is added per order (``build_order_model``). ``per_unit``: handling per unit
    (money) and capacity.
    """

    node: Node
    base_scores: dict[str, float]  # the promise-free factors' scores (shared, not to change)
    lateness: float
    certainty_score: float
    fixed: float
    per_unit: float
    scale: float  # 1 / kept desirability of matching DOWN_WEIGHT rules (1: none)
    certainty: float
    transit: float
    service: CarrierService | None = None
    lane: CarrierLane | None = None
    cold_slot: float | None = None  # the cold-slot scarcity score, when it was priced

    @property
    def scores(self) -> dict[str, float]:
        """Each factor's score (a new dict)."""
        scores = {**self.base_scores, "lateness": self.lateness, "certainty": self.certainty_score}
        if self.cold_slot is not None:
            scores["cold_slot"] = self.cold_slot
        return scores


class _EngineMemo(TypedDict):
    routes: dict[tuple[object, ...], _NodeGroup | Rejection]
    stock: dict[tuple[str, str, Temperature], tuple[int, float | None]]
    needed: dict[tuple[str, Temperature], dict[str, float]]
    cold: dict[str, dict[str, float]]
    bases: dict[tuple[object, ...], list[_RouteBase | Rejection]]
    orders: dict[tuple[object, ...], list[_NodeStock | Rejection]]


def _memo(ctx: RoutingContext) -> _EngineMemo:
    # RoutingContext is frozen; its instance dict holds per-context memo tables (cached_property
    # style), so a context routes many orders with the node-level work done once.
    memo: _EngineMemo | None = ctx.__dict__.get("_engine_memo")
    if memo is None:
        memo = {"routes": {}, "stock": {}, "needed": {}, "cold": {}, "bases": {}, "orders": {}}
        ctx.__dict__["_engine_memo"] = memo
    return memo


def _weather_level(signals_weather: Mapping[str, int], places: tuple[str, ...]) -> int:
    return max((signals_weather.get(place, 0) for place in places), default=0)


def _service_saturation(ctx: RoutingContext, node: Node, service: CarrierService) -> float:
    """How full this service is: its reading at this node ("NODE:SERVICE"), else network-wide,
    else its carrier type's (at least the origin's), else the origin region's."""
    signals = ctx.signals
    own = signals.service_saturation.get(f"{node.code}:{service.code}")
    if own is None:
        own = signals.service_saturation.get(service.code)
    if own is not None:
        return _clip(own)
    level = signals.carrier_saturation_by_level.get(service.level.value)
    regional = signals.carrier_saturation.get(node.region, 0.0)
    return _clip(max(level, regional) if level is not None else regional)


@dataclass(frozen=True)
class _RouteBase:
    """What a candidate (a node, and the service it would ship with) costs whatever the order's
    promise: all of ``_NodeRoute`` but the lateness and certainty terms."""

    node: Node
    scores: dict[str, float]  # without "lateness" and "certainty"
    money_part: float  # money of the parcel's fixed part
    factor_part: float  # the route factors but lateness and certainty, priced
    per_unit: float
    scale: float
    expected: float  # transit plus the weather's delay (hours)
    on_time_rate: float
    weather_level: int
    saturation: float
    transit: float
    service: CarrierService | None = None
    lane: CarrierLane | None = None


_PROMISE_FREE_FACTORS = tuple(f for f in ROUTE_FACTORS if f not in ("lateness", "certainty"))


def _route_base(
    ctx: RoutingContext,
    order: Order,
    node: Node,
    price: dict[str, float],
    rules: list[Rule],
    *,
    transit: float,
    on_time_rate: float,
    weather_level: int,
    saturation: float,
    delay: float,
    service: CarrierService | None = None,
    lane: CarrierLane | None = None,
) -> _RouteBase | Rejection:
    excluded = next(
        (
            r
            for r in rules
            if r.effect is RuleEffect.EXCLUDE and _rule_matches(r, order, node, ctx, service)
        ),
        None,
    )
    if excluded is not None:
        return Rejection(node.code, "excluded by rule", excluded.name, note=excluded.name)
    money = price["money"]
    scores = {
        "status": 1.0 if node.status is NodeStatus.DEGRADED else 0.0,
        "capacity": (
            _clip(1 - node.remaining_capacity_units / node.daily_capacity_units) ** 2
            if node.daily_capacity_units and node.remaining_capacity_units is not None
            else 0.0
        ),
        "carrier_saturation": saturation,
        "weather": weather_level / 4,
        "courier_load": _clip(ctx.signals.courier_load.get(node.code, 0.0)),
    }
    keep = 1.0
    for rule in rules:
        if rule.effect is RuleEffect.DOWN_WEIGHT and _rule_matches(rule, order, node, ctx, service):
            keep *= 1 - _clip(rule.amount)
    parcel = 0.0 if service is not None else node.shipping_cost_by_region[order.region]
    return _RouteBase(
        node=node,
        scores=scores,
        money_part=money * (parcel + node.handling_cost_per_shipment),
        # Summed in ROUTE_FACTORS' order, lateness and certainty last (``_route_finish``).
        factor_part=sum(price[f] * scores[f] for f in _PROMISE_FREE_FACTORS),
        per_unit=money * node.handling_cost_per_unit + price["capacity"] * scores["capacity"],
        scale=1.0 / max(keep, MIN_KEEP),
        expected=transit + delay,
        on_time_rate=on_time_rate,
        weather_level=weather_level,
        saturation=saturation,
        transit=transit,
        service=service,
        lane=lane,
    )


def _route_finish(
    base: _RouteBase | Rejection,
    promised_hours: float,
    price: dict[str, float],
    min_certainty: float | None,
) -> _NodeRoute | Rejection:
    """``base`` against the order's promise: its certainty (a rejection below
    ``min_certainty``), expected lateness, and their prices."""
    if isinstance(base, Rejection):
        return base
    expected = base.expected
    risk = lateness_risk(expected, promised_hours)
    certainty = delivery_certainty(base.on_time_rate, risk, base.weather_level, base.saturation)
    if min_certainty is not None and certainty < min_certainty:
        return Rejection(
            base.node.code,
            "certainty too low",
            f"delivery certainty {certainty:.1%} < {min_certainty:.0%}",
            value=certainty,
            limit=min_certainty,
        )
    lateness = expected_hours_late(expected, promised_hours)
    certainty_score = 100.0 * (1.0 - certainty)
    return _NodeRoute(
        base.node,
        base.scores,
        lateness,
        certainty_score,
        base.money_part
        + (base.factor_part + price["lateness"] * lateness + price["certainty"] * certainty_score),
        base.per_unit,
        base.scale,
        certainty,
        base.transit,
        base.service,
        base.lane,
    )


# A node's candidates: (node, its candidates, any same-city courier among them).
_NodeGroup = tuple[Node, list[_NodeRoute], bool]


def _node_gate(order: Order, node: Node) -> Rejection | None:
    """Why ``node`` cannot take any part of ``order`` whatever it holds: paused, no parcels or
    units left today, no lane (or carrier with room) to the destination; None if it may."""
    if node.status is NodeStatus.PAUSED:
        reason = node.status_reason or "paused"
        return Rejection(
            node.code,
            "paused",
            f"{reason}{_when(node.status_since)}",
            note=node.status_reason,
            since=node.status_since,
        )
    full = (node.remaining_capacity_units is not None and node.remaining_capacity_units <= 0) or (
        node.remaining_capacity_orders is not None and node.remaining_capacity_orders <= 0
    )
    if full and (node.services or node.serves(order.region)):
        return Rejection(node.code, "capacity full", "no capacity left today")
    if not node.services:
        if node.serves(order.region):
            return None
        return Rejection(
            node.code, "not serving region", f"does not ship to {order.region}", note=order.region
        )
    destination = order.destination
    with_lane = [service for service in node.services if destination in service.lanes]
    with_room = [
        service
        for service in with_lane
        if service.remaining_capacity_orders is None or service.remaining_capacity_orders > 0
    ]
    if with_lane and not with_room:
        return Rejection(node.code, "capacity full", "its carriers have no capacity left today")
    if not with_room or all(
        service.same_city and service.same_city != order.city for service in with_room
    ):
        return Rejection(
            node.code, "not serving region", f"does not ship to {destination}", note=destination
        )
    return None


def _node_entry(
    ctx: RoutingContext,
    order: Order,
    node: Node,
    weights: Weights,
    min_certainty: float | None,
    price: dict[str, float],
    rules: list[Rule],
) -> _NodeGroup | Rejection:
    """The candidates of a node ``_node_gate`` let through for the order's route (node, or node
    and carrier service), or why it has none: memoised per context for (destination, promise, cold chain, weights), so a
    context routing many orders prices each node once per such key.

    A node with carrier services yields one candidate per service with a lane to the order's
    destination and parcels left today (a same-city courier only in its city, checked per
    order by the caller); their transit, on-time rate, saturation and weather delay are the
    service's. Without services the node is one candidate priced from its own per-region
    figures. The entry is (node, its candidates, any same-city courier among them).
    """
    key = (
        id(node),  # the context holds its nodes: an id is one node for the memo's life
        order.region,
        order.province,
        order.promised_hours,
        order.needs_cold_chain,
        min_certainty,
        weights,
    )
    table = _memo(ctx)["routes"]
    hit = table.get(key)
    if hit is not None:
        return hit
    entry = _priced_entry(ctx, order, node, weights, price, rules, min_certainty)
    if len(table) > 65536:
        table.clear()
    table[key] = entry
    return entry


def _priced_entry(
    ctx: RoutingContext,
    order: Order,
    node: Node,
    weights: Weights,
    price: dict[str, float],
    rules: list[Rule],
    min_certainty: float | None,
) -> _NodeGroup | Rejection:
    promised = order.promised_hours
    options = [
        _route_finish(base, promised, price, min_certainty)
        for base in _route_bases(ctx, order, node, weights, price, rules)
    ]
    if not node.services:
        option = options[0]
        return option if isinstance(option, Rejection) else (node, [option], False)
    kept = [o for o in options if isinstance(o, _NodeRoute)]
    if not kept:
        rejection = options[0]  # the gate let the node through: it had a service to try
        assert isinstance(rejection, Rejection)
        return rejection
    if not order.needs_cold_chain and price["scarcity"] > 0:
        kept = [_with_cold_slot_price(ctx, option, price["scarcity"]) for option in kept]
    same_city = any(o.service is not None and bool(o.service.same_city) for o in kept)
    return (node, kept, same_city)


def _route_bases(
    ctx: RoutingContext,
    order: Order,
    node: Node,
    weights: Weights,
    price: dict[str, float],
    rules: list[Rule],
) -> list[_RouteBase | Rejection]:
    """The node's candidates before the order's promise is applied (one per service with a lane
    to the destination and parcels left; one without services): memoised per context for
    (destination, cold chain, weights), so routing the same order at other deadlines - as a
    delivery promise does - prices each node's services once."""
    key = (id(node), order.region, order.province, order.needs_cold_chain, weights)
    table = _memo(ctx)["bases"]
    hit = table.get(key)
    if hit is not None:
        return hit
    signals = ctx.signals
    weather_level = _weather_level(signals.weather, _route_places(order, node))
    bases: list[_RouteBase | Rejection] = []
    if not node.services:
        bases.append(
            _route_base(
                ctx,
                order,
                node,
                price,
                rules,
                transit=node.transit_hours_by_region[order.region],
                on_time_rate=node.on_time_rate,
                weather_level=weather_level,
                saturation=_clip(signals.carrier_saturation.get(node.region, 0.0)),
                delay=WEATHER_DELAY_HOURS[weather_level],
            )
        )
    else:
        destination = order.destination
        for service in node.services:
            lane = service.lanes.get(destination)
            if lane is None:
                continue
            if (
                service.remaining_capacity_orders is not None
                and service.remaining_capacity_orders <= 0
            ):
                continue
            sensitivity = WEATHER_SENSITIVITY.get(service.level, 1.0)
            bases.append(
                _route_base(
                    ctx,
                    order,
                    node,
                    price,
                    rules,
                    transit=lane.transit_hours,
                    on_time_rate=lane.on_time_rate,
                    weather_level=weather_level,
                    saturation=_service_saturation(ctx, node, service),
                    delay=WEATHER_DELAY_HOURS[weather_level] * sensitivity,
                    service=service,
                    lane=lane,
                )
            )
    if len(table) > 65536:
        table.clear()
    table[key] = bases
    return bases


def _stock_lookup(ctx: RoutingContext, node: Node, line: ModelLine) -> tuple[int, float | None]:
    table = _memo(ctx)["stock"]
    key = (node.code, line.sku, line.temperature)
    hit = table.get(key)
    if hit is None:
        hit = usable_stock(node, line.sku, line.temperature)
        table[key] = hit
    return hit


def needed_later(ctx: RoutingContext, sku: str, temperature: Temperature) -> dict[str, float]:
    """Per node code, the chance a unit of ``sku`` there is needed by a later order today.

    ``scarcity.bid_prices`` at a value of 1 over the units each active node eligible for the
    temperature class can still ship (usable stock capped by its remaining unit capacity; none
    when its units or parcels are used up). Empty without a demand outlook. Computed once per
    context and SKU.
    """
    outlook = ctx.outlook
    if outlook is None:
        return {}
    table = _memo(ctx)["needed"]
    key = (sku, temperature)
    hit = table.get(key)
    if hit is not None:
        return hit
    supply: dict[str, float] = {}
    line = ModelLine(sku, 1, temperature, 1.0)
    for node in ctx.nodes:
        if node.status is NodeStatus.PAUSED or (
            temperature.needs_cold_chain and not node.cold_chain
        ):
            continue
        if node.remaining_capacity_orders is not None and node.remaining_capacity_orders <= 0:
            continue
        units = float(_stock_lookup(ctx, node, line)[0])
        if node.remaining_capacity_units is not None:
            units = min(units, float(max(0, node.remaining_capacity_units)))
        if units > 0:
            supply[node.code] = units
    hit = bid_prices(supply, outlook.expected(sku), 1.0, network_size=len(ctx.nodes))
    table[key] = hit
    return hit


def cold_slots_needed_later(ctx: RoutingContext) -> dict[str, float]:
    """Per node code, the chance its last cold-chain parcel slot is needed today by a parcel
    that can travel only chilled.

    A cold-chain service's daily cap is shared by the parcels that must travel chilled and any
    ambient parcel that finds it cheapest or fastest. At each active cold-chain node whose
    cold-chain services are all capped, the slots left against the chilled or frozen parcels
    the node is expected to send over the rest of the day (its rate so far today,
    ``DemandOutlook.expected_cold_parcels``): ``P(demand >= slots left)`` (Poisson, as
    ``scarcity.demand_at_least``). Empty without an outlook. Computed once per context.
    """
    table = _memo(ctx)["cold"]
    hit = table.get("slots")
    if hit is not None:
        return hit
    hit = {}
    outlook = ctx.outlook
    if outlook is not None:
        for node in ctx.nodes:
            if node.status is NodeStatus.PAUSED or not node.cold_chain:
                continue
            cold = [s for s in node.services if s.chilled or s.frozen]
            if not cold or any(s.remaining_capacity_orders is None for s in cold):
                continue  # no cold service here, or one without a cap: slots are no constraint
            slots = sum(max(0, s.remaining_capacity_orders or 0) for s in cold)
            expected = outlook.expected_cold_parcels(node.code)
            if expected > 0:
                hit[node.code] = demand_at_least(expected, slots)
    table["slots"] = hit
    return hit


def _with_cold_slot_price(ctx: RoutingContext, option: _NodeRoute, p_scarcity: float) -> _NodeRoute:
    """An ambient shipment on a capped cold-chain service pays for the slot it takes from the
    orders that can travel only chilled (``cold_slots_needed_later``), as a route factor."""
    service = option.service
    if service is None or not (service.chilled or service.frozen):
        return option
    need = cold_slots_needed_later(ctx).get(option.node.code, 0.0)
    if need <= 0:
        return option
    return _NodeRoute(
        option.node,
        option.base_scores,
        option.lateness,
        option.certainty_score,
        option.fixed + p_scarcity * need,
        option.per_unit,
        option.scale,
        option.certainty,
        option.transit,
        service,
        option.lane,
        need,
    )


def fast_distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: within 1 % of great-circle below ~3,000 km, 5x cheaper."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.sqrt(x * x + y * y)


@dataclass(frozen=True)
class _Priced:
    """One candidate (node, service) priced for an order: its column, fixed cost, bounds."""

    option: _NodeRoute
    column: list[float]
    fixed: float
    upper: list[int]
    bonus: float
    covered: int
    total: float  # objective of every line it may carry, all from here
    parcel_cny: float  # the carrier's price for the whole order (CNY; 0 without a service)
    money_scale: float = 0.0  # objective units per CNY of this column's carrier price
    per_kg: float = 0.0  # the per-kg rate in its linear price (0: first weight only)
    parcel_fixed: float = 0.0  # the fixed part of its linear price (CNY)


def _price_option(
    option: _NodeRoute,
    order: Order,
    lines: list[ModelLine],
    upper_col: list[int],
    stock_terms: list[tuple[float, float]],
    *,
    extra_fixed: float,
    money: float,
    p_split: float,
    money_objective: bool,
    weight_total: float,
    volume_total: float,
    memo: dict[object, _Columns | None] | None = None,
) -> _Priced | None:
    """The coefficients of ``option`` for ``order`` (None: it may carry none of the lines).

    A service's price enters linearly (see ``build_order_model``): each unit's billable kg at
    the lane's per-kg rate per unit, the rest of the parcel price at the order's weight fixed.
    Only the fixed cost depends on the order's promise (through ``option.fixed``): the rest is
    kept in ``memo`` (per node and order, ``_NodeStock.priced``) for the order's next promise.
    """
    key = (id(option.service), money_objective)
    if memo is not None and key in memo:
        columns = memo[key]
    else:
        columns = _option_columns(
            option,
            order,
            lines,
            upper_col,
            stock_terms,
            money=money,
            money_objective=money_objective,
            weight_total=weight_total,
            volume_total=volume_total,
        )
        if memo is not None:
            memo[key] = columns
    if columns is None:
        return None
    node, service = option.node, option.service
    if money_objective:
        parcel = (
            node.shipping_cost_by_region[order.region] if service is None else columns.parcel_money
        )
        fixed = (
            parcel
            + node.handling_cost_per_shipment
            + 1e-3 * (option.scale * (option.fixed + extra_fixed) + p_split)
        )
    else:
        fixed = option.scale * (option.fixed + extra_fixed + money * columns.parcel_money) + p_split
    return _Priced(
        option,
        columns.column,
        fixed,
        columns.upper,
        columns.bonus,
        columns.covered,
        fixed + columns.line_total,
        columns.parcel_cny,
        money_scale=1.0 if money_objective else option.scale * money,
        per_kg=columns.per_kg,
        parcel_fixed=columns.parcel_money,
    )


@dataclass(frozen=True, slots=True)
class _Columns:
    """The promise-free part of an option's coefficients (``_option_columns``)."""

    column: list[float]
    upper: list[int]
    bonus: float
    covered: int
    line_total: float  # the column times the units it may carry
    parcel_cny: float
    parcel_money: float
    per_kg: float


def _option_columns(
    option: _NodeRoute,
    order: Order,
    lines: list[ModelLine],
    upper_col: list[int],
    stock_terms: list[tuple[float, float]],
    *,
    money: float,
    money_objective: bool,
    weight_total: float,
    volume_total: float,
) -> _Columns | None:
    node, service, lane = option.node, option.service, option.lane
    bonus = 0.0
    unit_money: list[float] | None = None
    parcel_money = parcel_cny = per_kg = 0.0
    upper = upper_col
    if service is not None and lane is not None:
        upper = [
            u if (u and service.carries(line.temperature)) else 0
            for u, line in zip(upper_col, lines, strict=True)
        ]
        billable = service.billable_kg(weight_total, volume_total)
        volumetric = billable > weight_total
        per_kg = lane.additional_per_kg if billable > lane.first_weight_kg else 0.0
        unit_money = [
            per_kg
            * (
                line.unit_volume_litres * 1000.0 / service.volumetric_divisor
                if volumetric
                else line.unit_weight_kg
            )
            for line in lines
        ]
        parcel_cny = lane.price(billable)
        parcel_money = parcel_cny - per_kg * billable
        # The high-value policy minimises money alone: a preference does not enter it.
        if (
            not money_objective
            and order.preferred_carrier
            and service.carrier == order.preferred_carrier
        ):
            bonus = order.preference_premium
    covered = sum(1 for u in upper if u)
    if not covered:
        return None
    if money_objective:
        column = [
            node.handling_cost_per_unit
            + (unit_money[li] if unit_money else 0.0)
            + 1e-3 * (option.scale * (option.per_unit + st + sc))
            for li, (st, sc) in enumerate(stock_terms)
        ]
    else:
        # The preference is worth ``bonus`` for the whole order, spread over its units, so
        # a plan earns it in full only with every unit on the preferred carrier and never
        # more by splitting the order into several preferred parcels.
        per_unit_bonus = money * bonus / max(1, order.units)
        column = [
            option.scale
            * (option.per_unit + st + sc + (money * unit_money[li] if unit_money else 0.0))
            - per_unit_bonus
            for li, (st, sc) in enumerate(stock_terms)
        ]
    return _Columns(
        column=column,
        upper=upper,
        bonus=bonus,
        covered=covered,
        line_total=sum(column[li] * line.quantity for li, line in enumerate(lines) if upper[li]),
        parcel_cny=parcel_cny,
        parcel_money=parcel_money,
        per_kg=per_kg if unit_money is not None else 0.0,
    )


def _rank_services(
    options: list[_NodeRoute],
    order: Order,
    lines: list[ModelLine],
    upper_col: list[int],
    stock_terms: list[tuple[float, float]],
    *,
    extra_fixed: float,
    money: float,
    p_split: float,
    money_objective: bool,
    memo: dict[int, tuple[int, int, float, float]] | None = None,
) -> list[tuple[tuple[int, float], _NodeRoute, float]]:
    """A node's carrier services, best first, each with the price of its parcel (CNY).

    Ranked by how many of the order's lines the service may carry from there (most first),
    then by the objective of shipping those lines in one parcel on it - what ``_price_option``
    gives the whole order, computed without building columns: every service of a node shares
    the stock terms, so only its route coefficients, scale and rate card differ. What a
    service may carry and its parcel's price do not depend on the order's promise: ``memo``
    (per node and order, ``_NodeStock.ranks``) keeps them for the order's next promise.
    """
    by_class: dict[tuple[bool, bool], tuple[int, int, float, float, float]] = {}
    if memo is None:
        memo = {}
    out = []
    for option in options:
        service, lane = option.service, option.lane
        if service is None or lane is None:
            continue
        carried = memo.get(id(service))
        if carried is None:
            key = (service.chilled, service.frozen)
            cover = by_class.get(key)
            if cover is None:
                count = units = 0
                terms = weight = volume = 0.0
                for u, line, (st, sc) in zip(upper_col, lines, stock_terms, strict=True):
                    if u and service.carries(line.temperature):
                        count += 1
                        units += line.quantity
                        terms += line.quantity * (st + sc)
                        weight += line.unit_weight_kg * line.quantity
                        volume += line.unit_volume_litres * line.quantity
                cover = (count, units, terms, weight, volume)
                by_class[key] = cover
            count, units, terms, weight, volume = cover
            carried = (
                count,
                units,
                terms,
                lane.price(service.billable_kg(weight, volume)) if count else 0.0,
            )
            memo[id(service)] = carried
        count, units, terms, parcel = carried
        if not count:
            continue
        node = option.node
        route = option.scale * (option.fixed + extra_fixed + option.per_unit * units + terms)
        if money_objective:
            total = (
                parcel
                + node.handling_cost_per_shipment
                + node.handling_cost_per_unit * units
                + 1e-3 * (route + p_split)
            )
        else:
            bonus = (
                order.preference_premium
                if order.preferred_carrier and service.carrier == order.preferred_carrier
                else 0.0
            )
            total = (
                route
                + option.scale * money * parcel
                + p_split
                - money * bonus * units / max(1, order.units)
            )
        out.append(((-count, total), option, parcel))
    out.sort(key=lambda item: item[0])
    return out


def _runner_up_service(
    ranked: list[tuple[tuple[int, float], _NodeRoute, float]], node: Node, order: Order
) -> ServiceAlternative | None:
    """The next-best service at ``node`` that may carry as many lines as the chosen one."""
    if len(ranked) < 2 or ranked[1][0][0] != ranked[0][0][0]:
        return None
    _rank, other, parcel = ranked[1]
    assert other.service is not None
    return ServiceAlternative(
        other.service,
        parcel + node.handling_cost_per_shipment + node.handling_cost_per_unit * order.units,
        other.transit,
        other.scale > 1.0,
    )


@dataclass(slots=True)
class _NodeStock:
    """A node that may ship part of an order, with what does not depend on the order's
    promise: per line the units it may take (0: none) and the stock score, the distance, the
    stock and scarcity terms per unit, and memo tables of its services' pricing
    (``_rank_services``, ``_price_option``)."""

    node: Node
    upper: list[int]
    stock: list[float]
    km: float
    stock_terms: list[tuple[float, float]]
    ranks: dict[int, tuple[int, int, float, float]] = field(default_factory=dict)
    priced: dict[object, _Columns | None] = field(default_factory=dict)


def _order_nodes(
    order: Order,
    ctx: RoutingContext,
    weights: Weights,
    lines: list[ModelLine],
    stock_per_unit: list[float],
    needed: list[dict[str, float]],
    price: dict[str, float],
) -> list[_NodeStock | Rejection]:
    """Every node of the context for ``order``: why it cannot take any of it (paused, full, no
    lane, then no stock or no cold chain for its lines), else its ``_NodeStock``.

    None of it depends on the order's promise: memoised per context for the order's contents
    and weights, so routing the same order under other promises (a delivery promise asks
    routing several times; the high-value policy solves it twice) reads stock, gates nodes
    and prices services once.
    """
    key = (
        order.region,
        order.province,
        order.city,
        order.latitude,
        order.longitude,
        order.lines,
        order.vip,
        order.preferred_carrier,
        order.preference_premium,
        weights,
    )
    table = _memo(ctx)["orders"]
    hit = table.get(key)
    if hit is not None:
        return hit
    p_scarcity = price["scarcity"]
    out: list[_NodeStock | Rejection] = []
    for node in ctx.nodes:
        # A node's reasons in order: what rules it out whatever it holds (paused, full, no lane),
        # then its stock for the order's lines, then its carriers' candidates (rules, certainty),
        # so a node holding none of the lines costs no pricing.
        gate = _node_gate(order, node)
        if gate is not None:
            out.append(gate)
            continue
        upper_col: list[int] = []
        stock_col: list[float] = []
        cold_blocked = False
        for line in lines:
            if line.temperature.needs_cold_chain and not node.cold_chain:
                upper_col.append(0)
                stock_col.append(1.0)
                # Only blame the cold chain when the node actually holds the SKU.
                cold_blocked = cold_blocked or line.sku in _batches(node)
                continue
            units, first_expiry = _stock_lookup(ctx, node, line)
            if units <= 0:
                upper_col.append(0)
                stock_col.append(1.0)
                continue
            upper_col.append(units if units < line.quantity else line.quantity)
            stock_col.append(stock_score(line.quantity, units, first_expiry, line.temperature))
        if not any(upper_col):
            if cold_blocked:
                out.append(
                    Rejection(node.code, "no cold chain", "cannot ship chilled/frozen lines")
                )
            else:
                out.append(
                    Rejection(node.code, "out of stock", "none of the order's SKUs in stock")
                )
            continue
        out.append(
            _NodeStock(
                node=node,
                upper=upper_col,
                stock=stock_col,
                km=fast_distance_km(node.latitude, node.longitude, order.latitude, order.longitude),
                stock_terms=[
                    (sp * st, p_scarcity * need.get(node.code, 0.0))
                    for sp, st, need in zip(stock_per_unit, stock_col, needed, strict=True)
                ],
            )
        )
    if len(table) > 256:
        table.clear()
    table[key] = out
    return out


def build_order_model(
    order: Order,
    ctx: RoutingContext,
    *,
    min_certainty: float | None = None,
    money_objective: bool = False,
) -> OrderModel:
    """Price every node for ``order`` and return the order's linear model (CNY).

    Hard exclusions (paused, region not served, no capacity left, EXCLUDE rules, certainty below
    ``min_certainty``) become rejections; per-line exclusions (no cold chain, no usable stock)
    become zero upper bounds, and a node with no line left is rejected with the reason. With
    ``money_objective`` the coefficients are money (CNY) plus a 1e-3 tie-break on the priced
    objective, which is how the high-value dual objective is solved lexicographically.
    Node-level coefficients depend only on (destination, promise, cold chain, weights), so they
    are computed once per context and reused for every order that shares them.

    Carrier services: a node with services gets one column, shipped with the service that
    serves the order best from there - first the one that may carry the most of the lines the
    node holds (chilled lines only on a service that carries chilled goods), then the lowest
    objective for those lines. The weight-dependent carrier price enters linearly: the
    per-kg rate on each unit's billable kg and the rest of the parcel price at the order's
    weight as the fixed part, so a single-parcel plan is priced exactly; a split parcel's price
    is recomputed from its own weight in the result. The order's preferred carrier, when it has
    one, is worth up to ``preference_premium`` CNY per parcel.
    """
    weights = order_weights(order, ctx)
    price = factor_prices(weights, ctx.profile.prices)
    money = price["money"]
    p_stock = price["stock"]
    p_distance = price["distance"] / 1000.0
    p_split = price["splits"]
    lines = merged_lines(order)
    stock_per_unit = [p_stock * line.value_share / line.quantity for line in lines]
    p_scarcity = price["scarcity"]
    needed = [
        needed_later(ctx, line.sku, line.temperature) if p_scarcity > 0 else {} for line in lines
    ]
    weight_total = sum(line.unit_weight_kg * line.quantity for line in lines)
    volume_total = sum(line.unit_volume_litres * line.quantity for line in lines)

    nodes: list[Node] = []
    columns: list[list[float]] = []
    column_upper: list[list[int]] = []
    column_stock: list[list[float]] = []
    fixed_cost: list[float] = []
    capacity_units: list[float] = []
    pair_scores: list[dict[str, float]] = []
    certainty_list: list[float] = []
    transit_list: list[float] = []
    rejections: list[Rejection] = []
    services: list[CarrierService | None] = []
    lanes: list[CarrierLane | None] = []
    bonuses: list[float] = []
    runner_ups: list[ServiceAlternative | None] = []
    scales: list[float] = []
    linear: list[tuple[float, float, float]] = []

    route_rules = [r for r in ctx.profile.rules if r.effect is not RuleEffect.SCALE_WEIGHT]
    for held in _order_nodes(order, ctx, weights, lines, stock_per_unit, needed, price):
        if isinstance(held, Rejection):
            rejections.append(held)
            continue
        node, upper_col, stock_col = held.node, held.upper, held.stock
        entry = _node_entry(ctx, order, node, weights, min_certainty, price, route_rules)
        if isinstance(entry, Rejection):
            rejections.append(entry)
            continue
        _, options, same_city = entry
        if same_city:
            # Same-city couriers serve only their own city (the memo is per province).
            options = [
                o
                for o in options
                if o.service is None or not o.service.same_city or o.service.same_city == order.city
            ]
            if not options:
                rejections.append(
                    Rejection(
                        node.code,
                        "not serving region",
                        f"does not ship to {order.destination}",
                        note=order.destination,
                    )
                )
                continue

        km, stock_terms = held.km, held.stock_terms
        best: tuple[int, float] | None = None
        chosen: _Priced | None = None
        ranked: list[tuple[tuple[int, float], _NodeRoute, float]] = []
        if len(options) == 1:
            chosen = _price_option(
                options[0],
                order,
                lines,
                upper_col,
                stock_terms,
                extra_fixed=p_distance * km,
                money=money,
                p_split=p_split,
                money_objective=money_objective,
                weight_total=weight_total,
                volume_total=volume_total,
                memo=held.priced,
            )
            if chosen is not None:
                best = (-chosen.covered, chosen.total)
        else:
            ranked = _rank_services(
                options,
                order,
                lines,
                upper_col,
                stock_terms,
                extra_fixed=p_distance * km,
                money=money,
                p_split=p_split,
                money_objective=money_objective,
                memo=held.ranks,
            )
            if ranked:
                best = ranked[0][0]
                chosen = _price_option(
                    ranked[0][1],
                    order,
                    lines,
                    upper_col,
                    stock_terms,
                    extra_fixed=p_distance * km,
                    money=money,
                    p_split=p_split,
                    money_objective=money_objective,
                    weight_total=weight_total,
                    volume_total=volume_total,
                    memo=held.priced,
                )
        if chosen is None or best is None:
            rejections.append(
                Rejection(
                    node.code, "no cold chain", "no carrier here carries chilled/frozen lines"
                )
            )
            continue
        option, column, fixed, upper, bonus = (
            chosen.option,
            chosen.column,
            chosen.fixed,
            chosen.upper,
            chosen.bonus,
        )
        alternative = _runner_up_service(ranked, node, order)
        runner_ups.append(alternative)
        scales.append(1.0 / option.scale)
        linear.append((chosen.money_scale, chosen.parcel_fixed, chosen.per_kg))
        scores = option.scores
        scores["distance"] = km / 1000.0
        nodes.append(node)
        columns.append(column)
        column_upper.append(upper)
        column_stock.append(stock_col)
        fixed_cost.append(fixed)
        capacity_units.append(
            float(node.remaining_capacity_units)
            if node.remaining_capacity_units is not None
            else math.inf
        )
        pair_scores.append(scores)
        certainty_list.append(option.certainty)
        transit_list.append(option.transit)
        services.append(option.service)
        lanes.append(option.lane)
        bonuses.append(bonus)

    n_lines = len(lines)
    return OrderModel(
        order=order,
        lines=lines,
        nodes=nodes,
        unit_cost=[[col[li] for col in columns] for li in range(n_lines)],
        fixed_cost=fixed_cost,
        upper=[[col[li] for col in column_upper] for li in range(n_lines)],
        capacity_units=capacity_units,
        offset=-(1e-3 if money_objective else 1.0) * p_split,
        weights=weights,
        prices=price,
        pair_scores=pair_scores,
        line_stock_scores=[[col[li] for col in column_stock] for li in range(n_lines)],
        certainty=certainty_list,
        transit_hours=transit_list,
        rejections=rejections,
        notes=[],
        line_needed=needed,
        services=services if any(s is not None for s in services) else [],
        lanes=lanes if any(lane is not None for lane in lanes) else [],
        preference_bonus=bonuses,
        runner_up_services=runner_ups,
        scales=scales,
        linear_prices=linear,
    )


def factor_breakdown(
    model: OrderModel, quantities: Mapping[tuple[int, int], float]
) -> dict[str, float]:
    """Each factor's part of a plan's objective (they sum to the objective).

    ``quantities`` maps (line index, node index) to units. Parts are in objective units: money
    times the money coefficient, every other factor's units times its price. Used by the
    explanation; the solver only ever sees the aggregated coefficients. DOWN_WEIGHT rules and
    the high-value money objective are not reflected here.
    """
    price = model.prices
    money = price["money"]
    out = dict.fromkeys((*FACTOR_NAMES, "scarcity"), 0.0)
    used = sorted({k for (_, k), q in quantities.items() if q > 0})
    per_column: dict[int, dict[int, int]] = {}
    for (li, k), qty in quantities.items():
        if qty > 0:
            per_column.setdefault(k, {})[li] = int(qty)
    for (li, k), qty in quantities.items():
        if qty <= 0:
            continue
        line = model.lines[li]
        share = line.value_share * qty / line.quantity
        out["stock"] += price["stock"] * model.line_stock_scores[li][k] * share
        if model.line_needed:
            need = model.line_needed[li].get(model.nodes[k].code, 0.0)
            out["scarcity"] += price["scarcity"] * need * qty
        out["capacity"] += price["capacity"] * model.pair_scores[k]["capacity"] * qty
        out["handling_cost"] += money * model.nodes[k].handling_cost_per_unit * qty
    for k in used:
        node, scores = model.nodes[k], model.pair_scores[k]
        for factor in (*ROUTE_FACTORS, "distance"):
            out[factor] += price[factor] * scores[factor]
        out["scarcity"] += price["scarcity"] * scores.get("cold_slot", 0.0)
        out["shipping_cost"] += money * model.shipping_price(k, per_column[k])
        out["handling_cost"] += money * node.handling_cost_per_shipment
    out["splits"] = price["splits"] * max(0, len(used) - 1)
    return out
