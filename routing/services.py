"""Route orders: choose warehouses for an order and ask ``oms`` to hold the stock.

This is the plain fixed-chain router the optimizer will replace: warehouses in the order's
region first, then own DCs and regional centres, stores, third-party and drop-ship last; the
first warehouse that can ship the whole order (cold chain included) wins. It is real and
transactional, so the order pipeline works end to end.
"""

import logging

from django.db import transaction
from django.db.models import F, Sum

from oms.exceptions import IllegalTransition, InsufficientStock
from oms.models import InventoryBatch, Order, OrderStatus, Warehouse, WarehouseKind, WarehouseStatus
from oms.services.inventory import Allocation
from oms.services.orders import order_allocate, order_transition

logger = logging.getLogger(__name__)
ACTOR = "system:routing"
_KIND_ORDER = [
    WarehouseKind.OWN_DC,
    WarehouseKind.REGIONAL,
    WarehouseKind.STORE,
    WarehouseKind.THIRD_PARTY,
    WarehouseKind.DROP_SHIP,
]


def _candidates(order: Order) -> list[Warehouse]:
    warehouses = Warehouse.objects.filter(
        merchant_id=order.merchant_id, status=WarehouseStatus.ACTIVE
    )
    return sorted(
        warehouses,
        key=lambda w: (w.region != order.region, _KIND_ORDER.index(w.kind), w.code),
    )


def order_route(*, order_id: int) -> Order | None:
    """Route one order if it still waits for routing; safe to call twice."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status not in (OrderStatus.CREATED, OrderStatus.NEEDS_ATTENTION):
        return order
    lines = list(order.lines.select_related("product"))
    needs_cold = any(line.product.needs_cold_chain for line in lines)
    product_ids = [line.product_id for line in lines]
    stock = {
        (row["warehouse_id"], row["product_id"]): row["available"]
        for row in InventoryBatch.objects.filter(product_id__in=product_ids)
        .values("warehouse_id", "product_id")
        .annotate(available=Sum(F("on_hand") - F("reserved")))
    }
    tried: list[str] = []
    for warehouse in _candidates(order):
        if needs_cold and not warehouse.cold_chain:
            continue
        if any(stock.get((warehouse.pk, line.product_id), 0) < line.quantity for line in lines):
            continue
        allocations = [Allocation(line.pk, warehouse.pk, line.quantity) for line in lines]
        try:
            return order_allocate(
                order=order,
                allocations=allocations,
                actor=ACTOR,
                reason=f"Routed to {warehouse.name} ({warehouse.code}).",
                data={"warehouse": warehouse.code},
            )
        except InsufficientStock:
            tried.append(warehouse.code)  # taken by a concurrent order; try the next one
        except IllegalTransition:
            return Order.objects.get(pk=order_id)
    reason = "No active warehouse can ship the whole order"
    reason += " with cold chain." if needs_cold else "."
    with transaction.atomic():
        current = Order.objects.select_for_update().get(pk=order_id)
        if current.status != OrderStatus.CREATED:
            return current
        return order_transition(
            order=current,
            to_status=OrderStatus.NEEDS_ATTENTION,
            actor=ACTOR,
            reason=reason,
            data={"raced_on": tried},
        )
