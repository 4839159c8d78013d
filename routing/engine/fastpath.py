"""Skip the solver when a single-node plan is provably optimal.

Claim. Let ``c[l][k]`` be the per-unit and ``F[k] >= 0`` the per-shipment coefficients, ``q[l]``
the line quantities, and let ``S*`` be the best objective over nodes that can ship the whole
order alone. Let ``V = sum_l q[l] * min_k c[l][k]`` (minimum over nodes allowed to ship line
l) and ``F1 <= F2`` the two smallest fixed costs. If ``S* <= V + F1 + F2`` then the best
single-node plan is optimal.

Proof. A feasible plan either uses one node - then it is one of the single-node plans, so it
costs at least ``S*`` - or it uses at least two distinct nodes. In the second case every unit
of line l costs at least ``min_k c[l][k]`` and at least two fixed costs are paid, each at least
as large as the two smallest, so the plan costs at least ``V + F1 + F2 >= S*``. Hence no plan
beats ``S*``. (Both sides carry the same constant offset.)

The same bound prunes the MILP: a node k can appear in a plan with two or more nodes that beats
an upper bound U only if ``F[k] + min_{j != k} F[j] + V < U``; other nodes are dropped before
the model is built. ``tests/routing/engine/test_fastpath.py`` checks both against the full MILP
on random instances.
"""

from __future__ import annotations

import math

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy ships with highspy
    np = None  # type: ignore[assignment]  # absent optional module; checked before use

from routing.engine.factors import OrderModel
from routing.engine.plan import Plan, single_node_objectives, single_node_plan

_EPS = 1e-12


def variable_lower_bound(model: OrderModel) -> float:
    """``V``: every unit at its cheapest allowed node; +inf if some line has no node."""
    total = 0.0
    for li, line in enumerate(model.lines):
        best = min(
            (c for c, u in zip(model.unit_cost[li], model.upper[li], strict=True) if u > 0),
            default=math.inf,
        )
        total += best * line.quantity
    return total


def two_smallest(values: list[float]) -> tuple[float, float]:
    first = second = math.inf
    for v in values:
        if v < first:
            first, second = v, first
        elif v < second:
            second = v
    return first, second


def fast_path(model: OrderModel) -> Plan | None:
    """The best single-node plan if it is provably optimal (see module docstring), else None."""
    singles = single_node_objectives(model)
    if not singles:
        return None
    best_objective, k = singles[0]
    f1, f2 = two_smallest(model.fixed_cost)
    bound = variable_lower_bound(model) + f1 + f2 + model.offset
    if best_objective <= bound + _EPS:
        plan = single_node_plan(model, k, best_objective, "fast_path")
        return Plan(plan.quantities, plan.objective, "fast_path", optimal=True)
    return None


def prune_for_split(model: OrderModel, upper_bound: float) -> list[int]:
    """Nodes that can still be part of a multi-node plan cheaper than ``upper_bound``."""
    base = variable_lower_bound(model) + model.offset
    f1, f2 = two_smallest(model.fixed_cost)
    keep = []
    for k, fixed in enumerate(model.fixed_cost):
        other = f2 if fixed == f1 else f1
        if fixed + other + base < upper_bound - _EPS:
            keep.append(k)
    return keep


def _bound_over(model: OrderModel, nodes: list[int], count: int) -> float:
    """``V_K`` plus the least fixed costs of ``count`` or more nodes of ``nodes`` that together
    hold every line (``cover_fixed_cost``), both taken over ``nodes`` only."""
    total = model.offset
    for li, line in enumerate(model.lines):
        row, upper = model.unit_cost[li], model.upper[li]
        total += line.quantity * min((row[k] for k in nodes if upper[k] > 0), default=math.inf)
    return total + cover_fixed_cost(model, nodes, count)


MAX_COVER_LINES = 12


def cover_fixed_cost(model: OrderModel, nodes: list[int], count: int) -> float:
    """Least sum of fixed costs over sets of ``count`` or more nodes that hold every line.

    A plan with ``count`` or more shipments pays the fixed cost of each node it uses, and its
    nodes between them hold every line, so this bounds its fixed part from below; it is much
    tighter than the ``count`` smallest fixed costs when the cheap nodes hold few lines (risk
    prices are per parcel, so a far node's fixed cost is high). Dynamic programme over (nodes
    used, capped at ``count``; lines held as a bit mask); for each mask only the ``count``
    cheapest nodes can matter. Past ``MAX_COVER_LINES`` lines it falls back to the ``count``
    smallest fixed costs.
    """
    fixed = model.fixed_cost
    n_lines = len(model.lines)
    if n_lines > MAX_COVER_LINES:
        costs = sorted(fixed[k] for k in nodes)
        return sum(costs[:count]) if len(costs) >= count else math.inf
    by_mask: dict[int, list[float]] = {}
    for k in nodes:
        mask = 0
        for li in range(n_lines):
            if model.upper[li][k] > 0:
                mask |= 1 << li
        by_mask.setdefault(mask, []).append(fixed[k])
    full = (1 << n_lines) - 1
    best: dict[tuple[int, int], float] = {(0, 0): 0.0}
    for mask, costs in by_mask.items():
        for cost in sorted(costs)[:count]:
            step = dict(best)
            for (used, held), value in best.items():
                key = (min(used + 1, count), held | mask)
                if value + cost < step.get(key, math.inf):
                    step[key] = value + cost
            best = step
    return best.get((count, full), math.inf)


def best_pair_plan(model: OrderModel, nodes: list[int]) -> Plan | None:
    """The cheapest plan shipping from exactly the two nodes of some pair in ``nodes``.

    Valid only when no node in ``nodes`` is capacity-bound for this order (the caller checks):
    then, for a fixed pair, lines are independent and each is filled from the node that is
    cheaper per unit first - optimal for a two-node transportation problem with bounds. All
    pairs are evaluated at once with numpy (lines x nodes x nodes arrays).
    """
    if len(nodes) < 2:
        return None
    if np is None:  # pragma: no cover - numpy ships with highspy
        return _best_pair_plan_loops(model, nodes)
    index = np.asarray(nodes)
    cost = np.asarray(model.unit_cost, dtype=float)[:, index]  # L x K
    upper = np.asarray(model.upper, dtype=float)[:, index]
    qty = np.asarray([line.quantity for line in model.lines], dtype=float)[:, None]
    take = np.minimum(upper, qty)  # units a node would take if it were filled first
    ca, cb = cost[:, :, None], cost[:, None, :]
    ta, tb = take[:, :, None], take[:, None, :]
    q3 = qty[:, :, None]
    a_first = ca <= cb
    line_cost = np.where(a_first, ca * ta + cb * (q3 - ta), cb * tb + ca * (q3 - tb))
    feasible = (upper[:, :, None] + upper[:, None, :] >= q3).all(axis=0)
    fixed = np.asarray(model.fixed_cost, dtype=float)[index]
    total = line_cost.sum(axis=0) + fixed[:, None] + fixed[None, :] + model.offset
    total[~feasible] = np.inf
    np.fill_diagonal(total, np.inf)
    flat = int(np.argmin(total))
    best_value = float(total.flat[flat])
    if not np.isfinite(best_value):
        return None
    a, b = nodes[flat // len(nodes)], nodes[flat % len(nodes)]
    return _pair_plan(model, a, b, best_value)


def _pair_plan(model: OrderModel, a: int, b: int, value: float) -> Plan:
    quantities: dict[tuple[int, int], int] = {}
    for li, line in enumerate(model.lines):
        q = line.quantity
        first, second = (a, b) if model.unit_cost[li][a] <= model.unit_cost[li][b] else (b, a)
        take = min(q, model.upper[li][first])
        if take:
            quantities[(li, first)] = take
        if q - take:
            quantities[(li, second)] = q - take
    return Plan(quantities, value, "fast_path:pair")


def _best_pair_plan_loops(model: OrderModel, nodes: list[int]) -> Plan | None:
    cost, upper, fixed = model.unit_cost, model.upper, model.fixed_cost
    best_value, best_pair = math.inf, None
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            value = fixed[a] + fixed[b] + model.offset
            for li, line in enumerate(model.lines):
                q, ua, ub = line.quantity, upper[li][a], upper[li][b]
                if ua + ub < q:
                    value = math.inf
                    break
                ca, cb = cost[li][a], cost[li][b]
                if ca <= cb:
                    take = min(q, ua)
                    value += ca * take + cb * (q - take)
                else:
                    take = min(q, ub)
                    value += cb * take + ca * (q - take)
            if value < best_value:
                best_value, best_pair = value, (a, b)
    return None if best_pair is None else _pair_plan(model, *best_pair, best_value)


def split_fast_path(model: OrderModel, incumbent: Plan | None, nodes: list[int]) -> Plan | None:
    """Prove the best plan with at most two shipments optimal without a solver, if possible.

    ``nodes`` are the nodes left by ``prune_for_split`` for the incumbent's objective. Claim:
    if no node there is capacity-bound and ``min(incumbent, best pair) <= V_K + C3`` (taken
    over ``nodes``; ``C3`` the least fixed costs of three or more of them that hold every
    line, ``cover_fixed_cost``), that minimum is optimal. Proof: a plan with one node is no better
    than the incumbent's single-node optimum (or there is none); a plan with exactly two nodes
    that beats the incumbent uses two pruned-in nodes, and ``best_pair_plan`` finds the best of
    those exactly; a plan with three or more nodes that beats the incumbent uses only
    pruned-in nodes that hold every line between them, and pays at least ``V_K`` for its
    units and ``C3`` for its shipments.
    """
    units = sum(line.quantity for line in model.lines)
    if any(model.capacity_units[k] < units for k in nodes):
        return None
    pair = best_pair_plan(model, nodes)
    candidates = [p for p in (incumbent, pair) if p is not None]
    if not candidates:
        return None
    best = min(candidates, key=lambda p: p.objective)
    # Re-prune with the better bound: fewer nodes, tighter V_K.
    nodes = prune_for_split(model, best.objective)
    if len(nodes) < 3 or best.objective <= _bound_over(model, nodes, 3) + _EPS:
        method = "fast_path:greedy" if best.method == "greedy" else best.method
        return Plan(best.quantities, best.objective, method, optimal=True)
    return None


def plan_with_bound(model: OrderModel) -> tuple[Plan | None, float]:
    """A good plan and a valid lower bound on the optimum, without calling a solver.

    Used to price columns in batch mode, where thousands of orders are re-solved per round: the
    bound keeps the batch's Lagrangian bound valid even when the plan is not proved optimal.
    Single-node plans are enumerated exactly; two-node plans exactly when no pruned-in node is
    capacity-bound (``best_pair_plan``), otherwise bounded by ``V_K + C2``; plans with three or
    more nodes by ``V_K + C3`` (``Cn``: ``cover_fixed_cost``).
    """
    singles = single_node_objectives(model)
    best: Plan | None = None
    if singles:
        objective, k = singles[0]
        best = single_node_plan(model, k, objective, "fast_path")
        f1, f2 = two_smallest(model.fixed_cost)
        if objective <= variable_lower_bound(model) + f1 + f2 + model.offset + _EPS:
            return best, objective
    if best is None:
        from routing.engine.greedy import greedy_plan  # local: greedy imports plan helpers

        best = greedy_plan(model)
    if best is None and any(
        sum(row) < line.quantity for row, line in zip(model.upper, model.lines, strict=True)
    ):
        return None, math.inf
    upper_bound = best.objective if best is not None else math.inf
    nodes = prune_for_split(model, upper_bound)
    single_bound = singles[0][0] if singles else math.inf
    if len(nodes) < 2:
        return best, min(single_bound, upper_bound)
    units = sum(line.quantity for line in model.lines)
    if any(model.capacity_units[k] < units for k in nodes):
        pair_bound = _bound_over(model, nodes, 2)
    else:
        pair = best_pair_plan(model, nodes)
        pair_bound = pair.objective if pair is not None else math.inf
        if pair is not None and (best is None or pair.objective < best.objective):
            best = pair
    bound = min(single_bound, pair_bound, _bound_over(model, nodes, 3), upper_bound)
    return best, bound
