"""Wave builds running at once never put an order in two waves (PostgreSQL, real threads)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections

from channels.groupbuy.services import groupbuy_wave_build
from channels.models import ChannelOrder, GroupBuyAssignment, PickList, PickWave
from oms.models import ChannelKind, OrderEvent, OrderStatus
from tests.channels.groupbuy_helpers import POINTS, ingest_group_order
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
ORDERS = 40
BUILDERS = 4


def test_concurrent_wave_builds_assign_every_order_exactly_once():
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    for sku in ("HOM-0002", "HOM-0900"):
        product = ProductFactory(merchant=merchant, sku=sku, unit_value=Decimal("19.90"))
        BatchFactory(warehouse=warehouse, product=product, on_hand=10_000)
    channel = ChannelFactory(merchant=merchant, code="group-buy", kind=ChannelKind.GROUP_BUY)
    types = ("leader_proxy", "member_direct", "store_pickup")
    for number in range(ORDERS):
        ingest_group_order(
            channel,
            f"GB-RACE-{number}",
            order_type=types[number % 3],
            point=sorted(POINTS)[number % 2],
            items=[("HOM-0002", 1 + number % 3), ("HOM-0900", 1)],
            phone=f"137{number:08d}",
        )
    assert ChannelOrder.objects.filter(order__status=OrderStatus.ROUTED).count() == ORDERS
    barrier = threading.Barrier(BUILDERS)

    def build(index: int) -> int:
        try:
            barrier.wait()
            return groupbuy_wave_build(merchant=merchant, actor=f"builder-{index}").order_count
        finally:
            connections.close_all()

    with ThreadPoolExecutor(BUILDERS) as pool:
        counts = list(pool.map(build, range(BUILDERS)))

    assert sum(counts) == ORDERS  # every order taken once, by whichever builder locked it first
    assert GroupBuyAssignment.objects.count() == ORDERS
    assert sum(PickWave.objects.values_list("order_count", flat=True)) == ORDERS
    assert sum(PickList.objects.values_list("order_count", flat=True)) == ORDERS
    events = OrderEvent.objects.filter(kind="groupbuy_wave")
    assert events.count() == ORDERS
    assert events.values("order_id").distinct().count() == ORDERS
    assert groupbuy_wave_build(merchant=merchant, actor="late").order_count == 0
