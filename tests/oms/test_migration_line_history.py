"""Migration 0009 gives every existing order line its product's SKU and name, on SQLite and
PostgreSQL alike."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("oms", "0008_merchant_api_rate_validated")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def back_to_latest(transactional_db):
    """Whatever the test does to the schema, the next test finds it fully migrated."""
    yield
    _migrate(_latest())


def _seed_lines(apps) -> dict[int, tuple[str, str]]:
    """Three lines of two products as the code before 0009 wrote them: line id -> product."""
    Merchant = apps.get_model("oms", "Merchant")
    SalesChannel = apps.get_model("oms", "SalesChannel")
    Product = apps.get_model("oms", "Product")
    Order = apps.get_model("oms", "Order")
    OrderLine = apps.get_model("oms", "OrderLine")
    merchant = Merchant.objects.create(code="m-history", name="History", currency="CNY")
    channel = SalesChannel.objects.create(
        merchant=merchant, code="pos", name="Store", kind="store_pos", signing_secret="chs_x"
    )
    sofa = Product.objects.create(
        merchant=merchant, sku="SOFA-1", name="Sofa", unit_value=Decimal("5999.00")
    )
    lamp = Product.objects.create(
        merchant=merchant, sku="LAMP-2", name="台灯", unit_value=Decimal("99.00")
    )
    expected = {}
    for number, products in enumerate(((sofa, lamp), (lamp,))):
        order = Order.objects.create(
            merchant=merchant,
            channel=channel,
            external_id=f"H-{number}",
            receiver_name="Li",
            receiver_phone="13800138000",
            province="Zhejiang",
            city="Hangzhou",
            address_line="1 West Lake Road",
            placed_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
            subtotal=Decimal("1"),
            total=Decimal("1"),
        )
        for product in products:
            line = OrderLine.objects.create(
                order=order,
                product=product,
                quantity=1,
                unit_price=product.unit_value,
                line_total=product.unit_value,
            )
            expected[line.pk] = (product.sku, product.name)
    return expected


def test_existing_lines_take_their_products_sku_and_name(back_to_latest):
    latest = _latest()
    expected = _seed_lines(_migrate(BEFORE))

    _migrate(latest)

    from oms.models import OrderLine

    got = {pk: (sku, name) for pk, sku, name in OrderLine.objects.values_list("pk", "sku", "name")}
    assert got == expected
