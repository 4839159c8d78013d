"""Placing orders in the fusion tests: through the service, routed right after commit."""

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from oms.models import Order
from oms.services.orders import AddressInput, LineInput, order_create

HOME = AddressInput(
    receiver_name="张伟",
    receiver_phone="13800138000",
    province="浙江省",
    city="杭州市",
    district="西湖区",
    address_line="文三路90号1幢2单元301室",
)

_numbers = iter(range(1, 10_000))


def place(shop, channel: str, lines, *, address: AddressInput = HOME, minutes_ago: float = 0):
    """Create an order through the service and run routing (after commit) at once.

    ``minutes_ago`` moves the order's receipt time back before routing runs, as if the OMS had
    received it that long ago.
    """
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        order = order_create(
            merchant=shop["merchant"],
            channel=shop[channel],
            external_id=f"F{next(_numbers)}",
            lines=[LineInput(shop[sku], qty, shop[sku].unit_value) for sku, qty in lines],
            address=address,
            actor="test",
        )
    if minutes_ago:
        earlier = timezone.now() - timedelta(minutes=minutes_ago)
        Order.objects.filter(pk=order.pk).update(created_at=earlier, placed_at=earlier)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for callback in callbacks:
            callback()
    order.refresh_from_db()
    return order
