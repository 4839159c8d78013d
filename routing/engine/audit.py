"""An independent feasibility audit of routing results.

Given the orders, the network they were routed against and the results (one order's or a whole
batch's), ``audit`` lists every way the plans together break the physical world: a line not
shipped in full (or a SKU shipped that was not ordered), a shipment from a paused node or one
that does not serve the destination (on its carrier service's lanes, when it names one), a
chilled or frozen SKU from a node without cold chain or on a carrier service that carries none,
more units of a SKU than the node's batches with enough shelf life hold, more units or parcels
than the node has left today, more parcels than a carrier service takes there today.

It shares no code with the solver on purpose: it imports only the problem dataclasses and
recomputes everything from them, so a bug in the engine's bookkeeping cannot hide itself. The
shelf-life table is restated from the documented policy (docs/scenarios.md); a test keeps it
equal to the engine's.

Stock is checked per batch. The lines that take a SKU at a node need, by temperature class, a
minimum shelf life; a batch can serve a line when it does not expire before that. These usable
sets are nested (a batch good for the strictest class is good for all), so serving the
strictest class first from any batch it can use, then the next, is exact: the plans fit the
batches if and only if this allocation succeeds. The shortfall is reported as phantom units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.engine.problem import (
    Node,
    NodeStatus,
    Order,
    RoutingContext,
    RoutingResult,
    Temperature,
)

# Minimum shelf life a unit must have left to be shipped, by temperature class (days).
SHELF_LIFE_DAYS = {
    Temperature.AMBIENT: 30.0,
    Temperature.CHILLED: 2.0,
    Temperature.FROZEN: 14.0,
}


@dataclass(frozen=True)
class Violation:
    """One broken constraint: what kind, where, and a sentence with the figures."""

    kind: str  # coverage | paused | region | cold_chain | stock | units | parcels | status
    node_code: str
    detail: str
    order_id: str = ""
    excess: int = 0  # units (stock, units) or parcels over the limit


@dataclass(frozen=True)
class _SkuNeed:
    needs_cold_chain: bool
    shelf_life_days: float


def _needs_by_sku(order: Order) -> dict[str, _SkuNeed]:
    """What each SKU of ``order`` demands: the strictest of the lines carrying it."""
    needs: dict[str, _SkuNeed] = {}
    for line in order.lines:
        cold = line.temperature is not Temperature.AMBIENT
        days = SHELF_LIFE_DAYS[line.temperature]
        known = needs.get(line.sku)
        if known is not None:
            cold = cold or known.needs_cold_chain
            days = max(days, known.shelf_life_days)
        needs[line.sku] = _SkuNeed(cold, days)
    return needs


def _coverage(order: Order, result: RoutingResult) -> list[Violation]:
    ordered: dict[str, int] = {}
    for ordered_line in order.lines:
        ordered[ordered_line.sku] = ordered.get(ordered_line.sku, 0) + ordered_line.quantity
    shipped: dict[str, int] = {}
    out = []
    for shipment in result.shipments:
        for line in shipment.lines:
            if line.quantity <= 0:
                out.append(
                    Violation(
                        "coverage",
                        shipment.node_code,
                        f"{line.quantity} units of {line.sku} in a shipment",
                        order.order_id,
                    )
                )
            shipped[line.sku] = shipped.get(line.sku, 0) + line.quantity
    for sku in sorted(set(ordered) | set(shipped)):
        want, got = ordered.get(sku, 0), shipped.get(sku, 0)
        if want != got:
            out.append(
                Violation(
                    "coverage",
                    "",
                    f"{got} of {want} units of {sku} shipped",
                    order.order_id,
                    excess=abs(got - want),
                )
            )
    return out


def _shipment_rules(order: Order, result: RoutingResult, nodes: dict[str, Node]) -> list[Violation]:
    """Checks that need only the order and the node as this order saw it."""
    needs = _needs_by_sku(order)
    out = []
    for shipment in result.shipments:
        node = nodes.get(shipment.node_code)
        if node is None:
            out.append(Violation("region", shipment.node_code, "unknown node", order.order_id))
            continue
        if node.status is NodeStatus.PAUSED:
            out.append(Violation("paused", node.code, "shipped from a paused node", order.order_id))
        service = None
        if shipment.carrier_service:
            service = next((s for s in node.services if s.code == shipment.carrier_service), None)
            if service is None:
                out.append(
                    Violation(
                        "region",
                        node.code,
                        f"no carrier service {shipment.carrier_service} there",
                        order.order_id,
                    )
                )
                continue
            destination = order.province or order.region
            if destination not in service.lanes or (
                service.same_city and service.same_city != order.city
            ):
                out.append(
                    Violation(
                        "region",
                        node.code,
                        f"{service.code} does not ship to {destination}",
                        order.order_id,
                    )
                )
        elif (
            order.region not in node.shipping_cost_by_region
            or order.region not in node.transit_hours_by_region
        ):
            out.append(
                Violation("region", node.code, f"does not ship to {order.region}", order.order_id)
            )
        for line in shipment.lines:
            need = needs.get(line.sku)
            if need is None or not need.needs_cold_chain:
                continue
            if not node.cold_chain:
                out.append(
                    Violation(
                        "cold_chain",
                        node.code,
                        f"{line.sku} needs cold chain, the node has none",
                        order.order_id,
                    )
                )
            elif service is not None and not (service.chilled or service.frozen):
                out.append(
                    Violation(
                        "cold_chain",
                        node.code,
                        f"{line.sku} needs cold chain, {service.code} carries none",
                        order.order_id,
                    )
                )
    return out


def _stock(
    demand: dict[tuple[str, str], dict[float, int]], nodes: dict[str, Node]
) -> list[Violation]:
    """Serve each (node, SKU)'s demand by shelf-life class, strictest first (see module doc)."""
    out = []
    for (code, sku), by_days in sorted(demand.items()):
        node = nodes.get(code)
        if node is None:
            continue
        batches = [batch for batch in node.stock if batch.sku == sku]
        left = [batch.quantity for batch in batches]
        for days in sorted(by_days, reverse=True):
            need = by_days[days]
            for i, batch in enumerate(batches):
                if need == 0:
                    break
                if batch.expires_in_days is not None and batch.expires_in_days < days:
                    continue
                take = min(need, left[i])
                left[i] -= take
                need -= take
            if need > 0:
                out.append(
                    Violation(
                        "stock",
                        code,
                        f"{by_days[days]} units of {sku} with >= {days:g} days of shelf life "
                        f"planned, {need} more than the batches hold",
                        excess=need,
                    )
                )
    return out


def audit(
    orders: Sequence[Order],
    results: Sequence[RoutingResult],
    ctx: RoutingContext,
    *,
    context_for: Callable[[Order], RoutingContext] | None = None,
) -> list[Violation]:
    """Every constraint the ``results`` of ``orders`` break together (empty: all feasible).

    Stock and the day's remaining unit and parcel capacity come from ``ctx`` and are shared by
    all results; ``context_for`` may give an order the node statuses it was routed under (as
    ``route_batch`` accepts it), otherwise ``ctx`` is used for those too.
    """
    shared = {node.code: node for node in ctx.nodes}
    out: list[Violation] = []
    demand: dict[tuple[str, str], dict[float, int]] = {}
    units: dict[str, int] = {}
    parcels: dict[str, int] = {}
    service_parcels: dict[tuple[str, str], int] = {}
    for order, result in zip(orders, results, strict=True):
        if result.order_id != order.order_id:
            out.append(Violation("status", "", f"result for {result.order_id}", order.order_id))
            continue
        if not result.routed:
            if result.shipments:
                out.append(Violation("status", "", "unroutable but has shipments", order.order_id))
            continue
        own = shared if context_for is None else {n.code: n for n in context_for(order).nodes}
        out += _coverage(order, result)
        out += _shipment_rules(order, result, own)
        needs = _needs_by_sku(order)
        for shipment in result.shipments:
            code = shipment.node_code
            parcels[code] = parcels.get(code, 0) + 1
            if shipment.carrier_service:
                key = (code, shipment.carrier_service)
                service_parcels[key] = service_parcels.get(key, 0) + 1
            for line in shipment.lines:
                units[code] = units.get(code, 0) + line.quantity
                days = needs[line.sku].shelf_life_days if line.sku in needs else 0.0
                by_days = demand.setdefault((code, line.sku), {})
                by_days[days] = by_days.get(days, 0) + line.quantity
    out += _stock(demand, shared)
    for code in sorted(units):
        node = shared.get(code)
        if node is None:
            continue
        cap = node.remaining_capacity_units
        if cap is not None and units[code] > cap:
            out.append(
                Violation(
                    "units",
                    code,
                    f"{units[code]} units planned, {cap} left",
                    excess=units[code] - cap,
                )
            )
        cap = node.remaining_capacity_orders
        if cap is not None and parcels[code] > cap:
            out.append(
                Violation(
                    "parcels",
                    code,
                    f"{parcels[code]} parcels planned, {cap} left",
                    excess=parcels[code] - cap,
                )
            )
    for (code, service_code), count in sorted(service_parcels.items()):
        node = shared.get(code)
        found = [s for s in node.services if s.code == service_code] if node else []
        cap = found[0].remaining_capacity_orders if found else None
        if cap is not None and count > cap:
            out.append(
                Violation(
                    "parcels",
                    code,
                    f"{count} parcels planned on {service_code}, {cap} left",
                    excess=count - cap,
                )
            )
    return out
