"""The cheapest feasible plan for one order, found without any of the engine's solver code.

A reference for the all-money profile: branch and bound over sets of warehouses, and for each
set a min-cost assignment of the order's units to it (successive shortest paths on a
lines -> warehouses network). It reads the engine's frozen dataclasses and restates the hard
rules itself - paused warehouses, regions served, remaining unit and parcel capacity, cold
chain, minimum shelf life - so a mistake in the engine's model building, fast path, pruning or
MILP shows up as a difference in cost.

Sets are explored cheapest parcel first; a set is abandoned once its parcels alone (shipping
plus handling per parcel) plus the cheapest possible handling of every unit reach the best
plan found, which is what makes the search exhaustive without visiting every subset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from routing.engine.problem import Node, NodeStatus, Order, Temperature

# Minimum shelf life (days) for a batch to be usable, by temperature class (restated here).
SHELF_LIFE_DAYS = {
    Temperature.AMBIENT: 30.0,
    Temperature.CHILLED: 2.0,
    Temperature.FROZEN: 14.0,
}


@dataclass(frozen=True)
class Cheapest:
    """The least money an order can be shipped for, and the warehouses that do it."""

    cost: float
    node_codes: tuple[str, ...]


def _lines(order: Order) -> list[tuple[str, int, bool, Temperature]]:
    merged: dict[str, list] = {}
    for line in order.lines:
        entry = merged.setdefault(line.sku, [0, False, line.temperature])
        entry[0] += line.quantity
        if line.temperature is not Temperature.AMBIENT:
            entry[1], entry[2] = True, line.temperature
    return [(sku, q, cold, temp) for sku, (q, cold, temp) in merged.items() if q > 0]


def _usable(node: Node, sku: str, temperature: Temperature) -> int:
    floor = SHELF_LIFE_DAYS[temperature]
    return sum(
        b.quantity
        for b in node.stock
        if b.sku == sku and (b.expires_in_days is None or b.expires_in_days >= floor)
    )


def _shortest_paths(
    graph: list[list[list]], source: int
) -> tuple[list[float], list[tuple[int, int] | None]]:
    """Bellman-Ford from ``source`` over arcs with capacity left (residual arcs cost < 0)."""
    size = len(graph)
    dist = [math.inf] * size
    back: list[tuple[int, int] | None] = [None] * size
    dist[source] = 0.0
    for _ in range(size):
        changed = False
        for a in range(size):
            if dist[a] == math.inf:
                continue
            for i, (b, capacity, cost, _) in enumerate(graph[a]):
                if capacity > 0 and dist[a] + cost < dist[b] - 1e-12:
                    dist[b], back[b], changed = dist[a] + cost, (a, i), True
        if not changed:
            break
    return dist, back


def _min_cost_flow(
    quantities: list[int], bounds: list[list[int]], unit_costs: list[float], caps: list[float]
) -> float:
    """Cheapest way to send every line's quantity to the warehouses (inf if impossible)."""
    n_lines, n_nodes = len(quantities), len(unit_costs)
    source, sink = n_lines + n_nodes, n_lines + n_nodes + 1
    graph: list[list[list]] = [[] for _ in range(sink + 1)]

    def arc(a: int, b: int, capacity: float, cost: float) -> None:
        graph[a].append([b, capacity, cost, len(graph[b])])
        graph[b].append([a, 0, -cost, len(graph[a]) - 1])

    for li, q in enumerate(quantities):
        arc(source, li, q, 0.0)
        for k in range(n_nodes):
            if bounds[li][k] > 0:
                arc(li, n_lines + k, bounds[li][k], unit_costs[k])
    for k, cap in enumerate(caps):
        arc(n_lines + k, sink, cap, 0.0)
    need, total = sum(quantities), 0.0
    while need > 0:
        dist, back = _shortest_paths(graph, source)
        if dist[sink] == math.inf:
            return math.inf
        path: list[tuple[int, int]] = []
        node = sink
        while node != source:
            step = back[node]
            assert step is not None
            path.append(step)
            node = step[0]
        push = min(need, *(graph[a][i][1] for a, i in path))
        for a, i in path:
            graph[a][i][1] -= push
            b, _, _, rev = graph[a][i]
            graph[b][rev][1] += push
        need -= push
        total += push * dist[sink]
    return total


def _serves(node: Node, region: str) -> bool:
    """Open, shipping to ``region``, with unit and parcel capacity left."""
    if node.status is NodeStatus.PAUSED or region not in node.shipping_cost_by_region:
        return False
    if region not in node.transit_hours_by_region:
        return False
    for left in (node.remaining_capacity_units, node.remaining_capacity_orders):
        if left is not None and left <= 0:
            return False
    return True


def cheapest_plan(order: Order, nodes: tuple[Node, ...]) -> Cheapest | None:
    """The least money (shipping + handling) any feasible plan costs; None if none exists."""
    lines = _lines(order)
    quantities = [q for _, q, _, _ in lines]
    region = order.region
    candidates = []
    for node in nodes:
        if not _serves(node, region):
            continue
        bounds = [
            0 if cold and not node.cold_chain else min(q, _usable(node, sku, temp))
            for sku, q, cold, temp in lines
        ]
        if any(bounds):
            parcel = node.shipping_cost_by_region[region] + node.handling_cost_per_shipment
            candidates.append((parcel, node, bounds))
    candidates.sort(key=lambda c: (c[0], c[1].code))
    if not candidates:
        return None
    cheapest_unit = min(c[1].handling_cost_per_unit for c in candidates)
    units_floor = cheapest_unit * sum(quantities)
    best: list = [math.inf, ()]

    def evaluate(chosen: list[int], parcels: float) -> None:
        bounds = [[candidates[k][2][li] for k in chosen] for li in range(len(lines))]
        if any(sum(row) < q for row, q in zip(bounds, quantities, strict=True)):
            return
        unit_costs = [candidates[k][1].handling_cost_per_unit for k in chosen]
        caps: list[float] = []
        for k in chosen:
            units_left = candidates[k][1].remaining_capacity_units
            caps.append(math.inf if units_left is None else float(units_left))
        cost = parcels + _min_cost_flow(quantities, bounds, unit_costs, caps)
        if cost < best[0] - 1e-9:
            best[0], best[1] = cost, tuple(candidates[k][1].code for k in chosen)

    def search(start: int, chosen: list[int], parcels: float) -> None:
        for k in range(start, len(candidates)):
            total = parcels + candidates[k][0]
            if total + units_floor >= best[0] - 1e-9:
                break  # candidates are sorted by parcel cost: no later one fits either
            chosen.append(k)
            evaluate(chosen, total)
            search(k + 1, chosen, total)
            chosen.pop()

    everyone = list(range(len(candidates)))
    evaluate(everyone, sum(c[0] for c in candidates))
    if best[0] == math.inf:
        return None  # not even every warehouse together can ship it
    search(0, [], 0.0)
    return None if best[0] == math.inf else Cheapest(best[0], best[1])
