"""Two orders of one person routed at the same moment by two workers (real threads, PostgreSQL).

Whichever worker wins (both merge and one finds its order routed already; or one routes its
order alone before the other sees it and the other merges with it), the end state is one merged
fulfilment with each order's lines reserved once and one pending shipment per warehouse. Never
a double reservation, a lost order or two fulfilments.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from django.db import connection, connections
from django.db.models import Sum

from oms.models import Consolidation, InventoryBatch, Order, OrderStatus, Reservation, Shipment
from oms.services.orders import LineInput, order_create
from oms.signals import order_created
from routing.services import order_route
from tests.fusion.shop import HOME

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
NAMES = ["李娜", "王芳", "刘洋", "陈静", "杨帆", "赵磊"]
ROUNDS = len(NAMES)


@pytest.fixture
def unrouted():
    """Create orders without routing them, so the test decides when the workers run."""
    from routing.receivers import enqueue_routing

    order_created.disconnect(dispatch_uid="routing.enqueue_routing")
    yield
    order_created.connect(enqueue_routing, dispatch_uid="routing.enqueue_routing")


def _order(shop, channel: str, sku: str, address, external_id: str) -> Order:
    product = shop[sku]
    return order_create(
        merchant=shop["merchant"],
        channel=shop[channel],
        external_id=external_id,
        lines=[LineInput(product, 1, product.unit_value)],
        address=address,
        actor="test",
    )


def test_two_workers_routing_one_persons_orders_at_once_stay_consistent(shop, unrouted):
    assert connection.vendor == "postgresql"
    InventoryBatch.objects.update(on_hand=100)
    pairs = []
    for round_ in range(ROUNDS):
        person = replace(
            HOME,
            receiver_name=NAMES[round_],
            receiver_phone=f"1390013{round_:04d}",
            address_line=f"教工路{100 + round_}号",
        )
        pairs.append(
            (
                _order(shop, "douyin", "sofa", person, f"R{round_}-A"),
                _order(shop, "mini", "cushion", person, f"R{round_}-B"),
            )
        )

    def route(order_id: int, barrier: threading.Barrier) -> str:
        try:
            barrier.wait()
            return order_route(order_id=order_id).status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        for first, second in pairs:
            barrier = threading.Barrier(2)
            outcomes = list(pool.map(route, [first.pk, second.pk], [barrier, barrier]))
            assert outcomes == [OrderStatus.ROUTED, OrderStatus.ROUTED]

    customers = set()
    for first, second in pairs:
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.customer_id == second.customer_id
        customers.add(first.customer_id)
        assert first.status == second.status == OrderStatus.ROUTED
        # Each order holds exactly its own line, once.
        for order in (first, second):
            active = Reservation.objects.filter(line__order=order, status="active")
            assert active.aggregate(q=Sum("quantity"))["q"] == 1, order
        fulfilments = Consolidation.objects.filter(consolidated_orders__in=[first, second])
        assert fulfilments.distinct().count() <= 1
        live = Shipment.objects.filter(order__in=[first, second], status="pending")
        # The customer master serialises the two resolutions, so the second worker always finds
        # the first order (created, being routed, or routed) and merges with it.
        assert first.consolidation_id and first.consolidation_id == second.consolidation_id
        assert set(live.values_list("consolidation_id", flat=True)) == {first.consolidation_id}
        assert live.count() == live.values("warehouse").distinct().count()
    assert len(customers) == ROUNDS  # six people, each merged (or not) only with themselves
    # Stock bookkeeping agrees with the reservations: nothing held twice or lost.
    active_total = Reservation.objects.filter(status="active").aggregate(q=Sum("quantity"))["q"]
    assert active_total == 2 * ROUNDS
    assert InventoryBatch.objects.aggregate(r=Sum("reserved"))["r"] == 2 * ROUNDS
    for batch in InventoryBatch.objects.all():
        held = Reservation.objects.filter(batch=batch, status="active").aggregate(
            q=Sum("quantity")
        )["q"]
        assert batch.reserved == (held or 0), batch
    assert Consolidation.objects.count() <= ROUNDS
