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
    Node,
    NodeStatus,
    Order,
    Rejection,
    RoutingContext,
    Rule,
    RuleCondition,
    RuleEffect,
    StockBatch,
    Temperature,
    Weights,
    factor_prices,
)
from routing.engine.scarcity import bid_prices

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
    if len(_BATCH_CACHE) > 100_000:
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

    def money_cost(self, k: int, units: int) -> float:
        return self.nodes[k].shipment_cost(self.order.region, units)


def _when(moment: datetime | None) -> str:
    return f" since {moment:%H:%M}" if moment is not None else ""


def _rule_matches(rule: Rule, order: Order, node: Node | None, ctx: RoutingContext) -> bool:
    """Whether ``rule``'s condition holds for the route node -> order destination.

    With ``node`` None (weight-scaling rules) the condition is checked at the destination only.
    """
    regions = (order.region,) if node is None else (node.region, order.region)
    if rule.region is not None and rule.region not in regions:
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
    by_sku: dict[str, list[Any]] = {}  # sku -> [units, temperature, value]
    for line in order.lines:
        entry = by_sku.setdefault(line.sku, [0, line.temperature, 0.0])
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
        )
        for sku, (qty, temp, value) in by_sku.items()
        if qty > 0
    ]


@dataclass(frozen=True)
class _NodeRoute:
    """Order-independent part of a node's coefficients for one (region, promise, cold, weights)."""

    node: Node
    scores: dict[str, float]
    fixed: float  # per shipment: money (parcel + handling) and the ROUTE_FACTORS at their prices
    per_unit: float  # money (handling per unit) and capacity
    scale: float  # 1 / kept desirability of matching DOWN_WEIGHT rules (1: none)
    certainty: float
    transit: float


class _EngineMemo(TypedDict):
    routes: dict[tuple[str, float, bool, float | None, Weights], list[_NodeRoute | Rejection]]
    stock: dict[tuple[str, str, Temperature], tuple[int, float | None]]
    needed: dict[tuple[str, Temperature], dict[str, float]]


def _memo(ctx: RoutingContext) -> _EngineMemo:
    # RoutingContext is frozen; its instance dict holds per-context memo tables (cached_property
    # style), so a context routes many orders with the node-level work done once.
    memo: _EngineMemo | None = ctx.__dict__.get("_engine_memo")
    if memo is None:
        memo = {"routes": {}, "stock": {}, "needed": {}}
        ctx.__dict__["_engine_memo"] = memo
    return memo


def _node_routes(
    ctx: RoutingContext,
    order: Order,
    weights: Weights,
    min_certainty: float | None,
) -> list[_NodeRoute | Rejection]:
    key = (order.region, order.promised_hours, order.needs_cold_chain, min_certainty, weights)
    table = _memo(ctx)["routes"]
    cached = table.get(key)
    if cached is not None:
        return cached
    price = factor_prices(weights, ctx.profile.prices)
    money = price["money"]
    signals = ctx.signals
    region = order.region
    rules = [r for r in ctx.profile.rules if r.effect is not RuleEffect.SCALE_WEIGHT]
    out: list[_NodeRoute | Rejection] = []
    for node in ctx.nodes:
        if node.status is NodeStatus.PAUSED:
            reason = node.status_reason or "paused"
            out.append(
                Rejection(
                    node.code,
                    "paused",
                    f"{reason}{_when(node.status_since)}",
                    note=node.status_reason,
                    since=node.status_since,
                )
            )
            continue
        if not node.serves(region):
            out.append(
                Rejection(
                    node.code, "not serving region", f"does not ship to {region}", note=region
                )
            )
            continue
        if (node.remaining_capacity_units is not None and node.remaining_capacity_units <= 0) or (
            node.remaining_capacity_orders is not None and node.remaining_capacity_orders <= 0
        ):
            out.append(Rejection(node.code, "capacity full", "no capacity left today"))
            continue
        excluded = next(
            (
                r
                for r in rules
                if r.effect is RuleEffect.EXCLUDE and _rule_matches(r, order, node, ctx)
            ),
            None,
        )
        if excluded is not None:
            out.append(Rejection(node.code, "excluded by rule", excluded.name, note=excluded.name))
            continue
        transit = node.transit_hours_by_region[region]
        weather_level = max(signals.weather.get(node.region, 0), signals.weather.get(region, 0))
        saturation = _clip(signals.carrier_saturation.get(node.region, 0.0))
        expected = transit + WEATHER_DELAY_HOURS[weather_level]
        risk = lateness_risk(expected, order.promised_hours)
        certainty = delivery_certainty(node.on_time_rate, risk, weather_level, saturation)
        if min_certainty is not None and certainty < min_certainty:
            out.append(
                Rejection(
                    node.code,
                    "certainty too low",
                    f"delivery certainty {certainty:.1%} < {min_certainty:.0%}",
                    value=certainty,
                    limit=min_certainty,
                )
            )
            continue
        scores = {
            "status": 1.0 if node.status is NodeStatus.DEGRADED else 0.0,
            "capacity": (
                _clip(1 - node.remaining_capacity_units / node.daily_capacity_units) ** 2
                if node.daily_capacity_units and node.remaining_capacity_units is not None
                else 0.0
            ),
            "carrier_saturation": saturation,
            "weather": weather_level / 4,
            "courier_load": _clip(signals.courier_load.get(node.code, 0.0)),
            "lateness": expected_hours_late(expected, order.promised_hours),
            "certainty": 100.0 * (1.0 - certainty),
        }
        keep = 1.0
        for rule in rules:
            if rule.effect is RuleEffect.DOWN_WEIGHT and _rule_matches(rule, order, node, ctx):
                keep *= 1 - _clip(rule.amount)
        out.append(
            _NodeRoute(
                node=node,
                scores=scores,
                fixed=money
                * (node.shipping_cost_by_region[region] + node.handling_cost_per_shipment)
                + sum(price[f] * scores[f] for f in ROUTE_FACTORS),
                per_unit=money * node.handling_cost_per_unit
                + price["capacity"] * scores["capacity"],
                scale=1.0 / max(keep, MIN_KEEP),
                certainty=certainty,
                transit=transit,
            )
        )
    if len(table) > 4096:
        table.clear()
    table[key] = out
    return out


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


def fast_distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: within 1 % of great-circle below ~3,000 km, 5x cheaper."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.sqrt(x * x + y * y)


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
    Node-level coefficients depend only on (region, promise, cold chain, weights), so they are
    computed once per context and reused for every order that shares them.
    """
    weights = order_weights(order, ctx)
    price = factor_prices(weights, ctx.profile.prices)
    p_stock = price["stock"]
    p_distance = price["distance"] / 1000.0
    p_split = price["splits"]
    lines = merged_lines(order)
    stock_per_unit = [p_stock * line.value_share / line.quantity for line in lines]
    p_scarcity = price["scarcity"]
    needed = [
        needed_later(ctx, line.sku, line.temperature) if p_scarcity > 0 else {} for line in lines
    ]
    region = order.region

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

    for route in _node_routes(ctx, order, weights, min_certainty):
        if isinstance(route, Rejection):
            rejections.append(route)
            continue
        node = route.node
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
                rejections.append(
                    Rejection(node.code, "no cold chain", "cannot ship chilled/frozen lines")
                )
            else:
                rejections.append(
                    Rejection(node.code, "out of stock", "none of the order's SKUs in stock")
                )
            continue

        km = fast_distance_km(node.latitude, node.longitude, order.latitude, order.longitude)
        fixed = route.fixed + p_distance * km
        column = [
            route.per_unit + sp * st + p_scarcity * need.get(node.code, 0.0)
            for sp, st, need in zip(stock_per_unit, stock_col, needed, strict=True)
        ]
        if route.scale != 1.0:
            fixed *= route.scale
            column = [c * route.scale for c in column]
        fixed += p_split
        if money_objective:
            column = [node.handling_cost_per_unit + 1e-3 * c for c in column]
            fixed = (
                node.shipping_cost_by_region[region]
                + node.handling_cost_per_shipment
                + 1e-3 * fixed
            )

        scores = dict(route.scores)
        scores["distance"] = km / 1000.0
        nodes.append(node)
        columns.append(column)
        column_upper.append(upper_col)
        column_stock.append(stock_col)
        fixed_cost.append(fixed)
        capacity_units.append(
            float(node.remaining_capacity_units)
            if node.remaining_capacity_units is not None
            else math.inf
        )
        pair_scores.append(scores)
        certainty_list.append(route.certainty)
        transit_list.append(route.transit)

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
    region = model.order.region
    out = dict.fromkeys((*FACTOR_NAMES, "scarcity"), 0.0)
    used = sorted({k for (_, k), q in quantities.items() if q > 0})
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
        out["shipping_cost"] += money * node.shipping_cost_by_region[region]
        out["handling_cost"] += money * node.handling_cost_per_shipment
    out["splits"] = price["splits"] * max(0, len(used) - 1)
    return out
