"""The day's money optimum: one MILP over every order of a scenario, in CNY, with a proven gap.

This is the comparator no online router can reach (it knows the whole day), priced in money
only, so it says how much an online policy leaves on the table. It is *not* the weighted
objective: a shipment from warehouse k to the order's region costs exactly what the replay
charges, ``shipping_cost_by_region[region] + handling_cost_per_shipment +
handling_cost_per_unit * units``.

Assignment formulation (per order o, merged line l, candidate warehouse k):

* ``x[o,l,k] >= 0`` units of line l from k; ``y[o,k]`` in {0, 1} a parcel from k;
  ``u[o]`` in {0, 1} the order left unrouted;
* demand: ``sum_k x[o,l,k] + q[o,l] * u[o] = q[o,l]``: an order is shipped whole or not at all;
* linking: ``x[o,l,k] <= min(q[o,l], stock[k,sku]) * y[o,k]``;
* stock: ``sum x[.,l,k] over lines of that SKU <= usable stock[k,sku]``. Usable stock is the sum
  of the warehouse's batches with at least the minimum shelf life for the SKU's temperature;
  expiry does not change within the day, so any split of that total over the batches is
  feasible and a per-batch model has the same optimum (the replay then takes batches FEFO);
* unit caps ``sum x[.,.,k] <= daily_capacity_units[k]``, parcel caps ``sum y[.,k] <=
  daily_capacity_orders[k]``, over the whole day;
* candidates: k ships to the order's region, is not paused at the hour the order is routed
  (the end of its replay window), and for each line has cold chain when the SKU needs it.

Objective: ``sum (shipping + per-shipment handling) * y + per-unit handling * x +
UNROUTED_PENALTY * u``. The penalty (1,000 CNY, more than any plan of one order costs) makes
routing as many orders as possible come first, as a user would insist. Orders with a line no
candidate holds at all are unroutable before the solve and stay out of the model.

Only ``y`` and ``u`` are integer. With them fixed the rest is a network flow (source ->
warehouse [unit cap] -> warehouse x SKU [stock] -> order line [demand]) with integral capacities,
so a basic optimum ships whole units; the solution is checked for that and re-solved as an LP
with ``y`` and ``u`` fixed if it is not. HiGHS (highspy) solves the model to the requested
relative gap or time limit and reports its proven dual bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from routing.engine.factors import MIN_SHELF_LIFE_DAYS, merged_lines
from routing.engine.problem import (
    Node,
    Order,
    RoutingResult,
    RoutingStatus,
    Shipment,
    ShipmentLine,
    Temperature,
)

UNROUTED_PENALTY = 1000.0
METHOD = "optimum"


@dataclass(frozen=True)
class OptimumOptions:
    time_limit_seconds: float = 600.0
    gap: float = 0.005  # relative MIP gap asked of HiGHS
    threads: int = 1


@dataclass(frozen=True)
class DayOptimum:
    """The plans, their money cost, and the proof: HiGHS's dual bound and the gap.

    ``objective`` and ``lower_bound`` are the solver's, penalties for orders left unrouted
    inside the model included. ``cost`` is the money of the routed orders and ``cost_bound`` =
    ``lower_bound`` minus those penalties: no plan that routes as many orders costs less.
    ``gap`` = (cost - cost_bound) / cost, the same absolute gap as the solver's but measured
    against money only (so it is never smaller than the solver's own relative gap).
    """

    results: tuple[RoutingResult, ...]
    cost: float
    objective: float
    lower_bound: float
    cost_bound: float
    gap: float
    status: str
    seconds: float
    columns: int
    rows: int
    unrouted_in_model: int


def _paused_at(disruptions, node_code: str, hour: float) -> bool:
    return any(
        d.kind == "node_paused" and d.node == node_code and d.active_at(hour) for d in disruptions
    )


def _usable_totals(node: Node, temperature: Mapping[str, Temperature]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for batch in node.stock:
        temp = temperature.get(batch.sku, Temperature.AMBIENT)
        if batch.expires_in_days is not None and batch.expires_in_days < MIN_SHELF_LIFE_DAYS[temp]:
            continue
        totals[batch.sku] = totals.get(batch.sku, 0) + batch.quantity
    return totals


class _Builder:
    """Column-wise sparse model: every column knows its rows; rows are numbered as they come."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.entries: list[list[tuple[int, float]]] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []

    def row(self, lower: float, upper: float) -> int:
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    def column(self, cost: float, upper: float, *, integer: bool) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(integer)
        self.entries.append([])
        return len(self.cost) - 1

    def put(self, row: int, column: int, value: float) -> None:
        self.entries[column].append((row, value))


def solve_day(
    nodes: tuple[Node, ...],
    orders: tuple[Order, ...],
    *,
    hour_of: Mapping[str, float],
    disruptions: tuple = (),
    temperature: Mapping[str, Temperature] | None = None,
    options: OptimumOptions | None = None,
) -> DayOptimum:
    """Solve the whole-day money MILP (see the module docstring)."""
    import highspy
    import numpy as np

    options = options or OptimumOptions()
    started = time.perf_counter()
    temperature = temperature or {
        line.sku: line.temperature for order in orders for line in order.lines
    }
    stock = {node.code: _usable_totals(node, temperature) for node in nodes}
    model = _Builder()
    unroutable: dict[int, str] = {}
    # Per order: (u column, [(line, [(k, x column)])], {k: y column}).
    order_cols: dict[int, tuple[int, list, dict[int, int]]] = {}
    x_by_stock: dict[tuple[int, str], list[int]] = {}
    x_by_node: dict[int, list[int]] = {}
    y_by_node: dict[int, list[int]] = {}
    for o, order in enumerate(orders):
        lines = merged_lines(order)
        hour = hour_of[order.order_id]
        candidates = [
            k
            for k, node in enumerate(nodes)
            if node.serves(order.region)
            and not _paused_at(disruptions, node.code, hour)
            and (node.daily_capacity_units is None or node.daily_capacity_units > 0)
            and (node.remaining_capacity_orders is None or node.remaining_capacity_orders > 0)
        ]
        per_line: list[list[int]] = []
        for line in lines:
            holders = [
                k
                for k in candidates
                if stock[nodes[k].code].get(line.sku, 0) > 0
                and (nodes[k].cold_chain or not line.temperature.needs_cold_chain)
            ]
            if not holders:
                unroutable[o] = f"no warehouse can ship {line.sku} at hour {hour:.2f}"
                break
            per_line.append(holders)
        if o in unroutable:
            continue
        u = model.column(UNROUTED_PENALTY, 1.0, integer=True)
        y_of: dict[int, int] = {}
        line_cols = []
        for line, holders in zip(lines, per_line, strict=True):
            demand = model.row(line.quantity, line.quantity)
            model.put(demand, u, float(line.quantity))
            xs = []
            for k in holders:
                node = nodes[k]
                if k not in y_of:
                    y_of[k] = model.column(
                        node.shipping_cost_by_region[order.region]
                        + node.handling_cost_per_shipment,
                        1.0,
                        integer=True,
                    )
                    y_by_node.setdefault(k, []).append(y_of[k])
                bound = min(line.quantity, stock[node.code][line.sku])
                x = model.column(node.handling_cost_per_unit, float(bound), integer=False)
                model.put(demand, x, 1.0)
                link = model.row(-math.inf, 0.0)
                model.put(link, x, 1.0)
                model.put(link, y_of[k], -float(bound))
                x_by_stock.setdefault((k, line.sku), []).append(x)
                x_by_node.setdefault(k, []).append(x)
                xs.append((k, x))
            line_cols.append((line, xs))
        order_cols[o] = (u, line_cols, y_of)

    # Shared resources: only rows that could bind are written.
    for (k, sku), xs in x_by_stock.items():
        available = stock[nodes[k].code][sku]
        if sum(model.upper[x] for x in xs) > available:
            row = model.row(-math.inf, float(available))
            for x in xs:
                model.put(row, x, 1.0)
    for k, xs in x_by_node.items():
        cap = nodes[k].daily_capacity_units
        if cap is not None and sum(model.upper[x] for x in xs) > cap:
            row = model.row(-math.inf, float(cap))
            for x in xs:
                model.put(row, x, 1.0)
    for k, ys in y_by_node.items():
        parcels = nodes[k].remaining_capacity_orders
        if parcels is not None and len(ys) > parcels:
            row = model.row(-math.inf, float(parcels))
            for y in ys:
                model.put(row, y, 1.0)

    n_cols, n_rows = len(model.cost), len(model.row_lower)
    values = np.zeros(n_cols)
    status_text, objective, bound = "empty", 0.0, 0.0
    if n_cols:
        highs = _highs_model(model, highspy, np)
        highs.setOptionValue("time_limit", float(options.time_limit_seconds))
        highs.setOptionValue("mip_rel_gap", float(options.gap))
        highs.setOptionValue("threads", int(options.threads))
        highs.run()
        info = highs.getInfo()
        status_text = highs.modelStatusToString(highs.getModelStatus())
        if info.primal_solution_status != 2:
            raise RuntimeError(f"the day's money MILP found no solution ({status_text})")
        values = np.array(highs.getSolution().col_value)
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound)
        if _fractional_units(model, values):
            values = _integral_flow(highs, model, values, highspy, np)

    results: list[RoutingResult] = []
    money = 0.0
    unrouted_in_model = 0
    for o, order in enumerate(orders):
        if o in unroutable:
            results.append(_unroutable(order, unroutable[o]))
            continue
        u, line_cols, _ = order_cols[o]
        if values[u] > 0.5:
            unrouted_in_model += 1
            results.append(_unroutable(order, "stock or capacity taken by other orders of the day"))
            continue
        shipped: dict[int, list[ShipmentLine]] = {}
        for line, xs in line_cols:
            for k, x in xs:
                quantity = round(float(values[x]))
                if quantity > 0:
                    shipped.setdefault(k, []).append(ShipmentLine(line.sku, quantity))
        shipments = tuple(
            Shipment(
                node_code=nodes[k].code,
                lines=tuple(shipment_lines),
                cost=nodes[k].shipment_cost(
                    order.region, sum(li.quantity for li in shipment_lines)
                ),
                transit_hours=nodes[k].transit_hours_by_region[order.region],
            )
            for k, shipment_lines in shipped.items()
        )
        cost = sum(s.cost for s in shipments)
        money += cost
        results.append(
            RoutingResult(
                order_id=order.order_id,
                status=RoutingStatus.ROUTED,
                shipments=shipments,
                cost=cost,
                method=METHOD,
                optimal=status_text == "Optimal",
            )
        )
    cost_bound = bound - UNROUTED_PENALTY * unrouted_in_model
    return DayOptimum(
        results=tuple(results),
        cost=money,
        objective=objective,
        lower_bound=bound,
        cost_bound=cost_bound,
        gap=max(0.0, (money - cost_bound) / money) if money > 0 else 0.0,
        status=status_text,
        seconds=time.perf_counter() - started,
        columns=n_cols,
        rows=n_rows,
        unrouted_in_model=unrouted_in_model,
    )


def _unroutable(order: Order, reason: str) -> RoutingResult:
    return RoutingResult(
        order_id=order.order_id, status=RoutingStatus.UNROUTABLE, method=METHOD, reason=reason
    )


def _highs_model(model: _Builder, highspy, np):
    n_cols = len(model.cost)
    starts = np.zeros(n_cols + 1, dtype=np.int32)
    index: list[int] = []
    value: list[float] = []
    for col, entries in enumerate(model.entries):
        for row, coefficient in entries:
            index.append(row)
            value.append(coefficient)
        starts[col + 1] = len(index)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(model.row_lower)
    lp.col_cost_ = np.array(model.cost)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.array(model.upper)
    lp.row_lower_ = np.array([-inf if math.isinf(v) else v for v in model.row_lower])
    lp.row_upper_ = np.array([inf if math.isinf(v) else v for v in model.row_upper])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        for integer in model.integer
    ]
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)  # before passModel, or it prints its banner
    highs.passModel(lp)
    return highs


def _fractional_units(model: _Builder, values) -> bool:
    return any(
        not model.integer[col] and abs(values[col] - round(values[col])) > 1e-6
        for col in range(len(model.cost))
    )


def _integral_flow(highs, model: _Builder, values, highspy, np):
    """Fix the parcels and unrouted choices and re-solve the unit flow as an LP (simplex).

    With the integer columns fixed the model is a network flow with integral capacities, so the
    simplex's basic optimum ships whole units.
    """
    integer_cols = [col for col in range(len(model.cost)) if model.integer[col]]
    fixed = np.array([round(values[col]) for col in integer_cols], dtype=float)
    highs.changeColsIntegrality(
        len(integer_cols),
        np.array(integer_cols, dtype=np.int32),
        np.array([highspy.HighsVarType.kContinuous] * len(integer_cols)),
    )
    highs.changeColsBounds(len(integer_cols), np.array(integer_cols, dtype=np.int32), fixed, fixed)
    highs.setOptionValue("solver", "simplex")
    highs.run()
    return np.array(highs.getSolution().col_value)
