"""Concurrency on PostgreSQL with real threads and real row locks (skipped on SQLite)."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models import Sum
from rest_framework.test import APIClient

from oms.exceptions import InsufficientStock
from oms.models import InventoryBatch, Order, OrderStatus, Reservation
from oms.services.inventory import Allocation
from oms.services.orders import AddressInput, LineInput, order_allocate, order_cancel, order_create
from oms.signals import order_created
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_api_key,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]
WORKERS = 32  # concurrent connections (PostgreSQL allows 100 here)
ADDRESS = AddressInput(
    receiver_name="a", receiver_phone="13800000000", province="上海", city="上海", address_line="x"
)


def _in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connections.close_all()

    return run


@pytest.fixture
def unrouted():
    """Create orders without routing them, so the test decides when they compete for stock."""
    from routing.receivers import enqueue_routing

    order_created.disconnect(dispatch_uid="routing.enqueue_routing")
    yield
    order_created.connect(enqueue_routing, dispatch_uid="routing.enqueue_routing")


def _orders(merchant, lines_per_order, count):
    channel = ChannelFactory(merchant=merchant)
    return [
        order_create(
            merchant=merchant,
            channel=channel,
            external_id=f"C{i}",
            address=ADDRESS,
            actor="t",
            lines=[LineInput(p, q, p.unit_value) for p, q in lines_per_order(i)],
        )
        for i in range(count)
    ]


def test_200_concurrent_orders_for_100_units_reserve_exactly_100(unrouted):
    assert connection.vendor == "postgresql"
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    for on_hand in (30, 30, 40):
        BatchFactory(warehouse=warehouse, product=product, on_hand=on_hand)
    orders = _orders(merchant, lambda i: [(product, 1)], 200)

    @_in_thread
    def allocate(order):
        line = order.lines.get()
        try:
            order_allocate(
                order=order,
                allocations=[Allocation(line.pk, warehouse.pk, 1)],
                actor="t",
                reason="",
            )
            return "routed"
        except InsufficientStock:
            return "insufficient_stock"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = Counter(pool.map(allocate, orders))
    assert outcomes == {"routed": 100, "insufficient_stock": 100}
    assert InventoryBatch.objects.aggregate(r=Sum("reserved"))["r"] == 100
    assert Reservation.objects.filter(status="active").aggregate(q=Sum("quantity"))["q"] == 100
    assert Order.objects.filter(status=OrderStatus.ROUTED).count() == 100
    assert all(b.reserved == b.on_hand for b in InventoryBatch.objects.all())


def test_200_concurrent_api_orders_never_oversell_and_never_500():
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant, sku="HOT")
    BatchFactory(warehouse=warehouse, product=product, on_hand=100)
    channel = ChannelFactory(merchant=merchant, code="live")
    key = make_api_key(merchant)

    @_in_thread
    def post(number):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        response = client.post(
            "/api/orders/",
            {
                "channel": "live",
                "external_id": f"LIVE-{number}",
                "lines": [{"sku": "HOT", "quantity": 1}],
                "receiver": {
                    "name": "a",
                    "phone": "13800000000",
                    "province": "上海",
                    "city": "上海",
                    "address_line": "x",
                },
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"idem-{number}",
        )
        return response.status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        codes = Counter(pool.map(post, range(200)))
    assert codes == {201: 200}
    statuses = Counter(Order.objects.filter(channel=channel).values_list("status", flat=True))
    assert statuses == {"routed": 100, "needs_attention": 100}
    assert InventoryBatch.objects.get(product=product).reserved == 100
    reasons = set(
        Order.objects.filter(status="needs_attention").values_list("status_reason", flat=True)
    )
    assert reasons == {"Unroutable: only 0 of 1 units of HOT available at eligible nodes"}


def test_multi_line_orders_taking_skus_in_opposite_order_never_deadlock(unrouted):
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    a, b = ProductFactory(merchant=merchant), ProductFactory(merchant=merchant)
    for product in (a, b):
        for _ in range(3):
            BatchFactory(warehouse=warehouse, product=product, on_hand=20)
    orders = _orders(merchant, lambda i: [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)], 120)

    @_in_thread
    def allocate(order):
        allocations = [
            Allocation(line.pk, warehouse.pk, line.quantity) for line in order.lines.order_by("pk")
        ]
        if order.pk % 2:
            allocations.reverse()
        try:
            order_allocate(order=order, allocations=allocations, actor="t", reason="")
            return "routed"
        except InsufficientStock:
            return "insufficient_stock"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = Counter(pool.map(allocate, orders))  # a deadlock would raise here
    assert outcomes == {"routed": 60, "insufficient_stock": 60}
    assert {
        p: InventoryBatch.objects.filter(product=p).aggregate(r=Sum("reserved"))["r"]
        for p in (a, b)
    } == {a: 60, b: 60}


def test_concurrent_cancels_and_reservations_keep_the_books_exact(unrouted):
    merchant = MerchantFactory()
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=80)
    BatchFactory(warehouse=warehouse, product=product, on_hand=80)
    orders = _orders(merchant, lambda i: [(product, 2)], 120)
    first, rest = orders[:60], orders[60:]
    for order in first:
        line = order.lines.get()
        order_allocate(
            order=order, allocations=[Allocation(line.pk, warehouse.pk, 2)], actor="t", reason=""
        )

    @_in_thread
    def work(order):
        if order in first:
            order_cancel(order=order, actor="t")
            return "cancelled"
        line = order.lines.get()
        try:
            order_allocate(
                order=order,
                allocations=[Allocation(line.pk, warehouse.pk, 2)],
                actor="t",
                reason="",
            )
            return "routed"
        except InsufficientStock:
            return "insufficient_stock"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = Counter(
            pool.map(work, [o for pair in zip(first, rest, strict=True) for o in pair])
        )
    assert outcomes["cancelled"] == 60
    held = Reservation.objects.filter(status="active").aggregate(q=Sum("quantity"))["q"]
    assert held == 2 * outcomes["routed"]
    assert InventoryBatch.objects.aggregate(r=Sum("reserved"))["r"] == held
    assert (
        Reservation.objects.filter(line__order__in=first, status="released").aggregate(
            q=Sum("quantity")
        )["q"]
        == 120
    )


def test_concurrent_requests_with_one_idempotency_key_create_one_order():
    merchant = MerchantFactory()
    ProductFactory(merchant=merchant, sku="ONE")
    ChannelFactory(merchant=merchant, code="live")
    key = make_api_key(merchant)
    body = {
        "channel": "live",
        "external_id": "SAME",
        "lines": [{"sku": "ONE", "quantity": 1}],
        "receiver": {
            "name": "a",
            "phone": "13800000000",
            "province": "上海",
            "city": "上海",
            "address_line": "x",
        },
    }

    @_in_thread
    def post(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        response = client.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="one-key")
        return response.status_code, response.get("Idempotent-Replayed")

    with ThreadPoolExecutor(16) as pool:
        results = Counter(pool.map(post, range(48)))
    assert Order.objects.filter(merchant=merchant).count() == 1
    assert results[(201, None)] == 1  # exactly one request did the work
    assert set(results) <= {(201, None), (201, "true"), (409, None)}
