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

An order of one line of one unit needs no ``x``: its parcel column ``y[o,k]`` is the unit
(cost: parcel plus one unit of handling), which drops a column and a linking row per candidate.

Objective: ``sum (shipping + per-shipment handling) * y + per-unit handling * x +
penalty[o] * u``. The replay passes as penalty what an unroutable order counts for in every
policy's score (a parcel per SKU by the dearest route, ``simulate.unrouted_cost``), so the
optimum minimises exactly the figure the policies are compared on, cost over all orders; no
plan with at most one parcel per SKU costs more than that, so an order is left unrouted only
when stock or capacity runs out (or a split into more parcels than SKUs would be dearer). Without penalties given, an order costs
``UNROUTED_PENALTY`` (1,000 CNY, more than any plan of one order), which routes as many orders
as possible first. Orders with a line no candidate holds at all are unroutable before the solve
and stay out of the model.

Only ``y`` and ``u`` are integer. With them fixed the rest is a network flow (source ->
warehouse [unit cap] -> warehouse x SKU [stock] -> order line [demand]) with integral capacities,
so a basic optimum ships whole units; the solution is checked for that and re-solved as an LP
with ``y`` and ``u`` fixed if it is not. HiGHS (highspy) solves the model to the requested
relative gap or time limit and reports its proven dual bound; large days go through the LP
relaxation first (``_solve``).

On large days the LP's bound is raised by a Lagrangian bound (``_lagrangian``): the LP's duals
price the shared rows, except the stock of SKUs the day asks more units of than there are, which
stay exact; the orders then fall apart into small groups, each a MIP solved nearly exactly. On
the independent dev-30 world it closes about a seventh of the LP's gap (3.68 % -> 3.19 % against
the same plan); the rest of the gap is open (bench/RESULTS-routing-optimum.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
# The Lagrangian's groups of orders are solved in MIPs of about this many columns, each to
# this relative gap (its dual bound, not its plan, enters the bound).
BATCH_COLUMNS = 20_000
BATCH_GAP = 1e-4


@dataclass(frozen=True)
class OptimumOptions:
    time_limit_seconds: float = 600.0
    gap: float = 0.005  # relative MIP gap asked of HiGHS
    threads: int = 1
    # Models up to this many columns go straight to HiGHS's MIP; larger ones are first solved
    # as an LP (interior point) whose settled parcels are fixed (see ``_solve``).
    direct_columns: int = 60_000
    # The share of the time left after the LP that the Lagrangian bound may take.
    lagrangian_share: float = 0.4


@dataclass
class _Bounds:
    """The proven lower bounds met on the way; ``best`` is the largest."""

    best: float = -math.inf
    lp: float | None = None
    lagrangian: float | None = None
    mip: float | None = None


@dataclass(frozen=True)
class DayOptimum:
    """The plans, their money cost, and the proof: HiGHS's dual bound and the gap.

    ``objective`` and ``lower_bound`` are the solver's: money of the routed orders plus the
    penalties of the orders it left unrouted (orders unroutable before the solve are not in
    either). ``gap`` = (objective - lower_bound) / objective, proven. ``cost`` is the money of
    the routed orders alone.
    """

    results: tuple[RoutingResult, ...]
    cost: float
    objective: float
    lower_bound: float
    gap: float
    status: str
    seconds: float
    columns: int
    rows: int
    unrouted_in_model: int
    # The bounds behind ``lower_bound`` (None where that step did not run): the LP
    # relaxation's, the Lagrangian's (``_lagrangian``) and the whole MIP's dual bound.
    lp_bound: float | None = None
    lagrangian_bound: float | None = None
    mip_bound: float | None = None


def _paused_at(disruptions: Sequence[Any], node_code: str, hour: float) -> bool:
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


@dataclass
class _Day:
    """The day's model as it is built: its columns per order and the rows they share."""

    model: _Builder
    unroutable: dict[int, str]
    # Per order: (u column, [(line, [(k, x column)])], {k: y column}).
    order_cols: dict[int, tuple[int, list[Any], dict[int, int]]]
    x_by_stock: dict[tuple[int, str], list[int]]
    x_by_node: dict[int, list[int]]
    y_by_node: dict[int, list[int]]
    # Rows that several orders share: stock rows (with their SKU) and unit/parcel cap rows.
    stock_rows: dict[int, str] = field(default_factory=dict)
    cap_rows: list[int] = field(default_factory=list)

    def columns_of(self, o: int) -> list[int]:
        u, line_cols, y_of = self.order_cols[o]
        return sorted({u, *y_of.values(), *(x for _, xs in line_cols for _, x in xs)})


def solve_day(
    nodes: tuple[Node, ...],
    orders: tuple[Order, ...],
    *,
    hour_of: Mapping[str, float],
    disruptions: tuple[Any, ...] = (),
    temperature: Mapping[str, Temperature] | None = None,
    penalty: Mapping[str, float] | None = None,
    options: OptimumOptions | None = None,
    unit_prices: Mapping[tuple[str, str], float] | None = None,
) -> DayOptimum:
    """Solve the whole-day money MILP (see the module docstring).

    ``unit_prices`` (node code, SKU) -> CNY is added to the objective per unit taken there: a
    bid price for stock later orders may need (``simulate.myopic_optimum``). The plans' ``cost``
    stays money alone; ``objective`` and the bound then include the prices.
    """
    import highspy
    import numpy as np

    options = options or OptimumOptions()
    started = time.perf_counter()
    temperature = temperature or {
        line.sku: line.temperature for order in orders for line in order.lines
    }
    stock = {node.code: _usable_totals(node, temperature) for node in nodes}
    day = _Day(_Builder(), {}, {}, {}, {}, {})
    for o, order in enumerate(orders):
        _add_order(
            day,
            o,
            order,
            nodes,
            stock,
            hour_of[order.order_id],
            disruptions,
            penalty,
            unit_prices or {},
        )
    _add_shared_rows(day, nodes, stock)
    model = day.model
    n_cols, n_rows = len(model.cost), len(model.row_lower)
    values = np.zeros(n_cols)
    status_text, objective, bounds = "empty", 0.0, _Bounds(best=0.0)
    if n_cols:
        start = _greedy_start(model, nodes, stock, day.order_cols, n_cols)
        values, objective, bounds, status_text = _solve(day, stock, start, options, highspy, np)
        if _fractional_units(model, values):
            values = _integral_flow(model, values, highspy, np)
    results, money, unrouted_in_model = _read_plans(day, nodes, orders, values, status_text)
    if n_cols:
        # The plan as read can be cheaper than the solver's figure: a time-limited MIP may
        # leave an empty parcel open, which the plan does not ship.
        left_out = sum(model.cost[u] for u, _, _ in day.order_cols.values() if values[u] > 0.5)
        if not unit_prices:
            objective = min(objective, money + left_out)
    return DayOptimum(
        results=tuple(results),
        cost=money,
        objective=objective,
        lower_bound=bounds.best,
        gap=max(0.0, (objective - bounds.best) / objective) if objective > 0 else 0.0,
        status=status_text,
        seconds=time.perf_counter() - started,
        columns=n_cols,
        rows=n_rows,
        unrouted_in_model=unrouted_in_model,
        lp_bound=bounds.lp,
        lagrangian_bound=bounds.lagrangian,
        mip_bound=bounds.mip,
    )


def _holders_per_line(
    order: Order,
    lines: Sequence[Any],
    nodes: tuple[Node, ...],
    stock: dict[str, dict[str, int]],
    hour: float,
    disruptions: tuple[Any, ...],
) -> list[list[int]] | str:
    """The warehouses that could ship each line at ``hour``, or why none can ship one."""
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
            return f"no warehouse can ship {line.sku} at hour {hour:.2f}"
        per_line.append(holders)
    return per_line


def _add_order(
    day: _Day,
    o: int,
    order: Order,
    nodes: tuple[Node, ...],
    stock: dict[str, dict[str, int]],
    hour: float,
    disruptions: tuple[Any, ...],
    penalty: Mapping[str, float] | None,
    unit_prices: Mapping[tuple[str, str], float],
) -> None:
    """The order's columns: unrouted (u), a parcel per warehouse (y), units per line (x)."""
    model = day.model
    lines = merged_lines(order)
    per_line = _holders_per_line(order, lines, nodes, stock, hour, disruptions)
    if isinstance(per_line, str):
        day.unroutable[o] = per_line
        return
    u = model.column(
        UNROUTED_PENALTY if penalty is None else penalty[order.order_id], 1.0, integer=True
    )
    y_of: dict[int, int] = {}
    line_cols = []
    # One line of one unit: the parcel column is the unit column (x = y), no linking row.
    single_unit = len(lines) == 1 and lines[0].quantity == 1
    for line, holders in zip(lines, per_line, strict=True):
        demand = model.row(line.quantity, line.quantity)
        model.put(demand, u, float(line.quantity))
        xs = []
        for k in holders:
            node = nodes[k]
            fixed = node.shipping_cost_by_region[order.region] + node.handling_cost_per_shipment
            per_unit = node.handling_cost_per_unit + unit_prices.get((node.code, line.sku), 0.0)
            if single_unit:
                x = y_of[k] = model.column(fixed + per_unit, 1.0, integer=True)
                day.y_by_node.setdefault(k, []).append(x)
                model.put(demand, x, 1.0)
            else:
                if k not in y_of:
                    y_of[k] = model.column(fixed, 1.0, integer=True)
                    day.y_by_node.setdefault(k, []).append(y_of[k])
                most = min(line.quantity, stock[node.code][line.sku])
                x = model.column(per_unit, float(most), integer=False)
                model.put(demand, x, 1.0)
                link = model.row(-math.inf, 0.0)
                model.put(link, x, 1.0)
                model.put(link, y_of[k], -float(most))
            day.x_by_stock.setdefault((k, line.sku), []).append(x)
            day.x_by_node.setdefault(k, []).append(x)
            xs.append((k, x))
        line_cols.append((line, xs))
    day.order_cols[o] = (u, line_cols, y_of)


def _add_shared_rows(day: _Day, nodes: tuple[Node, ...], stock: dict[str, dict[str, int]]) -> None:
    """Stock, unit and parcel caps: only rows that could bind are written."""
    model = day.model
    for (k, sku), columns in day.x_by_stock.items():
        available = stock[nodes[k].code][sku]
        if sum(model.upper[x] for x in columns) > available:
            row = model.row(-math.inf, float(available))
            day.stock_rows[row] = sku
            for x in columns:
                model.put(row, x, 1.0)
    for k, columns in day.x_by_node.items():
        cap = nodes[k].daily_capacity_units
        if cap is not None and sum(model.upper[x] for x in columns) > cap:
            row = model.row(-math.inf, float(cap))
            day.cap_rows.append(row)
            for x in columns:
                model.put(row, x, 1.0)
    for k, ys in day.y_by_node.items():
        parcels = nodes[k].remaining_capacity_orders
        if parcels is not None and len(ys) > parcels:
            row = model.row(-math.inf, float(parcels))
            day.cap_rows.append(row)
            for y in ys:
                model.put(row, y, 1.0)


def _read_plans(
    day: _Day,
    nodes: tuple[Node, ...],
    orders: tuple[Order, ...],
    values: Any,
    status_text: str,
) -> tuple[list[RoutingResult], float, int]:
    """Each order's result from the solved values; the money of the routed; unrouted count."""
    results: list[RoutingResult] = []
    money = 0.0
    unrouted_in_model = 0
    for o, order in enumerate(orders):
        if o in day.unroutable:
            results.append(_unroutable(order, day.unroutable[o]))
            continue
        u, line_cols, _ = day.order_cols[o]
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
    return results, money, unrouted_in_model


# A plan of one order: (warehouse, SKU, units, x column) per part of a line.
_Plan = list[tuple[int, str, int, int]]


class _Greedy:
    """Plans orders one at a time on the stock, units and parcels that are left."""

    def __init__(
        self,
        model: _Builder,
        nodes: tuple[Node, ...],
        stock: dict[str, dict[str, int]],
        order_cols: dict[int, tuple[int, list[Any], dict[int, int]]],
    ) -> None:
        self.model = model
        self.order_cols = order_cols
        self.values = [0.0] * len(model.cost)
        self.left = {
            (k, sku): qty for k, node in enumerate(nodes) for sku, qty in stock[node.code].items()
        }
        self.units = [
            math.inf if n.daily_capacity_units is None else n.daily_capacity_units for n in nodes
        ]
        self.parcels = [
            math.inf if n.remaining_capacity_orders is None else n.remaining_capacity_orders
            for n in nodes
        ]

    def fits(self, plan: _Plan) -> bool:
        units: dict[int, int] = {}
        for k, sku, quantity, _ in plan:
            units[k] = units.get(k, 0) + quantity
            if self.left.get((k, sku), 0) < quantity:
                return False
        return all(self.parcels[k] >= 1 and self.units[k] >= n for k, n in units.items())

    def take(self, o: int, plan: _Plan | None) -> None:
        u, _, y_of = self.order_cols[o]
        if not plan:
            self.values[u] = 1.0
            return
        for k in {k for k, _, _, _ in plan}:
            self.values[y_of[k]] = 1.0
            self.parcels[k] -= 1
        for k, sku, quantity, x in plan:
            self.values[x] = float(quantity) if x != y_of[k] else 1.0
            self.left[(k, sku)] -= quantity
            self.units[k] -= quantity

    def cheapest(self, o: int) -> _Plan | None:
        """The cheapest warehouse that ships the whole order; else each line whole, cheapest
        first (a parcel's fixed cost counted once); else None."""
        cost_of = self.model.cost
        _, line_cols, y_of = self.order_cols[o]
        best: tuple[float, _Plan] | None = None
        for k, y in y_of.items():
            plan: _Plan = []
            for line, xs in line_cols:
                x = next((x for kk, x in xs if kk == k), None)
                if x is None:
                    break
                plan.append((k, line.sku, line.quantity, x))
            if len(plan) < len(line_cols) or not self.fits(plan):
                continue
            cost = cost_of[y] + sum(cost_of[x] * quantity for _, _, quantity, x in plan if x != y)
            if best is None or cost < best[0]:
                best = (cost, plan)
        if best is not None:
            return best[1]
        used: dict[int, int] = {}
        plan = []
        for line, xs in line_cols:
            options = [
                (cost_of[x] * line.quantity + (0.0 if k in used else cost_of[y_of[k]]), k, x)
                for k, x in xs
                if self.left[(k, line.sku)] >= line.quantity
                and self.units[k] - used.get(k, 0) >= line.quantity
                and (k in used or self.parcels[k] >= 1)
            ]
            if not options:
                return None
            _, k, x = min(options)
            used[k] = used.get(k, 0) + line.quantity
            plan.append((k, line.sku, line.quantity, x))
        return plan


def _greedy_start(
    model: _Builder,
    nodes: tuple[Node, ...],
    stock: dict[str, dict[str, int]],
    order_cols: dict[int, tuple[int, list[Any], dict[int, int]]],
    n_cols: int,
) -> list[float]:
    """A feasible plan to start the search from: orders in turn, cheapest whole-order parcel.

    Each order takes the cheapest warehouse that can ship all of it with the stock and
    capacity left; failing that, each line whole from the cheapest warehouse that can (a
    parcel's fixed cost counted once); failing that, it is left unrouted.
    """
    greedy = _Greedy(model, nodes, stock, order_cols)
    for o in order_cols:
        greedy.take(o, greedy.cheapest(o))
    assert len(greedy.values) == n_cols
    return greedy.values


def _unroutable(order: Order, reason: str) -> RoutingResult:
    return RoutingResult(
        order_id=order.order_id, status=RoutingStatus.UNROUTABLE, method=METHOD, reason=reason
    )


def _highs_model(
    model: _Builder,
    highspy: Any,
    np: Any,
    *,
    relax: bool = False,
    lower: Any = None,
    upper: Any = None,
) -> Any:
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
    lp.col_lower_ = np.zeros(n_cols) if lower is None else np.asarray(lower, dtype=float)
    lp.col_upper_ = np.array(model.upper) if upper is None else np.asarray(upper, dtype=float)
    lp.row_lower_ = np.array([-inf if math.isinf(v) else v for v in model.row_lower])
    lp.row_upper_ = np.array([inf if math.isinf(v) else v for v in model.row_upper])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    if not relax:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
            for integer in model.integer
        ]
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)  # before passModel, or it prints its banner
    highs.passModel(lp)
    return highs


def _run_mip(
    highs: Any, start: Sequence[float] | None, options: OptimumOptions, seconds: float, highspy: Any
) -> tuple[list[float] | None, float, float, str]:
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        highs.setSolution(solution)
    highs.setOptionValue("time_limit", max(1.0, float(seconds)))
    highs.setOptionValue("mip_rel_gap", float(options.gap))
    highs.setOptionValue("threads", int(options.threads))
    highs.run()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2
    return (
        list(highs.getSolution().col_value) if has_solution else None,
        float(info.objective_function_value) if has_solution else math.inf,
        float(info.mip_dual_bound),
        highs.modelStatusToString(highs.getModelStatus()),
    )


def _objective(model: _Builder, values: Sequence[float]) -> float:
    return float(sum(c * v for c, v in zip(model.cost, values, strict=True)))


def _solve(
    day: _Day,
    stock: dict[str, dict[str, int]],
    start: list[float],
    options: OptimumOptions,
    highspy: Any,
    np: Any,
) -> tuple[Sequence[float], float, _Bounds, str]:
    """Best plan found and a proven lower bound within the time limit.

    Small models: HiGHS's MIP, started from the greedy plan. Large ones (the root LP of the
    MIP's dual simplex takes too long there):

    1. the LP relaxation by interior point, whose optimum is a proven lower bound, and its
       duals;
    2. a Lagrangian bound with those duals as prices (``_lagrangian``): every order whole and
       the stock of over-demanded SKUs exact, the other shared rows priced;
    3. a plan: every parcel/unrouted choice the LP settled (0 or 1) fixed, the rest solved as
       a MIP, which is small;
    4. if the gap is still above the target and time is left, the whole MIP from the best
       plan, whose dual bound may improve the others.

    Returns (values, objective, bounds, status).
    """
    model = day.model
    deadline = time.perf_counter() + options.time_limit_seconds
    best, best_objective = start, _objective(model, start)
    bounds = _Bounds()
    if len(model.cost) <= options.direct_columns:
        values, objective, bound, status = _run_mip(
            _highs_model(model, highspy, np), start, options, options.time_limit_seconds, highspy
        )
        if values is not None and objective <= best_objective:
            best, best_objective = values, objective
        bounds.best = bounds.mip = bound
        return best, best_objective, bounds, status
    relaxation = _highs_model(model, highspy, np, relax=True)
    relaxation.setOptionValue("solver", "ipm")
    relaxation.setOptionValue("time_limit", float(options.time_limit_seconds))
    relaxation.run()
    if relaxation.modelStatusToString(relaxation.getModelStatus()) != "Optimal":
        return best, best_objective, bounds, "LP relaxation not solved in time"
    bounds.lp = bounds.best = float(relaxation.getInfo().objective_function_value)
    status = "LP bound"
    solution = relaxation.getSolution()
    if options.lagrangian_share > 0:
        seconds = options.lagrangian_share * (deadline - time.perf_counter())
        bounds.lagrangian = _lagrangian(
            day, stock, solution.row_dual, time.perf_counter() + seconds, highspy, np
        )
        if bounds.lagrangian > bounds.best:
            bounds.best, status = bounds.lagrangian, "Lagrangian bound"
    values = _lp_fixed_plan(model, solution.col_value, options, deadline, highspy, np)
    status += ", plan from the LP-fixed MIP"
    if values is not None and _objective(model, values) < best_objective:
        best, best_objective = values, _objective(model, values)
    if (best_objective - bounds.best) / best_objective > options.gap and (
        deadline - time.perf_counter() > 30
    ):
        values, objective, mip_bound, mip_status = _run_mip(
            _highs_model(model, highspy, np), best, options, deadline - time.perf_counter(), highspy
        )
        if values is not None and objective < best_objective:
            best, best_objective = values, objective
        bounds.mip = mip_bound
        if mip_bound > bounds.best:
            bounds.best, status = mip_bound, f"MIP {mip_status}"
    return best, best_objective, bounds, status


def _lp_fixed_plan(
    model: _Builder,
    lp_values: Sequence[float],
    options: OptimumOptions,
    deadline: float,
    highspy: Any,
    np: Any,
) -> list[float] | None:
    """Every parcel/unrouted choice the LP settled (0 or 1) fixed, the rest solved as a MIP."""
    lower = [0.0] * len(model.cost)
    upper = list(model.upper)
    for col, integer in enumerate(model.integer):
        if integer and lp_values[col] < 1e-6:
            upper[col] = 0.0
        elif integer and lp_values[col] > 1 - 1e-6:
            lower[col] = 1.0
    values, _, _, _ = _run_mip(
        _highs_model(model, highspy, np, lower=lower, upper=upper),
        None,
        options,
        deadline - time.perf_counter(),
        highspy,
    )
    return values


def _scarce_skus(day: _Day, stock: dict[str, dict[str, int]]) -> set[str]:
    """SKUs the day's orders ask for more units of than all usable stock holds."""
    demand: dict[str, int] = {}
    for _, line_cols, _ in day.order_cols.values():
        for line, _ in line_cols:
            demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    supply: dict[str, int] = {}
    for totals in stock.values():
        for sku, quantity in totals.items():
            supply[sku] = supply.get(sku, 0) + quantity
    return {sku for sku, units in demand.items() if units > supply.get(sku, 0)}


def _lagrangian(
    day: _Day,
    stock: dict[str, dict[str, int]],
    duals: Sequence[float],
    deadline: float,
    highspy: Any,
    np: Any,
) -> float:
    """A lower bound that keeps every order whole and the scarce stock exact.

    For prices ``p >= 0`` on some of the shared rows ``a x <= b`` (stock, unit and parcel caps),
    ``min (c + p A) x - p b`` over the plans that respect the other rows is at most the day's
    optimum, whatever ``p`` (Lagrangian relaxation). Here the prices are the LP's duals, and the
    rows kept exact are the stock rows of SKUs the day asks more units of than there are, with a
    positive dual: where orders compete for the last units, which the LP shares out in
    fractions. What remains falls apart into groups of orders that share a kept row; they are
    solved as MIPs in batches of about ``BATCH_COLUMNS`` columns, and their dual bounds added.
    With the LP's duals the bound is at least the LP's, up to the MIPs' gaps.

    Returns the bound, ``-inf`` if a batch had none in time.
    """
    model = day.model
    scarce = _scarce_skus(day, stock)
    price = {row: max(0.0, -float(duals[row])) for row in (*day.stock_rows, *day.cap_rows)}
    kept = {row for row, sku in day.stock_rows.items() if sku in scarce and price[row] > 1e-9}
    priced = {row: p for row, p in price.items() if row not in kept}
    costs = list(model.cost)
    for col, entries in enumerate(model.entries):
        for row, coefficient in entries:
            if row in priced:
                costs[col] += priced[row] * coefficient
    bound = -sum(p * model.row_upper[row] for row, p in priced.items())
    columns_left = len(model.cost)
    for batch in _batches(day, _groups(day, kept)):
        columns = [col for o in batch for col in day.columns_of(o)]
        seconds = max(5.0, (deadline - time.perf_counter()) * len(columns) / columns_left)
        columns_left -= len(columns)
        sub = _Builder()
        row_of: dict[int, int] = {}
        for col in columns:
            j = sub.column(costs[col], model.upper[col], integer=model.integer[col])
            for row, coefficient in model.entries[col]:
                if row not in priced:
                    if row not in row_of:
                        row_of[row] = sub.row(model.row_lower[row], model.row_upper[row])
                    sub.put(row_of[row], j, coefficient)
        _, _, batch_bound, _ = _run_mip(
            _highs_model(sub, highspy, np), None, OptimumOptions(gap=BATCH_GAP), seconds, highspy
        )
        if not math.isfinite(batch_bound):
            return -math.inf
        bound += batch_bound
    return bound


def _groups(day: _Day, kept: set[int]) -> list[list[int]]:
    """The orders joined by the rows of ``kept`` (union-find), largest group first."""
    parent = {o: o for o in day.order_cols}

    def root(o: int) -> int:
        while parent[o] != o:
            parent[o] = parent[parent[o]]
            o = parent[o]
        return o

    first_order_of_row: dict[int, int] = {}
    for o in day.order_cols:
        for col in day.columns_of(o):
            for row, _ in day.model.entries[col]:
                if row in kept:
                    parent[root(o)] = root(first_order_of_row.setdefault(row, o))
    groups: dict[int, list[int]] = {}
    for o in day.order_cols:
        groups.setdefault(root(o), []).append(o)
    return sorted(groups.values(), key=len, reverse=True)


def _batches(day: _Day, groups: list[list[int]]) -> list[list[int]]:
    """Whole groups packed into batches of about ``BATCH_COLUMNS`` columns."""
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for group in groups:
        columns = sum(len(day.columns_of(o)) for o in group)
        if current and size + columns > BATCH_COLUMNS:
            batches.append(current)
            current, size = [], 0
        current.extend(group)
        size += columns
    if current:
        batches.append(current)
    return batches


def _fractional_units(model: _Builder, values: Sequence[float]) -> bool:
    return any(
        not model.integer[col] and abs(values[col] - round(values[col])) > 1e-6
        for col in range(len(model.cost))
    )


def _integral_flow(model: _Builder, values: Sequence[float], highspy: Any, np: Any) -> Any:
    """Fix the parcels and unrouted choices and re-solve the unit flow as an LP (simplex).

    With the integer columns fixed the model is a network flow with integral capacities, so the
    simplex's basic optimum ships whole units.
    """
    lower = [0.0] * len(model.cost)
    upper = list(model.upper)
    for col, integer in enumerate(model.integer):
        if integer:
            lower[col] = upper[col] = float(round(values[col]))
    highs = _highs_model(model, highspy, np, relax=True, lower=lower, upper=upper)
    highs.setOptionValue("solver", "simplex")
    highs.run()
    return np.array(highs.getSolution().col_value)
