"""The static-rule router the optimizer is compared with: a fixed chain, no live signals.

Chain, as today's OMSs configure it: the local warehouses in the destination region (nearest
first), then the region's distribution centre, then the region's supplier drop-ship, then
distribution centres elsewhere (nearest first). The first node in the chain that can ship the
whole order - stock with enough shelf life, cold chain for chilled/frozen lines, capacity left -
gets it; if none can, each line goes to the first node in the chain that has it. It knows the
static configuration (stock, cold-chain capability, capacity) but ignores cost, weather,
carrier saturation and, unless ``honour_pause`` is set, a node's live status: that is how a
static system keeps sending orders to a warehouse whose cold chain has failed.
"""

from __future__ import annotations

from routing.engine.factors import ModelLine, haversine_km, merged_lines, usable_stock
from routing.engine.problem import (
    Node,
    NodeKind,
    NodeStatus,
    Order,
    Rejection,
    RoutingContext,
    RoutingResult,
    RoutingStatus,
    Shipment,
    ShipmentLine,
)


def baseline_chain(order: Order, ctx: RoutingContext, *, honour_pause: bool = False) -> list[Node]:
    """The nodes the static chain tries for ``order``, in order."""

    def distance(node: Node) -> float:
        return haversine_km(node.latitude, node.longitude, order.latitude, order.longitude)

    usable = [
        n
        for n in ctx.nodes
        if n.serves(order.region) and not (honour_pause and n.status is NodeStatus.PAUSED)
    ]
    tiers = [
        [n for n in usable if n.region == order.region and n.kind is NodeKind.LOCAL],
        [n for n in usable if n.region == order.region and n.kind is NodeKind.REGIONAL],
        [n for n in usable if n.region == order.region and n.kind is NodeKind.SUPPLIER],
        [n for n in usable if n.region != order.region and n.kind is NodeKind.REGIONAL],
    ]
    return [node for tier in tiers for node in sorted(tier, key=distance)]


def route_baseline(
    order: Order, ctx: RoutingContext, *, honour_pause: bool = False
) -> RoutingResult:
    """Route ``order`` with the static chain (see the module docstring)."""
    lines = merged_lines(order)
    chain = baseline_chain(order, ctx, honour_pause=honour_pause)
    units = sum(line.quantity for line in lines)

    def available(node: Node, line: ModelLine) -> int:
        if line.temperature.needs_cold_chain and not node.cold_chain:
            return 0
        return usable_stock(node, line.sku, line.temperature)[0]

    def capacity(node: Node) -> float:
        if node.remaining_capacity_orders is not None and node.remaining_capacity_orders <= 0:
            return 0
        cap = node.remaining_capacity_units
        return float("inf") if cap is None else cap

    allocation: dict[str, list[ShipmentLine]] = {}
    for node in chain:
        if capacity(node) >= units and all(available(node, li) >= li.quantity for li in lines):
            allocation[node.code] = [ShipmentLine(li.sku, li.quantity) for li in lines]
            break
    else:
        used_capacity: dict[str, int] = {}
        for line in lines:
            needed = line.quantity
            for node in chain:
                room = capacity(node) - used_capacity.get(node.code, 0)
                take = int(min(needed, available(node, line), room))
                if take <= 0:
                    continue
                allocation.setdefault(node.code, []).append(ShipmentLine(line.sku, take))
                used_capacity[node.code] = used_capacity.get(node.code, 0) + take
                needed -= take
                if needed == 0:
                    break
            if needed > 0:
                return RoutingResult(
                    order_id=order.order_id,
                    status=RoutingStatus.UNROUTABLE,
                    method="baseline",
                    reason=f"static chain has only {line.quantity - needed} of {line.quantity} "
                    f"units of {line.sku}",
                    rejections=(),
                )

    shipments = []
    for code, shipment_lines in allocation.items():
        node = ctx.node_by_code[code]
        shipped = sum(li.quantity for li in shipment_lines)
        shipments.append(
            Shipment(
                node_code=code,
                lines=tuple(shipment_lines),
                cost=node.shipment_cost(order.region, shipped),
                transit_hours=node.transit_hours_by_region[order.region],
            )
        )
    rejections = tuple(
        Rejection(n.code, "paused", n.status_reason, note=n.status_reason, since=n.status_since)
        for n in ctx.nodes
        if honour_pause and n.status is NodeStatus.PAUSED
    )
    return RoutingResult(
        order_id=order.order_id,
        status=RoutingStatus.ROUTED,
        shipments=tuple(shipments),
        cost=sum(s.cost for s in shipments),
        method="baseline",
        rejections=rejections,
    )
