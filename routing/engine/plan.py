"""A plan for one order (units per line and node) and its checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.engine.factors import OrderModel


@dataclass(frozen=True)
class Plan:
    """Units of line ``l`` from node ``k`` as ``{(l, k): units}``; objective includes the offset."""

    quantities: dict[tuple[int, int], int]
    objective: float
    method: str
    optimal: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def nodes_used(self) -> list[int]:
        return sorted({k for (_, k), q in self.quantities.items() if q > 0})


def plan_objective(model: OrderModel, quantities: dict[tuple[int, int], int]) -> float:
    """The linear objective of ``quantities`` under ``model`` (with the constant offset)."""
    used = {k for (_, k), q in quantities.items() if q > 0}
    return (
        sum(model.unit_cost[li][k] * q for (li, k), q in quantities.items())
        + sum(model.fixed_cost[k] for k in used)
        + model.offset
    )


def plan_violations(model: OrderModel, quantities: dict[tuple[int, int], int]) -> list[str]:
    """Every constraint the plan breaks (empty list: feasible)."""
    problems = []
    for li, line in enumerate(model.lines):
        shipped = sum(q for (l2, _), q in quantities.items() if l2 == li)
        if shipped != line.quantity:
            problems.append(f"line {line.sku}: {shipped} of {line.quantity} units planned")
    per_node: dict[int, int] = {}
    for (li, k), q in quantities.items():
        if q < 0 or q > model.upper[li][k]:
            problems.append(f"line {model.lines[li].sku} at {model.nodes[k].code}: {q} > bound")
        per_node[k] = per_node.get(k, 0) + q
    for k, units in per_node.items():
        if units > model.capacity_units[k]:
            problems.append(f"{model.nodes[k].code}: {units} units > capacity")
    return problems


def single_node_objectives(model: OrderModel) -> list[tuple[float, int]]:
    """(objective, node index) of every node that can ship the whole order alone, best first."""
    lines = model.lines
    units = sum(line.quantity for line in lines)
    out = []
    for k in range(len(model.nodes)):
        if model.capacity_units[k] < units:
            continue
        cost = model.fixed_cost[k]
        for li, line in enumerate(lines):
            if model.upper[li][k] < line.quantity:
                break
            cost += model.unit_cost[li][k] * line.quantity
        else:
            out.append((cost + model.offset, k))
    out.sort()
    return out


def single_node_plan(model: OrderModel, k: int, objective: float, method: str) -> Plan:
    quantities = {(li, k): line.quantity for li, line in enumerate(model.lines)}
    return Plan(quantities, objective, method)
