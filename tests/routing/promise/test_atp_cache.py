"""Available-to-promise is read from the cache and dropped when stock, warehouses or lanes move."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import MatchRuleSet
from oms.models import InventoryBatch, WarehouseStatus
from oms.services.inventory import StockChange, stock_bulk_update, stock_consume, stock_release
from oms.services.warehouses import warehouse_set_status
from routing.promise import atp
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(merchant):
    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC")
    product = ProductFactory(merchant=merchant, sku="TEA")
    BatchFactory(warehouse=warehouse, product=product, on_hand=10, batch_number="B1")
    return warehouse, product


def _units(merchant, product, province="上海") -> int:
    rows = atp.available_to_promise(merchant_id=merchant.pk, products=[product], province=province)
    return sum(b.available for b in rows[product.sku])


def _batch_queries(merchant, product) -> int:
    with CaptureQueriesContext(connection) as queries:
        _units(merchant, product)
    return sum("inventorybatch" in q["sql"].lower() for q in queries.captured_queries)


def test_a_second_read_comes_from_the_cache(merchant, stocked):
    _warehouse, product = stocked
    assert _batch_queries(merchant, product) == 1
    assert _batch_queries(merchant, product) == 0
    assert _units(merchant, product) == 10


def test_entries_are_per_province(merchant, stocked):
    _warehouse, product = stocked
    _units(merchant, product, "上海")
    with CaptureQueriesContext(connection) as queries:
        assert _units(merchant, product, "Zhejiang") == 10
    assert any("inventorybatch" in q["sql"].lower() for q in queries.captured_queries)


def test_a_reservation_a_release_and_a_shipment_each_drop_the_entry(merchant, stocked):
    _warehouse, product = stocked
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)  # orders ship alone
    assert _units(merchant, product) == 10
    order = make_order(merchant=merchant, lines=[(product, 3)])  # routed: 3 reserved
    order.refresh_from_db()
    assert order.status == "routed"
    assert _units(merchant, product) == 7
    with TestCase.captureOnCommitCallbacks(execute=True):
        stock_release(order=order)
    assert _units(merchant, product) == 10
    order2 = make_order(merchant=merchant, lines=[(product, 4)], external_id="second")
    order2.refresh_from_db()
    assert _units(merchant, product) == 6
    with TestCase.captureOnCommitCallbacks(execute=True):
        stock_consume(order=order2)
    assert _units(merchant, product) == 6  # shipped: gone from on hand and from reserved
    assert InventoryBatch.objects.get(batch_number="B1").on_hand == 6


def test_a_receipt_and_a_direct_batch_edit_drop_the_entry(merchant, stocked):
    warehouse, product = stocked
    assert _units(merchant, product) == 10
    with TestCase.captureOnCommitCallbacks(execute=True):
        stock_bulk_update(
            merchant=merchant,
            changes=[StockChange(warehouse, product, "B2", on_hand=5)],
        )
    assert _units(merchant, product) == 15
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = InventoryBatch.objects.get(batch_number="B2")
        batch.expiry_date = timezone.localdate() + timedelta(days=3)  # ambient needs 30 days
        batch.save()
    assert _units(merchant, product) == 10


def test_a_write_around_the_services_is_seen_once_the_products_entry_is_dropped(merchant, stocked):
    warehouse, product = stocked
    assert _units(merchant, product) == 10
    InventoryBatch.objects.filter(product=product).update(on_hand=2)  # no service, no signal
    assert _units(merchant, product) == 10  # cached (TTL bounds such writes)
    atp.invalidate_products(merchant_id=merchant.pk, product_ids=[product.pk])
    assert _units(merchant, product) == 2


def test_a_paused_warehouse_drops_the_merchants_entries(merchant, stocked):
    warehouse, product = stocked
    assert _units(merchant, product) == 10
    with TestCase.captureOnCommitCallbacks(execute=True):
        warehouse_set_status(
            warehouse=warehouse, status=WarehouseStatus.PAUSED, reason="flood", actor="test"
        )
    assert _units(merchant, product) == 0


def test_an_evicted_version_token_never_resurrects_an_old_entry(merchant, stocked):
    from django.core.cache import cache

    _warehouse, product = stocked
    assert _units(merchant, product) == 10
    InventoryBatch.objects.filter(product=product).update(on_hand=4)
    cache.delete(f"promise:atp:v:{merchant.pk}:p{product.pk}")
    assert _units(merchant, product) == 4


def test_other_merchants_stock_never_counts(merchant, stocked):
    from tests.factories import MerchantFactory

    _warehouse, product = stocked
    other = MerchantFactory()
    theirs = ProductFactory(merchant=other, sku="TEA")
    BatchFactory(warehouse=WarehouseFactory(merchant=other), product=theirs, on_hand=99)
    assert _units(merchant, product) == 10
    assert _units(other, theirs) == 99
