"""Reads reused by the API, admin and other apps; always scoped to one merchant."""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from oms.localcache import LocalCache
from oms.models import InventoryBatch, Merchant, Order, OrderEvent, Shipment
from oms.stored_text import status_reason_text

_ZONES: LocalCache[str] = LocalCache("merchant time zones", max_entries=1_000)


def merchant_zone(merchant_id: int | None) -> zoneinfo.ZoneInfo:
    """The merchant's time zone (the deployment's when it names none or an unknown one).

    Cached per process like the other rows every request reads; a merchant's save clears it.
    """
    name = ""
    if merchant_id is not None:
        name = _ZONES.get(
            merchant_id,
            lambda: (
                Merchant.objects.filter(pk=merchant_id).values_list("time_zone", flat=True).first()
                or ""
            ),
        )
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_midnight(merchant_id: int | None, now: datetime) -> datetime:
    """The start of the merchant's local day that holds ``now``: parcel caps, the day's demand
    and expiry dates count from it."""
    local = timezone.localtime(now, merchant_zone(merchant_id))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


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


def status_reasons_text(orders: list) -> dict[int, str]:
    """``status_reason_text`` of many orders in one query (their latest entries for it)."""
    wanted = {order.pk: order for order in orders if order.status_reason}
    found: dict[int, str] = {order.pk: order.status_reason for order in orders}
    rows = (
        OrderEvent.objects.filter(order_id__in=list(wanted), kind__in=["status", "merged"])
        .order_by("order_id", "-at", "-id")
        .only("order_id", "kind", "message", "data")
    )
    seen: set[int] = set()
    for event in rows:
        if event.order_id in seen:
            continue
        order = wanted[event.order_id]
        said = status_reason_text(order, [event])
        if said != order.status_reason or event.kind == "status":
            found[event.order_id] = said
            seen.add(event.order_id)
    return found
