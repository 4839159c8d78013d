"""Celery tasks of routing: thin, idempotent, ids in."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from oms.models import Order, OrderStatus
from routing.services import order_route, orders_route_batch


@shared_task(
    name="routing.route_order", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def route_order(order_id: int) -> str | None:
    order = order_route(order_id=order_id)
    return order.status if order else None


@shared_task(name="routing.route_partition")
def route_partition(merchant_id: int, region: str) -> dict[str, int]:
    """Route the waiting orders of one merchant and destination region jointly."""
    return orders_route_batch(
        merchant_id=merchant_id, region=region or None, limit=settings.OMS_ROUTING_BATCH_LIMIT
    )


@shared_task(name="routing.route_pending")
def route_pending() -> int:
    """Fan the waiting orders out by (merchant, region), so workers on many machines don't contend."""
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
def sweep_unrouted(older_than_seconds: int = 120, limit: int = 500) -> int:
    """Re-enqueue orders still ``created`` after a while (worker died, broker was down)."""
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
