"""The nearest-stocked-warehouse rule: the static rule most platforms ship, as a comparator.

Stated rule: ship from the nearest warehouse (great-circle distance) that holds every line and
has capacity left; otherwise the fewest-shipments split, nearest sets first; otherwise split
units nearest-first. It knows stock (batches with enough shelf life), cold chain, the regions a
warehouse ships to and the capacity left (units and parcels); it ignores cost, weather, carrier
saturation and, unless ``honour_pause`` ("aware"), a warehouse's live status ("blind").

How each tier reads here:

1. **Whole order.** Warehouses sorted by distance to the destination; the first that can ship
   every line in full (usable stock, cold chain) with units and a parcel left gets it.
2. **Fewest-shipments split, lines whole.** Each warehouse covers the set of lines it can ship in
   full (with room for it). The smallest number m of warehouses whose covers include every
   line is found by exact set-cover search; the covers of that size are tried in increasing
   total distance (sum of the warehouses' distances; ties by the sorted codes), and within a
   set each line goes to the nearest member that holds it and still has room. The first set
   that fits wins. To bound the search only the three nearest warehouses with the same cover
   are kept (a farther twin only matters when capacity makes the nearer ones fail).
3. **Units nearest-first.** Line by line, units are taken from the nearest warehouse that holds
   any, then the next nearest, until the line is filled; capacity is counted as it goes. If a
   line still lacks units the order is unroutable.
"""

from __future__ import annotations

import math

from routing.engine.factors import ModelLine, haversine_km, merged_lines, usable_stock
from routing.engine.problem import (
    Node,
    NodeStatus,
    Order,
    Rejection,
    RoutingContext,
    RoutingResult,
    RoutingStatus,
    Shipment,
    ShipmentLine,
)

METHOD_BLIND = "nearest"
METHOD_AWARE = "nearest+pause"
# Tier 2 stops looking for a cover with more warehouses than this (the order then falls to tier
# 3); no order in the shared worlds has more than six distinct lines.
MAX_SPLIT_WAREHOUSES = 6


def _room(node: Node) -> float:
    """Units the warehouse can still ship today (0 when its parcels are used up)."""
    if node.remaining_capacity_orders is not None and node.remaining_capacity_orders <= 0:
        return 0.0
    if node.remaining_capacity_units is None:
        return math.inf
    return float(node.remaining_capacity_units)


def _available(node: Node, line: ModelLine) -> int:
    if line.temperature.needs_cold_chain and not node.cold_chain:
        return 0
    return usable_stock(node, line.sku, line.temperature)[0]


def _whole_lines_split(
    lines: list[ModelLine], nodes: list[Node], distance: dict[str, float]
) -> dict[str, list[ShipmentLine]] | None:
    """Tier 2: fewest warehouses shipping whole lines, nearest sets first."""
    masks: list[int] = []
    members: list[Node] = []
    for node in nodes:
        room = _room(node)
        mask = 0
        for li, line in enumerate(lines):
            if line.quantity <= room and _available(node, line) >= line.quantity:
                mask |= 1 << li
        if mask:
            masks.append(mask)
            members.append(node)
    union = 0
    for mask in masks:
        union |= mask
    if union != (1 << len(lines)) - 1:
        return None
    # The nearest set of a given size takes the nearest warehouse of each cover pattern; farther
    # ones only matter when capacity makes a set fail. Keeping the three nearest per pattern
    # bounds the search (members are already in distance order).
    kept: dict[int, int] = {}
    pruned_masks: list[int] = []
    pruned_members: list[Node] = []
    for mask, node in zip(masks, members, strict=True):
        if kept.get(mask, 0) < 3:
            kept[mask] = kept.get(mask, 0) + 1
            pruned_masks.append(mask)
            pruned_members.append(node)
    for size in range(2, min(len(lines), MAX_SPLIT_WAREHOUSES) + 1):
        covers = _minimal_covers(pruned_masks, len(lines), size)
        if not covers:
            continue
        covers.sort(
            key=lambda cover: (
                sum(distance[pruned_members[i].code] for i in cover),
                sorted(pruned_members[i].code for i in cover),
            )
        )
        for cover in covers:
            allocation = _assign_whole_lines(lines, [pruned_members[i] for i in cover], distance)
            if allocation is not None:
                return allocation
    return None


def _minimal_covers(masks: list[int], n_lines: int, size: int) -> list[tuple[int, ...]]:
    """Sets of exactly ``size`` warehouses covering every line (set-cover branching)."""
    full = (1 << n_lines) - 1
    found: set[tuple[int, ...]] = set()

    def walk(chosen: tuple[int, ...], covered: int) -> None:
        if covered == full:
            if len(chosen) == size:
                found.add(tuple(sorted(chosen)))
            return
        if len(chosen) == size:
            return
        missing = next(li for li in range(n_lines) if not covered >> li & 1)
        for index, mask in enumerate(masks):
            if mask >> missing & 1 and index not in chosen:
                walk((*chosen, index), covered | mask)

    walk((), 0)
    return list(found)


def _assign_whole_lines(
    lines: list[ModelLine], members: list[Node], distance: dict[str, float]
) -> dict[str, list[ShipmentLine]] | None:
    ordered = sorted(members, key=lambda n: (distance[n.code], n.code))
    room = {node.code: _room(node) for node in ordered}
    allocation: dict[str, list[ShipmentLine]] = {}
    for line in lines:
        for node in ordered:
            if room[node.code] >= line.quantity and _available(node, line) >= line.quantity:
                allocation.setdefault(node.code, []).append(ShipmentLine(line.sku, line.quantity))
                room[node.code] -= line.quantity
                break
        else:
            return None
    if len(allocation) != len(members):
        return None  # a member got nothing: a smaller set would do, not this one
    return allocation


def _units_nearest_first(
    lines: list[ModelLine], nodes: list[Node]
) -> tuple[dict[str, list[ShipmentLine]], ModelLine | None, int]:
    """Tier 3; returns the allocation, and the first line it could not fill with its shortfall."""
    room = {node.code: _room(node) for node in nodes}
    allocation: dict[str, list[ShipmentLine]] = {}
    for line in lines:
        need = line.quantity
        for node in nodes:
            take = int(min(need, _available(node, line), room[node.code]))
            if take <= 0:
                continue
            allocation.setdefault(node.code, []).append(ShipmentLine(line.sku, take))
            room[node.code] -= take
            need -= take
            if need == 0:
                break
        if need > 0:
            return allocation, line, need
    return allocation, None, 0


def route_nearest(
    order: Order, ctx: RoutingContext, *, honour_pause: bool = False
) -> RoutingResult:
    """Route ``order`` with the nearest-stocked-warehouse rule (see the module docstring)."""
    method = METHOD_AWARE if honour_pause else METHOD_BLIND
    lines = merged_lines(order)
    distance = {
        node.code: haversine_km(node.latitude, node.longitude, order.latitude, order.longitude)
        for node in ctx.nodes
    }
    nodes = sorted(
        (
            node
            for node in ctx.nodes
            if node.serves(order.region)
            and not (honour_pause and node.status is NodeStatus.PAUSED)
            and _room(node) > 0
        ),
        key=lambda node: (distance[node.code], node.code),
    )
    units = sum(line.quantity for line in lines)
    allocation: dict[str, list[ShipmentLine]] | None = None
    for node in nodes:
        if _room(node) >= units and all(_available(node, li) >= li.quantity for li in lines):
            allocation = {node.code: [ShipmentLine(li.sku, li.quantity) for li in lines]}
            break
    if allocation is None and len(lines) > 1:
        allocation = _whole_lines_split(lines, nodes, distance)
    if allocation is None:
        allocation, short_line, shortfall = _units_nearest_first(lines, nodes)
        if short_line is not None:
            return RoutingResult(
                order_id=order.order_id,
                status=RoutingStatus.UNROUTABLE,
                method=method,
                reason=f"{shortfall} of the {short_line.quantity} units of {short_line.sku} "
                "are in no warehouse with capacity left",
            )
    shipments = tuple(
        Shipment(
            node_code=code,
            lines=tuple(shipment_lines),
            cost=ctx.node_by_code[code].shipment_cost(
                order.region, sum(li.quantity for li in shipment_lines)
            ),
            transit_hours=ctx.node_by_code[code].transit_hours_by_region[order.region],
        )
        for code, shipment_lines in allocation.items()
    )
    rejections = tuple(
        Rejection(n.code, "paused", n.status_reason, note=n.status_reason, since=n.status_since)
        for n in ctx.nodes
        if honour_pause and n.status is NodeStatus.PAUSED
    )
    return RoutingResult(
        order_id=order.order_id,
        status=RoutingStatus.ROUTED,
        shipments=shipments,
        cost=sum(s.cost for s in shipments),
        method=method,
        rejections=rejections,
    )
