from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.exceptions import DuplicateOrder, IllegalTransition, InsufficientStock
from oms.models import (
    InventoryBatch,
    OrderEvent,
    OrderStatus,
    Reservation,
    ReservationStatus,
    Shipment,
)
from oms.services.inventory import Allocation, stock_reserve
from oms.services.orders import (
    order_allocate,
    order_cancel,
    order_deliver,
    order_release,
    order_ship,
    order_transition,
)
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


def _stocked(merchant, *quantities_and_expiry_days):
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    batches = [
        BatchFactory(
            warehouse=warehouse,
            product=product,
            on_hand=qty,
            expiry_date=None if days is None else timezone.localdate() + timedelta(days=days),
        )
        for qty, days in quantities_and_expiry_days
    ]
    return warehouse, product, batches


def test_reservation_picks_first_expiry_first_across_batches(merchant):
    warehouse, product, (late, soon, undated) = _stocked(merchant, (10, 90), (4, 5), (10, None))
    order = make_order(merchant=merchant, lines=[(product, 7)])
    # Routing ran on commit already (eager Celery); re-plan explicitly to check FEFO on fresh stock.
    order_cancel(order=order, actor="test")
    order2 = make_order(merchant=merchant, lines=[(product, 7)])
    order2.refresh_from_db()
    assert order2.status == OrderStatus.ROUTED
    held = {
        r.batch_id: r.quantity
        for r in Reservation.objects.filter(line__order=order2, status="active")
    }
    assert held == {soon.pk: 4, late.pk: 3}


def test_expired_batches_are_never_picked(merchant):
    warehouse, product, (expired, fresh) = _stocked(merchant, (50, -1), (2, 10))
    order = make_order(merchant=merchant, lines=[(product, 3)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    assert InventoryBatch.objects.get(pk=expired.pk).reserved == 0


def test_insufficient_stock_holds_nothing_and_names_the_shortfall(merchant):
    warehouse, product, (batch,) = _stocked(merchant, (5, 30))
    other = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=other, on_hand=1)
    order = make_order(merchant=merchant, lines=[(product, 2), (other, 3)])
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_ATTENTION
    lines = {line.product_id: line for line in order.lines.all()}
    with pytest.raises(InsufficientStock) as excinfo:
        stock_reserve(
            order=order,
            allocations=[
                Allocation(lines[product.pk].pk, warehouse.pk, 2),
                Allocation(lines[other.pk].pk, warehouse.pk, 3),
            ],
        )
    assert excinfo.value.details["shortfalls"] == [
        {"sku": other.sku, "warehouse_id": warehouse.pk, "requested": 3, "missing": 2}
    ]
    assert InventoryBatch.objects.get(pk=batch.pk).reserved == 0
    assert not Reservation.objects.filter(line__order=order).exists()


def test_full_lifecycle_consumes_stock_and_records_every_step(merchant):
    warehouse, product, (batch,) = _stocked(merchant, (10, 30))
    order = make_order(merchant=merchant, lines=[(product, 4)])
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    assert InventoryBatch.objects.get(pk=batch.pk).reserved == 4
    order_release(order=order, actor="ops")
    order_ship(order=order, actor="ops", tracking_numbers={warehouse.pk: "SF123"})
    batch.refresh_from_db()
    assert (batch.on_hand, batch.reserved) == (6, 0)
    order_deliver(order=order, actor="carrier")
    shipment = Shipment.objects.get(order=order)
    assert (shipment.status, shipment.tracking_number) == ("delivered", "SF123")
    path = list(
        OrderEvent.objects.filter(order=order, kind="status").values_list(
            "from_status", "to_status"
        )
    )
    assert path == [
        ("created", "routed"),
        ("routed", "released"),
        ("released", "shipped"),
        ("shipped", "delivered"),
    ]
    assert set(Reservation.objects.filter(line__order=order).values_list("status", flat=True)) == {
        "shipped"
    }


def test_illegal_transition_is_refused_with_a_clear_error(merchant):
    warehouse, product, _ = _stocked(merchant, (10, 30))
    order = make_order(merchant=merchant, lines=[(product, 1)])
    with pytest.raises(IllegalTransition, match="routed cannot become delivered"):
        order_transition(order=order, to_status=OrderStatus.DELIVERED, actor="test")
    order_release(order=order, actor="ops")
    order_ship(order=order, actor="ops")
    with pytest.raises(IllegalTransition):
        order_cancel(order=order, actor="test")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_cancelling_releases_exactly_what_was_reserved(merchant):
    warehouse, product, (a, b) = _stocked(merchant, (3, 5), (10, 40))
    other_order_product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=other_order_product, on_hand=5)
    keep = make_order(merchant=merchant, lines=[(product, 2)])
    cancel = make_order(merchant=merchant, lines=[(product, 4), (other_order_product, 5)])
    cancel.refresh_from_db()
    assert cancel.status == OrderStatus.ROUTED
    order_cancel(order=cancel, actor="customer", reason="changed mind")
    reserved = dict(
        InventoryBatch.objects.filter(warehouse=warehouse).values_list("pk", "reserved")
    )
    assert reserved[a.pk] == 2 and reserved[b.pk] == 0  # only `keep` still holds stock
    assert sum(reserved.values()) == 2
    assert set(Reservation.objects.filter(line__order=cancel).values_list("status", flat=True)) == {
        ReservationStatus.RELEASED
    }
    # Same person, same address, minutes apart: the two orders were merged into one shipment,
    # which now serves `keep` alone.
    assert not Shipment.objects.filter(order=cancel, status="pending").exists()
    assert Shipment.objects.filter(order=keep, status="pending").count() == 1
    keep.refresh_from_db()
    assert keep.status == OrderStatus.ROUTED


def test_duplicate_external_id_per_channel_is_refused_with_the_existing_id(merchant):
    channel = ChannelFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    first = make_order(merchant=merchant, lines=[(product, 1)], channel=channel, external_id="X1")
    with pytest.raises(DuplicateOrder) as excinfo:
        make_order(merchant=merchant, lines=[(product, 1)], channel=channel, external_id="X1")
    assert excinfo.value.details["order_id"] == first.pk
    other_channel = ChannelFactory(merchant=merchant)
    assert make_order(
        merchant=merchant, lines=[(product, 1)], channel=other_channel, external_id="X1"
    ).pk


def test_database_refuses_more_reserved_than_on_hand(merchant):
    batch = BatchFactory(warehouse=WarehouseFactory(merchant=merchant), on_hand=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryBatch.objects.filter(pk=batch.pk).update(reserved=6)


def test_allocation_on_a_cancelled_order_is_refused(merchant):
    warehouse, product, _ = _stocked(merchant, (10, 30))
    order = make_order(merchant=merchant, lines=[(product, 1)])
    order_cancel(order=order, actor="test")
    line = order.lines.get()
    with pytest.raises(IllegalTransition):
        order_allocate(
            order=order, allocations=[Allocation(line.pk, warehouse.pk, 1)], actor="t", reason=""
        )
    assert InventoryBatch.objects.filter(warehouse=warehouse).get().reserved == 0
