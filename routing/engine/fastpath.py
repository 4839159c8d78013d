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
