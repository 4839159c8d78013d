"""Celery tasks of routing: thin, idempotent, ids in."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from oms.models import Order, OrderStatus
from routing.services import order_route


@shared_task(
    name="routing.route_order", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def route_order(order_id: int) -> str | None:
    order = order_route(order_id=order_id)
    return order.status if order else None


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
