"""Reads reused by the API, admin and other apps; always scoped to one merchant."""

from django.db.models import F, Q, QuerySet

from oms.models import InventoryBatch, Merchant, Order, OrderEvent, Shipment


def batches_of(merchant: Merchant) -> QuerySet[InventoryBatch]:
    """Batches of ``merchant`` with ``available_qty`` (on hand less reserved)."""
    return (
        InventoryBatch.objects.filter(warehouse__merchant=merchant)
        .select_related("warehouse", "product")
        .annotate(available_qty=F("on_hand") - F("reserved"))
    )


def orders_of(merchant: Merchant) -> QuerySet[Order]:
    return Order.objects.filter(merchant=merchant).select_related("channel")


def timeline_of(order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).order_by("at", "id")


def shipments_of(order: Order) -> QuerySet[Shipment]:
    """The parcels carrying ``order``: its own and, once merged, its fulfilment's."""
    carrying = Q(order=order)
    if order.consolidation_id:
        carrying |= Q(consolidation_id=order.consolidation_id)
    return Shipment.objects.filter(carrying).select_related("warehouse").order_by("pk")
