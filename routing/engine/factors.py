"""Factor scores and the linear cost model of one order.

Every factor is a *badness* in [0, 1] (0 = best) so that a weighted sum with weights summing to
1 is itself in [0, 1] for a single-shipment plan. Factors come in three shapes, which is what
lets the solver see them as a plain linear objective:

* per node and order, weighted by the share of the order's value the node ships
  (``status``, ``capacity``, ``carrier_saturation``, ``weather``, ``courier_load``,
  ``lateness``, ``certainty``);
* per line and node, also value-weighted (``stock``, the per-unit part of ``handling_cost``);
* per shipment, paid once per node used (``shipping_cost``, ``distance``, ``splits``, the
  per-parcel part of ``handling_cost``).

So a plan x (units of line l from node k) with y_k = 1 for nodes used scores
``sum_lk unit_cost[l][k] * x[l][k] + sum_k fixed_cost[k] * y[k] + offset``.

The factors (s = score, 0 best):

- ``stock``: 0.5 * scarcity + 0.5 * freshness. Scarcity is the share of the node's usable units
  of the SKU this line would take (taking the last units is worse). Freshness implements FEFO
  across the network: a node whose first usable batch expires soon scores *better*, so old stock
  leaves first; batches with less than the minimum shelf life for the temperature class are not
  usable at all. SKUs without expiry score 0.5 on freshness.
- ``status``: 0 active, 0.5 degraded (paused nodes are excluded, not scored).
- ``capacity``: (share of the node's daily unit capacity already used) squared: convex, so the
  last units of a busy node are kept for the orders only it can serve.
- ``carrier_saturation``: saturation of carriers picking up in the node's region (0..1).
- ``weather``: worst alert on the route (origin or destination region) / 4.
- ``courier_load``: share of the node's courier slots used today.
- ``shipping_cost``: parcel price node -> destination region / the dearest price in the network.
- ``handling_cost``: handling of the shipment / the dearest handling for the order's units.
- ``lateness``: 1 - slack / margin, clipped, where slack = promise - expected transit (planned
  transit plus 1 / 4 / 8 h under a yellow / orange / red alert on the route) and margin =
  max(4 h, promise / 4): zero when the node has a comfortable margin, 1 when it cannot make it.
- ``splits``: (shipments - 1) / max(1, lines - 1); 1 means one parcel per line.
- ``distance``: km node -> destination (equirectangular) / 3,500 km, clipped.
- ``certainty``: (1 - certainty) / 0.2, clipped (80 % or less scores 1), certainty = on_time_rate * (1 - lateness / 2) *
  (1 - weather / 10) * (1 - max(0, carrier_saturation - 0.8)): the node's track record, derated
  by the live risks on this route.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
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
)

PAIR_FACTORS = (
    "status",
    "capacity",
    "carrier_saturation",
    "weather",
    "courier_load",
    "lateness",
    "certainty",
)
SHIPMENT_FACTORS = ("shipping_cost", "distance", "splits")

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
DISTANCE_SCALE_KM = 3500.0
# Certainty is scored against an 80 % floor: a 95 % node is 0.25, a 99.5 % node 0.025. Scoring
# 1 - certainty directly would make the gap between a 96 % and a 99.5 % node almost invisible.
CERTAINTY_FLOOR_GAP = 0.2
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
    """Lateness factor: 0 with a comfortable margin, 1 when the promise cannot be met."""
    margin = max(4.0, promised_hours / 4)
    return _clip(1 - (promised_hours - transit_hours) / margin)


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
    cold chain); ``capacity_units[k]`` bounds the units node k ships in total. ``pair_scores[k]``
    and ``line_stock_scores[l][k]`` keep the raw factor scores for the explanation.
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
    pair_scores: list[dict[str, float]]
    line_stock_scores: list[list[float]]
    handling_scale: float
    certainty: list[float]
    transit_hours: list[float]
    rejections: list[Rejection]
    notes: list[str]

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
    """The profile's weights after SCALE_WEIGHT rules for this order, normalised."""
    weights = ctx.weights
    scaled = False
    for rule in ctx.profile.rules:
        if (
            rule.effect is RuleEffect.SCALE_WEIGHT
            and rule.factor in FACTOR_NAMES
            and _rule_matches(rule, order, None, ctx)
        ):
            weights = weights.scaled(rule.factor, rule.amount)
            scaled = True
    return weights.normalised() if scaled else weights


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
    """Order-independent part of a node's scores for one (region, promise, cold, weights) key."""

    node: Node
    scores: dict[str, float]
    pair_value: float
    shipping_part: float
    keep: float  # product of (1 - amount) of matching DOWN_WEIGHT rules
    certainty: float
    transit: float


class _EngineMemo(TypedDict):
    routes: dict[tuple[str, float, bool, float | None, Weights], list[_NodeRoute | Rejection]]
    stock: dict[tuple[str, str, Temperature], tuple[int, float | None]]


def _memo(ctx: RoutingContext) -> _EngineMemo:
    # RoutingContext is frozen; its instance dict holds per-context memo tables (cached_property
    # style), so a context routes many orders with the node-level work done once.
    memo: _EngineMemo | None = ctx.__dict__.get("_engine_memo")
    if memo is None:
        memo = {"routes": {}, "stock": {}}
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
    w = weights.as_dict()
    signals = ctx.signals
    scales = ctx.scales
    region = order.region
    rules = [r for r in ctx.profile.rules if r.effect is not RuleEffect.SCALE_WEIGHT]
    out: list[_NodeRoute | Rejection] = []
    for node in ctx.nodes:
        if node.status is NodeStatus.PAUSED:
            reason = node.status_reason or "paused"
            out.append(Rejection(node.code, "paused", f"{reason}{_when(node.status_since)}"))
            continue
        if not node.serves(region):
            out.append(Rejection(node.code, "not serving region", f"does not ship to {region}"))
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
            out.append(Rejection(node.code, "excluded by rule", excluded.name))
            continue
        transit = node.transit_hours_by_region[region]
        weather_level = max(signals.weather.get(node.region, 0), signals.weather.get(region, 0))
        saturation = _clip(signals.carrier_saturation.get(node.region, 0.0))
        late = lateness_risk(transit + WEATHER_DELAY_HOURS[weather_level], order.promised_hours)
        certainty = delivery_certainty(node.on_time_rate, late, weather_level, saturation)
        if min_certainty is not None and certainty < min_certainty:
            out.append(
                Rejection(
                    node.code,
                    "certainty too low",
                    f"delivery certainty {certainty:.1%} < {min_certainty:.0%}",
                )
            )
            continue
        scores = {
            "status": 0.5 if node.status is NodeStatus.DEGRADED else 0.0,
            "capacity": (
                _clip(1 - node.remaining_capacity_units / node.daily_capacity_units) ** 2
                if node.daily_capacity_units and node.remaining_capacity_units is not None
                else 0.0
            ),
            "carrier_saturation": saturation,
            "weather": weather_level / 4,
            "courier_load": _clip(signals.courier_load.get(node.code, 0.0)),
            "lateness": late,
            "certainty": _clip((1 - certainty) / CERTAINTY_FLOOR_GAP),
            "shipping_cost": _clip(node.shipping_cost_by_region[region] / scales.shipping_cost),
        }
        keep = 1.0
        for rule in rules:
            if rule.effect is RuleEffect.DOWN_WEIGHT and _rule_matches(rule, order, node, ctx):
                keep *= 1 - _clip(rule.amount)
        out.append(
            _NodeRoute(
                node=node,
                scores=scores,
                pair_value=sum(w[f] * scores[f] for f in PAIR_FACTORS),
                shipping_part=w["shipping_cost"] * scores["shipping_cost"],
                keep=keep,
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
    """Score every node for ``order`` and return the order's linear model.

    Hard exclusions (paused, region not served, no capacity left, EXCLUDE rules, certainty below
    ``min_certainty``) become rejections; per-line exclusions (no cold chain, no usable stock)
    become zero upper bounds, and a node with no line left is rejected with the reason. With
    ``money_objective`` the coefficients are money (CNY) plus a 1e-3 tie-break on the weighted
    score, which is how the high-value dual objective is solved lexicographically. Node-level
    scores depend only on (region, promise, cold chain, weights), so they are computed once per
    context and reused for every order that shares them.
    """
    weights = order_weights(order, ctx)
    w = weights.as_dict()
    w_stock = w["stock"]
    w_handling = w["handling_cost"]
    w_distance = w["distance"]
    lines = merged_lines(order)
    order_units = sum(line.quantity for line in lines)
    handling_scale = ctx.scales.handling_cost(order_units)
    split_part = w["splits"] / max(1, len(lines) - 1)
    pair_weight_total = sum(w[f] for f in PAIR_FACTORS)
    fixed_weight_total = w["shipping_cost"] + w_distance + w["splits"] + w_handling
    value_per_unit = [line.value_share / line.quantity for line in lines]
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

        distance = _clip(
            fast_distance_km(node.latitude, node.longitude, order.latitude, order.longitude)
            / DISTANCE_SCALE_KM
        )
        pair_value = route.pair_value
        fixed = (
            route.shipping_part
            + w_distance * distance
            + split_part
            + w_handling * node.handling_cost_per_shipment / handling_scale
        )
        if route.keep != 1.0:
            # Keep only ``keep`` of the candidate's desirability on both cost parts.
            pair_value = pair_weight_total - route.keep * (pair_weight_total - pair_value)
            fixed = fixed_weight_total - route.keep * (fixed_weight_total - fixed)
        handling_unit = w_handling * node.handling_cost_per_unit / handling_scale
        if money_objective:
            column = [
                node.handling_cost_per_unit
                + 1e-3 * ((pair_value + w_stock * st) * vpu + handling_unit)
                for st, vpu in zip(stock_col, value_per_unit, strict=True)
            ]
            fixed = (
                node.shipping_cost_by_region[region]
                + node.handling_cost_per_shipment
                + 1e-3 * fixed
            )
        else:
            column = [
                (pair_value + w_stock * st) * vpu + handling_unit
                for st, vpu in zip(stock_col, value_per_unit, strict=True)
            ]

        scores = dict(route.scores)
        scores["distance"] = distance
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
        offset=0.0 if money_objective else -split_part,
        weights=weights,
        pair_scores=pair_scores,
        line_stock_scores=[[col[li] for col in column_stock] for li in range(n_lines)],
        handling_scale=handling_scale,
        certainty=certainty_list,
        transit_hours=transit_list,
        rejections=rejections,
        notes=[],
    )


def factor_breakdown(
    model: OrderModel, quantities: Mapping[tuple[int, int], float]
) -> dict[str, float]:
    """Weighted contribution of each factor to a plan's objective (sums to the objective).

    ``quantities`` maps (line index, node index) to units. Used by the explanation; the solver
    only ever sees the aggregated coefficients.
    """
    w = model.weights.as_dict()
    out = dict.fromkeys(FACTOR_NAMES, 0.0)
    used = sorted({k for (_, k), q in quantities.items() if q > 0})
    for (li, k), qty in quantities.items():
        if qty <= 0:
            continue
        line = model.lines[li]
        share = line.value_share * qty / line.quantity
        for factor in PAIR_FACTORS:
            out[factor] += w[factor] * model.pair_scores[k][factor] * share
        out["stock"] += w["stock"] * model.line_stock_scores[li][k] * share
        out["handling_cost"] += (
            w["handling_cost"] * model.nodes[k].handling_cost_per_unit * qty / model.handling_scale
        )
    for k in used:
        scores = model.pair_scores[k]
        out["shipping_cost"] += w["shipping_cost"] * scores["shipping_cost"]
        out["distance"] += w["distance"] * scores["distance"]
        out["handling_cost"] += (
            w["handling_cost"] * model.nodes[k].handling_cost_per_shipment / model.handling_scale
        )
    out["splits"] = w["splits"] * max(0, len(used) - 1) / max(1, len(model.lines) - 1)
    return out
