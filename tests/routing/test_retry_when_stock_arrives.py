"""Orders waiting for stock (needs_attention) are routed again when units become available."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from oms.models import InventoryBatch, OrderStatus
from oms.services.inventory import StockChange, stock_bulk_update
from oms.services.orders import order_cancel
from routing.models import Lane, RoutingDecision
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shelf(merchant):
    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC")
    Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier="Express A",
        shipping_cost=Decimal("8.00"),
        transit_hours=20.0,
        on_time_rate=0.98,
    )
    product = ProductFactory(merchant=merchant, sku="KETTLE")
    batch = BatchFactory(warehouse=warehouse, product=product, on_hand=2)
    return {"warehouse": warehouse, "product": product, "batch": batch}


def test_a_receipt_routes_the_waiting_order_and_only_orders_of_that_product(merchant, shelf):
    waiting = make_order(merchant=merchant, lines=[(shelf["product"], 5)])
    other_product = ProductFactory(merchant=merchant, sku="TEAPOT")
    other = make_order(merchant=merchant, lines=[(other_product, 1)])
    for order in (waiting, other):
        order.refresh_from_db()
        assert order.status == OrderStatus.NEEDS_ATTENTION
    stock_bulk_update(
        merchant=merchant,
        changes=[
            StockChange(
                warehouse=shelf["warehouse"],
                product=shelf["product"],
                batch_number=shelf["batch"].batch_number,
                delta=10,
            )
        ],
    )
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.status == OrderStatus.ROUTED
    assert InventoryBatch.objects.get(pk=shelf["batch"].pk).reserved == 5
    assert other.status == OrderStatus.NEEDS_ATTENTION
    assert RoutingDecision.objects.filter(order=other).count() == 1  # not tried again


def test_a_recount_downwards_tries_nothing(merchant, shelf):
    waiting = make_order(merchant=merchant, lines=[(shelf["product"], 5)])
    stock_bulk_update(
        merchant=merchant,
        changes=[
            StockChange(
                warehouse=shelf["warehouse"],
                product=shelf["product"],
                batch_number=shelf["batch"].batch_number,
                on_hand=1,
            )
        ],
    )
    assert RoutingDecision.objects.filter(order=waiting).count() == 1


def test_a_cancelled_order_frees_stock_for_the_one_waiting(merchant, shelf):
    holder = make_order(merchant=merchant, lines=[(shelf["product"], 2)])
    holder.refresh_from_db()
    assert holder.status == OrderStatus.ROUTED
    waiting = make_order(merchant=merchant, lines=[(shelf["product"], 2)])
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.NEEDS_ATTENTION
    order_cancel(order=holder, reason="customer changed their mind", actor="test")
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.ROUTED


def test_more_stock_saved_in_admin_routes_the_waiting_order(client, merchant, shelf):
    waiting = make_order(merchant=merchant, lines=[(shelf["product"], 5)])
    client.force_login(User.objects.create_superuser("root", password="pw-12345-long"))
    batch = shelf["batch"]
    response = client.post(
        f"/admin/oms/inventorybatch/{batch.pk}/change/",
        {
            "warehouse": batch.warehouse_id,
            "product": batch.product_id,
            "batch_number": batch.batch_number,
            "expiry_date": "",
            "on_hand": 9,
            "reservations-TOTAL_FORMS": 0,
            "reservations-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.ROUTED
