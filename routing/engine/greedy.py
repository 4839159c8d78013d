"""Greedy fallback: a feasible plan without a solver, used on time-outs and solver errors.

Algorithm: first the best node that can ship the whole order alone (one parcel is what most
orders get). Otherwise lines are taken scarcest first (fewest nodes able to ship them) and
filled from nodes in order of their marginal cost per unit - the per-unit coefficient plus the
node's fixed cost spread over the units it would take, with the fixed cost waived for nodes
already opened - respecting stock bounds and remaining capacity. Every allocation stays within
bounds, so any plan returned is feasible; None means the greedy could not cover some line (the
caller then reports the order unroutable with the reason).
"""

from __future__ import annotations

from routing.engine.factors import OrderModel
from routing.engine.plan import Plan, plan_objective, single_node_objectives, single_node_plan


def greedy_plan(model: OrderModel) -> Plan | None:
    """A feasible plan for ``model``, or None if greedy filling cannot cover every line."""
    singles = single_node_objectives(model)
    if singles:
        objective, k = singles[0]
        return single_node_plan(model, k, objective, "greedy")

    n_nodes = len(model.nodes)
    remaining_capacity = list(model.capacity_units)
    opened: set[int] = set()
    quantities: dict[tuple[int, int], int] = {}
    order_of_lines = sorted(
        range(len(model.lines)),
        key=lambda li: sum(1 for k in range(n_nodes) if model.upper[li][k] > 0),
    )
    for li in order_of_lines:
        needed = model.lines[li].quantity
        while needed > 0:
            best_k, best_rate, best_take = -1, float("inf"), 0
            for k in range(n_nodes):
                take = min(needed, model.upper[li][k] - quantities.get((li, k), 0))
                take = int(min(take, remaining_capacity[k]))
                if take <= 0:
                    continue
                fixed = 0.0 if k in opened else model.fixed_cost[k]
                rate = model.unit_cost[li][k] + fixed / take
                if rate < best_rate:
                    best_k, best_rate, best_take = k, rate, take
            if best_k < 0:
                return None
            quantities[(li, best_k)] = quantities.get((li, best_k), 0) + best_take
            remaining_capacity[best_k] -= best_take
            opened.add(best_k)
            needed -= best_take
    return Plan(quantities, plan_objective(model, quantities), "greedy")
