"""Celery tasks of routing: thin, idempotent, ids in."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from oms.models import Order, OrderStatus
from routing.services import order_route, orders_route_batch


@shared_task(
    name="routing.route_order", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def route_order(order_id: int) -> str | None:
    order = order_route(order_id=order_id)
    return order.status if order else None


def _bell(merchant_id: int) -> str:
    return f"routing:bell:{merchant_id}"


def routing_bell_ring(*, merchant_id: int) -> bool:
    """Ask for the merchant's waiting orders to be routed; True when a task was sent.

    Called after an order commits. The bell is a cache key set with ``NX``: only the ring that
    finds it silent sends ``route_ready``. That task silences the bell *before* it reads the
    waiting orders, so an order committed after the read finds the bell silent and sends the
    next task: no order waits for the sweeper. The key expires after
    ``OMS_ROUTING_BELL_SECONDS`` in case its task is lost, and is dropped when the send fails.
    """
    key = _bell(merchant_id)
    if not cache.add(key, 1, timeout=settings.OMS_ROUTING_BELL_SECONDS):
        return False
    try:
        route_ready.delay(merchant_id)
    except Exception:
        cache.delete(key)
        raise
    return True


@shared_task(name="routing.route_ready")
def route_ready(merchant_id: int, limit: int = 200) -> int:
    """Route the merchant's waiting orders one by one, oldest first; returns how many.

    Each order is claimed in the cache for the time it is routed, so two of these tasks running
    at once (the bell rang again meanwhile) share the orders instead of planning each twice.
    A full page sends the next task for the rest.
    """
    cache.delete(_bell(merchant_id))
    ids = list(
        Order.objects.filter(merchant_id=merchant_id, status=OrderStatus.CREATED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    routed = 0
    for order_id in ids:
        claim = f"routing:claim:{order_id}"
        if not cache.add(claim, 1, timeout=settings.OMS_ROUTING_CLAIM_SECONDS):
            continue
        try:
            order = order_route(order_id=order_id)
        finally:
            cache.delete(claim)
        routed += order is not None and order.status != OrderStatus.CREATED
    if len(ids) == limit and routed:
        routing_bell_ring(merchant_id=merchant_id)
    return routed


@shared_task(name="routing.retry_waiting")
def retry_waiting(merchant_id: int, product_ids: list[int], limit: int = 100) -> int:
    """Route again the orders that wait for stock of ``product_ids``; returns how many routed.

    Sent when units of those products became available (a receipt, a recount, a cancelled
    order's release). Orders in ``needs_attention`` holding a line of one of them are tried
    oldest first, each under the same claim as ``route_ready``; one that still cannot be
    routed stays where it is with its new reason.
    """
    ids = list(
        Order.objects.filter(
            merchant_id=merchant_id,
            status=OrderStatus.NEEDS_ATTENTION,
            lines__product_id__in=product_ids,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
        .distinct()[:limit]
    )
    routed = 0
    for order_id in ids:
        claim = f"routing:claim:{order_id}"
        if not cache.add(claim, 1, timeout=settings.OMS_ROUTING_CLAIM_SECONDS):
            continue
        try:
            order = order_route(order_id=order_id)
        finally:
            cache.delete(claim)
        routed += order is not None and order.status == OrderStatus.ROUTED
    return routed


@shared_task(name="routing.route_partition")
def route_partition(merchant_id: int, region: str) -> dict[str, int]:
    """Route the waiting orders of one merchant and destination region jointly."""
    return orders_route_batch(
        merchant_id=merchant_id, region=region or None, limit=settings.OMS_ROUTING_BATCH_LIMIT
    )


@shared_task(name="routing.route_pending")
def route_pending() -> int:
    """Fan the waiting orders out by (merchant, region), so workers on many machines don't contend.

    Batch mode only: in single mode each order is routed on its own as it commits (and may be
    merged with the customer's other orders, which batch routing does not do), so a periodic
    batch would only race the doorbell's tasks; the sweeper catches stragglers there.
    """
    if settings.OMS_ROUTING_MODE != "batch":
        return 0
    partitions = (
        Order.objects.filter(status=OrderStatus.CREATED)
        .order_by()
        .values_list("merchant_id", "region")
        .distinct()
    )
    count = 0
    for merchant_id, region in partitions:
        route_partition.delay(merchant_id, region)
        count += 1
    return count


@shared_task(name="routing.sweep_unrouted")
def sweep_unrouted(older_than_seconds: int | None = None, limit: int = 500) -> int:
    """Re-enqueue orders still ``created`` after a while (worker died, broker was down).

    ``route_order`` takes no claim, so an order whose routing task was killed (its claim may
    still live) is routed by the next sweep after ``OMS_ROUTING_SWEEP_AFTER_SECONDS``.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.OMS_ROUTING_SWEEP_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Order.objects.filter(status=OrderStatus.CREATED, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for order_id in ids:
        route_order.delay(order_id)
    return len(ids)


@shared_task(name="routing.poll_signal_providers")
def poll_signal_providers() -> dict:
    from routing.providers import poll_providers

    return poll_providers()
