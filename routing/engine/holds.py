"""Soft holds on what a promise promised: units of stock and parcel slots, for a few minutes.

Between a promise and the order that carries it (checkout, payment: minutes) other orders are
routed; on a busy day they take the last units or the last parcels of the very warehouse and
service the promise counted on, and the order is then routed elsewhere, outside its window.
A hold keeps what the buyer's chosen option needs - per warehouse, the units of each SKU, one
parcel (of the warehouse's daily parcels and of the chosen carrier service's), and the units
against the warehouse's daily unit capacity - out of everybody else's sight until it expires or
the order that references it is routed (which sees the held units as its own, so nothing is
counted twice).

``held_nodes`` is the one function that applies holds to the engine's nodes; the Django side
(``routing.holds``) stores holds and calls it when routing and promising, the replay
(``bench/promise_kept.py``) keeps them in memory; ``routing.promise.engine_adapter.hold_for``
makes one from a promised plan. Pure: no Django.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from routing.engine.problem import Node, StockBatch


@dataclass(frozen=True)
class Hold:
    """What one promise option holds until ``expires_at`` (``key`` names the hold)."""

    key: str
    expires_at: datetime
    units: tuple[tuple[str, str, int], ...]  # (node code, sku, units)
    parcels: tuple[tuple[str, str], ...]  # (node code, carrier service code or ""), one each

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


def _take_fefo(
    stock: tuple[StockBatch, ...], held: dict[str, int], usable: Callable[[StockBatch], bool]
) -> tuple[StockBatch, ...]:
    """``stock`` less ``held`` units per SKU, taken first expiry first from usable batches
    (as the holder's order will take them)."""
    left = dict(held)
    order = sorted(
        range(len(stock)),
        key=lambda i: (stock[i].expires_in_days is None, stock[i].expires_in_days or 0.0),
    )
    quantities = [batch.quantity for batch in stock]
    for i in order:
        batch = stock[i]
        want = left.get(batch.sku, 0)
        if want <= 0 or not usable(batch):
            continue
        take = min(want, quantities[i])
        quantities[i] -= take
        left[batch.sku] = want - take
    return tuple(
        replace(batch, quantity=quantity) if quantity != batch.quantity else batch
        for batch, quantity in zip(stock, quantities, strict=True)
        if quantity > 0
    )


def held_nodes(
    nodes: tuple[Node, ...],
    holds: Iterable[Hold],
    *,
    now: datetime,
    exclude: str | None = None,
    usable: Callable[[StockBatch], bool] = lambda batch: True,
) -> tuple[Node, ...]:
    """``nodes`` as everyone but the holder of ``exclude`` sees them at ``now``: the active
    holds' units out of stock, their parcels out of the warehouses' and services' parcels
    left today, their units out of the warehouses' units left today. Expired holds count for
    nothing. ``usable`` says which batches the holder's order could take (shelf life)."""
    units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unit_totals: dict[str, int] = defaultdict(int)
    parcels: dict[str, int] = defaultdict(int)
    service_parcels: dict[tuple[str, str], int] = defaultdict(int)
    for hold in holds:
        if hold.key == exclude or not hold.active(now):
            continue
        for code, sku, quantity in hold.units:
            units[code][sku] += quantity
            unit_totals[code] += quantity
        for code, service in hold.parcels:
            parcels[code] += 1
            if service:
                service_parcels[(code, service)] += 1
    if not units and not parcels:
        return nodes
    out = []
    for node in nodes:
        if node.code not in units and node.code not in parcels:
            out.append(node)
            continue
        changes: dict[str, Any] = {}
        if node.code in units:
            changes["stock"] = _take_fefo(node.stock, units[node.code], usable)
            if node.remaining_capacity_units is not None:
                changes["remaining_capacity_units"] = max(
                    0, node.remaining_capacity_units - unit_totals[node.code]
                )
        if node.code in parcels and node.remaining_capacity_orders is not None:
            changes["remaining_capacity_orders"] = max(
                0, node.remaining_capacity_orders - parcels[node.code]
            )
        if node.services and any((node.code, s.code) in service_parcels for s in node.services):
            changes["services"] = tuple(
                replace(
                    service,
                    remaining_capacity_orders=max(
                        0,
                        service.remaining_capacity_orders
                        - service_parcels[(node.code, service.code)],
                    ),
                )
                if service.remaining_capacity_orders is not None
                and (node.code, service.code) in service_parcels
                else service
                for service in node.services
            )
        out.append(replace(node, **changes))
    return tuple(out)
